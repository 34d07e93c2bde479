"""derived tables kept at ingest: cost rates per sales group, daily and weekly sales

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    money = sa.Numeric(precision=18, scale=2)
    op.create_table(
        "cost_rates",
        sa.Column("influencer_id", sa.String(length=64), nullable=False),
        sa.Column("brand", sa.String(length=100), nullable=True),
        sa.Column("product", sa.String(length=200), nullable=True),
        sa.Column("campaign", sa.String(length=200), nullable=True),
        sa.Column("per_order", sa.Float(), nullable=False),
        sa.Column("per_post", sa.Float(), nullable=False),
    )
    op.create_index(op.f("ix_cost_rates_influencer_id"), "cost_rates", ["influencer_id"])
    op.create_table(
        "daily_sales",
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("brand", sa.String(length=100), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("campaign", sa.String(length=200), nullable=True),
        sa.Column("attributed_revenue", money, nullable=False),
        sa.Column("attributed_orders", sa.BigInteger(), nullable=False),
        sa.Column("other_revenue", money, nullable=False),
        sa.Column("other_rows", sa.BigInteger(), nullable=False),
    )
    op.create_index(op.f("ix_daily_sales_date"), "daily_sales", ["date"])
    op.create_table(
        "weekly_sales",
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("influencer_id", sa.String(length=64), nullable=False),
        sa.Column("brand", sa.String(length=100), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("campaign", sa.String(length=200), nullable=True),
        sa.Column("orders", sa.BigInteger(), nullable=False),
        sa.Column("revenue", money, nullable=False),
    )
    op.create_index(op.f("ix_weekly_sales_week"), "weekly_sales", ["week"])
    op.create_index(op.f("ix_weekly_sales_influencer_id"), "weekly_sales", ["influencer_id"])
    # Filled after the schema reaches head (storage.db.DERIVED_TABLES_REVISION).


def downgrade() -> None:
    for table in ("weekly_sales", "daily_sales", "cost_rates"):
        op.drop_table(table)
