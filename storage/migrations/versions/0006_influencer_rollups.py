"""derived tables kept at ingest: sales, posts and cost per influencer by day, week and all time;
payout plans indexed by rule

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TABLES = (("influencer_days", "date"), ("influencer_weeks", "week"), ("influencer_totals", None))


def upgrade() -> None:
    for name, grain in _TABLES:
        columns = [sa.Column(grain, sa.Date(), nullable=False)] if grain else []
        op.create_table(
            name,
            *columns,
            sa.Column("influencer_id", sa.String(length=64), nullable=False),
            sa.Column("orders", sa.BigInteger(), nullable=False),
            sa.Column("revenue", sa.Numeric(precision=18, scale=2), nullable=False),
            sa.Column("sales_rows", sa.BigInteger(), nullable=False),
            sa.Column("posts", sa.BigInteger(), nullable=False),
            sa.Column("engagements", sa.BigInteger(), nullable=False),
            sa.Column("reach", sa.BigInteger(), nullable=False),
            sa.Column("cost", sa.Float(), nullable=False),
        )
        if grain:
            op.create_index(op.f(f"ix_{name}_{grain}"), name, [grain])
        op.create_index(op.f(f"ix_{name}_influencer_id"), name, ["influencer_id"])
    op.create_index(op.f("ix_payout_plans_rule"), "payout_plans", ["rule"])
    # Filled after the schema reaches head (storage.db.DERIVED_TABLES_REVISION).


def downgrade() -> None:
    op.drop_index(op.f("ix_payout_plans_rule"), table_name="payout_plans")
    for name, _grain in reversed(_TABLES):
        op.drop_table(name)
