"""per-person budgets and the operator role

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""
import os
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

IN_FLIGHT = "status IN ('pending', 'streaming')"


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_admin', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('disabled', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('max_replies_in_flight', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('max_requests_per_minute', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('monthly_spend_limit', sa.Float(), nullable=True))
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('paid_with_own_key', sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_index('ix_messages_author_in_flight', 'messages', ['author_id'],
                    sqlite_where=sa.text(IN_FLIGHT), postgresql_where=sa.text(IN_FLIGHT))
    op.create_index('ix_messages_author_updated', 'messages', ['author_id', 'updated_at'])
    op.create_table('spend_records',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('amount', sa.Float(), nullable=False),
    sa.Column('paid_with_own_key', sa.Boolean(), nullable=False),
    sa.Column('spent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_spend_records_user_spent', 'spend_records', ['user_id', 'spent_at'])
    op.create_table('site_settings',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    # An install that already has people keeps its first account as its operator, as a new
    # install would have it (unless ADMIN_EMAILS names the operators).
    if not os.environ.get('ADMIN_EMAILS', '').strip():
        op.execute(sa.text(
            "UPDATE users SET is_admin = TRUE WHERE id = "
            "(SELECT id FROM users ORDER BY created_at, id LIMIT 1)"
        ))


def downgrade() -> None:
    op.drop_index('ix_spend_records_user_spent', table_name='spend_records')
    op.drop_table('site_settings')
    op.drop_table('spend_records')
    op.drop_index('ix_messages_author_updated', table_name='messages')
    op.drop_index('ix_messages_author_in_flight', table_name='messages')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('paid_with_own_key')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('monthly_spend_limit')
        batch_op.drop_column('max_requests_per_minute')
        batch_op.drop_column('max_replies_in_flight')
        batch_op.drop_column('disabled')
        batch_op.drop_column('is_admin')
