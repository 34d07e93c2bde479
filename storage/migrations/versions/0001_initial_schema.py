"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "influencers",
        sa.Column("influencer_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("gender", sa.String(length=20), nullable=False),
        sa.Column("follower_count", sa.BigInteger(), nullable=False),
        sa.Column("platform", sa.String(length=50), nullable=False),
        sa.PrimaryKeyConstraint("influencer_id", name=op.f("pk_influencers")),
    )
    op.create_table(
        "uploads",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("filename", sa.String(length=500), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("kinds", sa.String(length=200), nullable=False),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("uploaded_by", sa.String(length=200), nullable=True),
        sa.Column("channel", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("rows_seen", sa.Integer(), nullable=False),
        sa.Column("rows_inserted", sa.Integer(), nullable=False),
        sa.Column("rows_updated", sa.Integer(), nullable=False),
        sa.Column("rows_unchanged", sa.Integer(), nullable=False),
        sa.Column("rows_rejected", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uploads")),
    )
    op.create_index(op.f("ix_uploads_sha256"), "uploads", ["sha256"], unique=False)
    op.create_table(
        "payouts",
        sa.Column("row_key", sa.String(length=160), nullable=False),
        sa.Column("payout_id", sa.String(length=128), nullable=True),
        sa.Column("influencer_id", sa.String(length=64), nullable=False),
        sa.Column("basis", sa.String(length=50), nullable=False),
        sa.Column("rate", sa.Float(), nullable=True),
        sa.Column("orders", sa.Integer(), nullable=True),
        sa.Column(
            "total_payout", sa.Numeric(precision=14, scale=2, asdecimal=False), nullable=False
        ),
        sa.Column("payout_date", sa.Date(), nullable=True),
        sa.Column("campaign", sa.String(length=200), nullable=True),
        sa.Column("brand", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["influencer_id"],
            ["influencers.influencer_id"],
            name=op.f("fk_payouts_influencer_id_influencers"),
        ),
        sa.PrimaryKeyConstraint("row_key", name=op.f("pk_payouts")),
    )
    op.create_index(op.f("ix_payouts_brand"), "payouts", ["brand"], unique=False)
    op.create_index(op.f("ix_payouts_campaign"), "payouts", ["campaign"], unique=False)
    op.create_index(op.f("ix_payouts_influencer_id"), "payouts", ["influencer_id"], unique=False)
    op.create_index(op.f("ix_payouts_payout_date"), "payouts", ["payout_date"], unique=False)
    op.create_table(
        "posts",
        sa.Column("post_id", sa.String(length=128), nullable=False),
        sa.Column("influencer_id", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=50), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("reach", sa.BigInteger(), nullable=False),
        sa.Column("likes", sa.BigInteger(), nullable=False),
        sa.Column("comments", sa.BigInteger(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("caption", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["influencer_id"],
            ["influencers.influencer_id"],
            name=op.f("fk_posts_influencer_id_influencers"),
        ),
        sa.PrimaryKeyConstraint("post_id", name=op.f("pk_posts")),
    )
    op.create_index(op.f("ix_posts_date"), "posts", ["date"], unique=False)
    op.create_index(op.f("ix_posts_influencer_id"), "posts", ["influencer_id"], unique=False)
    op.create_table(
        "tracking",
        sa.Column("row_key", sa.String(length=160), nullable=False),
        sa.Column("tracking_id", sa.String(length=128), nullable=True),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("influencer_id", sa.String(length=64), nullable=True),
        sa.Column("brand", sa.String(length=100), nullable=False),
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("campaign", sa.String(length=200), nullable=True),
        sa.Column("user_id", sa.String(length=128), nullable=True),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("revenue", sa.Numeric(precision=14, scale=2, asdecimal=False), nullable=False),
        sa.ForeignKeyConstraint(
            ["influencer_id"],
            ["influencers.influencer_id"],
            name=op.f("fk_tracking_influencer_id_influencers"),
        ),
        sa.PrimaryKeyConstraint("row_key", name=op.f("pk_tracking")),
    )
    op.create_index(op.f("ix_tracking_brand"), "tracking", ["brand"], unique=False)
    op.create_index(op.f("ix_tracking_campaign"), "tracking", ["campaign"], unique=False)
    op.create_index(op.f("ix_tracking_date"), "tracking", ["date"], unique=False)
    op.create_index(op.f("ix_tracking_influencer_id"), "tracking", ["influencer_id"], unique=False)
    op.create_index(op.f("ix_tracking_product"), "tracking", ["product"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_tracking_product"), table_name="tracking")
    op.drop_index(op.f("ix_tracking_influencer_id"), table_name="tracking")
    op.drop_index(op.f("ix_tracking_date"), table_name="tracking")
    op.drop_index(op.f("ix_tracking_campaign"), table_name="tracking")
    op.drop_index(op.f("ix_tracking_brand"), table_name="tracking")
    op.drop_table("tracking")
    op.drop_index(op.f("ix_posts_influencer_id"), table_name="posts")
    op.drop_index(op.f("ix_posts_date"), table_name="posts")
    op.drop_table("posts")
    op.drop_index(op.f("ix_payouts_payout_date"), table_name="payouts")
    op.drop_index(op.f("ix_payouts_influencer_id"), table_name="payouts")
    op.drop_index(op.f("ix_payouts_campaign"), table_name="payouts")
    op.drop_index(op.f("ix_payouts_brand"), table_name="payouts")
    op.drop_table("payouts")
    op.drop_index(op.f("ix_uploads_sha256"), table_name="uploads")
    op.drop_table("uploads")
    op.drop_table("influencers")
