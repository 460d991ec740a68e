"""full-text search of messages: a GIN index on PostgreSQL, an FTS5 table kept by triggers on SQLite

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""
from typing import Sequence, Union

from alembic import op

from chat_app import search_index


revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    search_index.create(op.get_bind())


def downgrade() -> None:
    search_index.drop(op.get_bind())
