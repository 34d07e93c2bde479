"""tracking keeps only the indexes answers and loads use: date and influencer_id

Since the answers read the derived tables, tracking itself is read for a window's edge days (by
date), the data's first and last date (date), and the rollup partitions of a small load (by
influencer). EXPLAIN of every statement that reads tracking, for the slash commands with and
without brand, product, campaign and influencer filters, on a year of sample data (1.08 M
rows): ix_tracking_product was never used; ix_tracking_brand and ix_tracking_campaign only in a
bitmap AND with the date index, and those statements took 158 ms without them against 192 ms
with them. Each index cost every load row by row; a bulk load rebuilds the two left.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_DROPPED = ("brand", "campaign", "product")


def upgrade() -> None:
    for column in _DROPPED:
        op.drop_index(op.f(f"ix_tracking_{column}"), table_name="tracking")


def downgrade() -> None:
    for column in _DROPPED:
        op.create_index(op.f(f"ix_tracking_{column}"), "tracking", [column], unique=False)
