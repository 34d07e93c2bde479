"""unusual alerts: a rule's direction and min_value, the expectation a message owes

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alert_rules") as batch:
        batch.add_column(sa.Column("direction", sa.String(length=4), nullable=True))
        batch.add_column(sa.Column("min_value", sa.Float(), nullable=True))
    with op.batch_alter_table("alert_outbox") as batch:
        batch.add_column(sa.Column("expected", sa.Float(), nullable=True))
        batch.add_column(sa.Column("band", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert_outbox") as batch:
        batch.drop_column("band")
        batch.drop_column("expected")
    with op.batch_alter_table("alert_rules") as batch:
        batch.drop_column("min_value")
        batch.drop_column("direction")
