"""invitations bind to accounts through their own links

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('shared_access', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('invite_token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_shared_access_user_id'), ['user_id'], unique=False)
        batch_op.create_unique_constraint('uq_shared_access_invite_token', ['invite_token'])
        batch_op.create_foreign_key('fk_shared_access_user_id_users', 'users', ['user_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('shared_access', schema=None) as batch_op:
        batch_op.drop_constraint('fk_shared_access_user_id_users', type_='foreignkey')
        batch_op.drop_constraint('uq_shared_access_invite_token', type_='unique')
        batch_op.drop_index(batch_op.f('ix_shared_access_user_id'))
        batch_op.drop_column('invite_token')
        batch_op.drop_column('user_id')
