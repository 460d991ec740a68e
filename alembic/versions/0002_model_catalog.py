"""model catalog

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 04:35:39.420904
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('models',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('provider', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('provider_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('capabilities', sa.JSON(), nullable=False),
    sa.Column('context_window', sa.Integer(), nullable=True),
    sa.Column('input_per_mtok', sa.Float(), nullable=True),
    sa.Column('output_per_mtok', sa.Float(), nullable=True),
    sa.Column('per_image', sa.Float(), nullable=True),
    sa.Column('per_second', sa.Float(), nullable=True),
    sa.Column('litellm_model', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('replicate_model', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('api_base', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('key_env', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('catalog_version', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('models', schema=None) as batch_op:
        batch_op.create_index('ix_models_type_position', ['type', 'position'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('models', schema=None) as batch_op:
        batch_op.drop_index('ix_models_type_position')

    op.drop_table('models')
