"""replies note how many earlier messages their prompt sent, and what of the conversation it left out

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prompt_messages', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('left_out_messages', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('left_out_files', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('left_out_files')
        batch_op.drop_column('left_out_messages')
        batch_op.drop_column('prompt_messages')
