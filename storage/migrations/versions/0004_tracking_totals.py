"""tracking totals per influencer, brand, product and campaign

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
    op.create_table(
        "tracking_totals",
        sa.Column("influencer_id", sa.String(length=64), nullable=True),
        sa.Column("brand", sa.String(length=100), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("campaign", sa.String(length=200), nullable=True),
        sa.Column("orders", sa.BigInteger(), nullable=False),
        sa.Column("revenue", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
    )
    op.create_index(op.f("ix_tracking_totals_influencer_id"), "tracking_totals", ["influencer_id"])
    # A store that already holds tracking rows gets its totals now, in the upgrade transaction.
    op.execute(
        "INSERT INTO tracking_totals "
        "(influencer_id, brand, product, campaign, orders, revenue, row_count) "
        "SELECT influencer_id, brand, product, campaign, sum(orders), sum(revenue), count(*) "
        "FROM tracking GROUP BY influencer_id, brand, product, campaign"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_tracking_totals_influencer_id"), table_name="tracking_totals")
    op.drop_table("tracking_totals")
