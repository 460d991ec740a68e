"""media uploads wait unattached; thumbnails

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('media_files', schema=None) as batch_op:
        batch_op.add_column(sa.Column('thumb_key', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True))
        batch_op.alter_column('session_id',
               existing_type=sa.Uuid(),
               nullable=True)
        batch_op.create_index('ix_media_files_owner_pending', ['owner_id', 'message_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('media_files', schema=None) as batch_op:
        batch_op.drop_index('ix_media_files_owner_pending')
        batch_op.alter_column('session_id',
               existing_type=sa.Uuid(),
               nullable=False)
        batch_op.drop_column('thumb_key')

