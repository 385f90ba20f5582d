"""Opt-in statistics: daily rollups of the consent log and their watermark.

Revision ID: 0002_admin
Revises: 0001_initial
"""
from alembic import op
import sqlalchemy as sa

revision = '0002_admin'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stats_daily',
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('decisions', sa.BigInteger(), nullable=False),
    sa.Column('advertising_granted', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('site_id', 'day', 'action')
    )
    op.create_table('stats_partner_daily',
    sa.Column('site_id', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('offered', sa.BigInteger(), nullable=False),
    sa.Column('granted', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('site_id', 'day', 'partner_id')
    )
    op.create_table('stats_rollup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_id', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade():
    op.drop_table('stats_rollup')
    op.drop_table('stats_partner_daily')
    op.drop_table('stats_daily')
