"""derived tables kept at ingest: tracking totals, payout pairs and plans

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    money = sa.Numeric(precision=18, scale=2)
    op.create_table(
        "tracking_totals",
        sa.Column("influencer_id", sa.String(length=64), nullable=True),
        sa.Column("brand", sa.String(length=100), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("campaign", sa.String(length=200), nullable=True),
        sa.Column("orders", sa.BigInteger(), nullable=False),
        sa.Column("revenue", money, nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
    )
    op.create_index(op.f("ix_tracking_totals_influencer_id"), "tracking_totals", ["influencer_id"])
    op.create_table(
        "payout_pairs",
        sa.Column("row_key", sa.String(length=160), nullable=False),
        sa.Column("influencer_id", sa.String(length=64), nullable=False),
        sa.Column("brand", sa.String(length=100), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("campaign", sa.String(length=200), nullable=True),
        sa.Column("orders", sa.BigInteger(), nullable=False),
        sa.Column("revenue", money, nullable=False),
    )
    op.create_index(op.f("ix_payout_pairs_row_key"), "payout_pairs", ["row_key"])
    op.create_index(op.f("ix_payout_pairs_influencer_id"), "payout_pairs", ["influencer_id"])
    op.create_table(
        "payout_plans",
        sa.Column("row_key", sa.String(length=160), nullable=False),
        sa.Column("influencer_id", sa.String(length=64), nullable=False),
        sa.Column("brand", sa.String(length=100), nullable=True),
        sa.Column("campaign", sa.String(length=200), nullable=True),
        sa.Column("payout_date", sa.Date(), nullable=True),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("orders_total", sa.Float(), nullable=False),
        sa.Column("revenue_total", sa.Float(), nullable=False),
        sa.Column("posts_total", sa.Float(), nullable=False),
        sa.Column("rule", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("row_key", name=op.f("pk_payout_plans")),
    )
    op.create_index(op.f("ix_payout_plans_influencer_id"), "payout_plans", ["influencer_id"])
    # Filled after the schema reaches head (storage.db.DERIVED_TABLES_REVISION).


def downgrade() -> None:
    for table in ("payout_plans", "payout_pairs", "tracking_totals"):
        op.drop_table(table)
