"""conversations are trees: messages name the message they follow and their place on its branch;
chats remember the branch left selected

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0012'
down_revision: Union[str, Sequence[str], None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Every chat so far is one branch: each message follows the one written before it.
_LINK_EXISTING = """
UPDATE messages SET parent_id = chain.previous, depth = chain.place
FROM (
    SELECT id,
           LAG(id) OVER (PARTITION BY session_id ORDER BY seq) AS previous,
           ROW_NUMBER() OVER (PARTITION BY session_id ORDER BY seq) AS place
    FROM messages
) AS chain
WHERE messages.id = chain.id
"""

_LEAVES = """
UPDATE chat_sessions SET current_leaf_id = (
    SELECT m.id FROM messages m WHERE m.session_id = chat_sessions.id ORDER BY m.seq DESC LIMIT 1
)
"""


def upgrade() -> None:
    # Plain ADD COLUMN on both databases: SQLite's batch mode would rebuild `messages`, dropping
    # the search index's triggers with it.
    op.add_column('messages', sa.Column('parent_id', sa.Uuid(), nullable=True))
    op.add_column('messages', sa.Column('depth', sa.Integer(), nullable=False, server_default='1'))
    op.add_column('chat_sessions', sa.Column('current_leaf_id', sa.Uuid(), nullable=True))
    op.execute(_LINK_EXISTING)
    op.execute(_LEAVES)
    op.create_index('ix_messages_session_parent', 'messages', ['session_id', 'parent_id'])


def downgrade() -> None:
    op.drop_index('ix_messages_session_parent', table_name='messages')
    with op.batch_alter_table('chat_sessions', schema=None) as batch_op:
        batch_op.drop_column('current_leaf_id')
    # SQLite drops a column in place (3.35+), keeping the search triggers; a branch's other
    # versions stay as later messages, as they would have been written.
    op.drop_column('messages', 'depth')
    op.drop_column('messages', 'parent_id')
