"""replies in flight have a runner, and a chat has at most one

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

IN_FLIGHT = "status IN ('pending', 'streaming')"


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('runner', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True))
    # A server that stopped could leave several replies of one chat in flight; all but the
    # latest end as interrupted, so the one-in-flight rule can hold.
    op.execute(sa.text(f"""
        UPDATE messages SET status = 'error',
               error = 'This reply was interrupted before it finished. Retry it.'
         WHERE {IN_FLIGHT}
           AND EXISTS (SELECT 1 FROM messages later
                        WHERE later.session_id = messages.session_id
                          AND later.seq > messages.seq
                          AND later.status IN ('pending', 'streaming'))
    """))
    op.create_index('uq_messages_one_in_flight', 'messages', ['session_id'], unique=True,
                    sqlite_where=sa.text(IN_FLIGHT), postgresql_where=sa.text(IN_FLIGHT))


def downgrade() -> None:
    op.drop_index('uq_messages_one_in_flight', table_name='messages')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('runner')
