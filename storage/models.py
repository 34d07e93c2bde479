"""Tables of the store, in SQLAlchemy Core so the same definitions serve SQLite and PostgreSQL.

Money is NUMERIC(14, 2) (exact on PostgreSQL); values come back as floats because every consumer
aggregates them with pandas or formats them, and a mix of Decimal and float is a bug magnet.
Tracking rows and payouts may lack an id of their own, so each has a `row_key`: the source id when
there is one, otherwise a hash of the row's normalised values (see `storage.ingest.parse`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Money = Numeric(14, 2, asdecimal=False)


class UTCDateTime(TypeDecorator):
    """Instants stored in UTC and read back as aware UTC datetimes, on both stores.

    SQLite has no time zones: an aware 09:00 IST would be stored as "09:00" and read back naive,
    5.5 hours off once taken for UTC. Converting on the way in and out keeps comparisons such as
    "notified more than 24 hours ago" right everywhere.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        value = value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


influencers = Table(
    "influencers",
    metadata,
    Column("influencer_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("category", String(100), nullable=False),
    Column("gender", String(20), nullable=False),
    Column("follower_count", BigInteger, nullable=False),
    Column("platform", String(50), nullable=False),
)

posts = Table(
    "posts",
    metadata,
    Column("post_id", String(128), primary_key=True),
    Column("influencer_id", String(64), ForeignKey("influencers.influencer_id"), nullable=False),
    Column("platform", String(50), nullable=False),
    Column("date", Date, nullable=False),
    Column("reach", BigInteger, nullable=False),
    Column("likes", BigInteger, nullable=False),
    Column("comments", BigInteger, nullable=False),
    Column("url", Text),
    Column("caption", Text),
    Index(None, "influencer_id"),
    Index(None, "date"),
)

tracking = Table(
    "tracking",
    metadata,
    Column("row_key", String(160), primary_key=True),
    Column("tracking_id", String(128)),
    Column("source", String(100), nullable=False),
    Column("influencer_id", String(64), ForeignKey("influencers.influencer_id")),
    Column("brand", String(100), nullable=False),
    Column("product", String(200), nullable=False),
    Column("campaign", String(200)),
    Column("user_id", String(128)),
    Column("date", Date, nullable=False),
    Column("orders", Integer, nullable=False),
    Column("revenue", Money, nullable=False),
    # Only what answers and loads read tracking by (migration 0009 says how that was found).
    Index(None, "date"),
    Index(None, "influencer_id"),
)

# All-time sums of tracking per (influencer, brand, product, campaign), kept exact by ingest
# (storage.tracking_rollups) in the same transaction as the rows. Every cost allocation needs
# each payout's all-time orders and revenue; aggregating them from a million tracking rows took
# about a second per query, this table holds ~60 k rows for that year. influencer_id NULL holds
# the unattributed rows, so the brands and products it lists are exactly those tracking has.
tracking_totals = Table(
    "tracking_totals",
    metadata,
    Column("influencer_id", String(64)),
    Column("brand", String(100), nullable=False),
    Column("product", String(200), nullable=False),
    Column("campaign", String(200)),
    Column("orders", BigInteger, nullable=False),
    Column("revenue", Numeric(18, 2, asdecimal=False), nullable=False),
    Column("row_count", BigInteger, nullable=False),
    Index(None, "influencer_id"),
)

payouts = Table(
    "payouts",
    metadata,
    Column("row_key", String(160), primary_key=True),
    Column("payout_id", String(128)),
    Column("influencer_id", String(64), ForeignKey("influencers.influencer_id"), nullable=False),
    Column("basis", String(50), nullable=False),
    Column("rate", Float),
    Column("orders", Integer),
    Column("total_payout", Money, nullable=False),
    Column("payout_date", Date),
    Column("campaign", String(200)),
    Column("brand", String(100)),
    Index(None, "influencer_id"),
    Index(None, "payout_date"),
    Index(None, "brand"),
    Index(None, "campaign"),
)

# What each payout spreads over (docs/metrics.md, rules 1, 2 and 0), kept by ingest
# (storage.ledger_basis) like tracking_totals: it depends on all the data but on no query, and
# computing it per query was most of every answer's time. payout_pairs: the tracking groups a
# payout may spread over, with their all-time sums; payout_plans: one row per payout with its
# totals over those groups, its number of posts and the rule that spreads it.
payout_pairs = Table(
    "payout_pairs",
    metadata,
    Column("row_key", String(160), nullable=False),  # the payout's
    Column("influencer_id", String(64), nullable=False),
    Column("brand", String(100), nullable=False),
    Column("product", String(200), nullable=False),
    Column("campaign", String(200)),
    Column("orders", BigInteger, nullable=False),
    Column("revenue", Numeric(18, 2, asdecimal=False), nullable=False),
    Index(None, "row_key"),
    Index(None, "influencer_id"),
)

payout_plans = Table(
    "payout_plans",
    metadata,
    Column("row_key", String(160), primary_key=True),
    Column("influencer_id", String(64), nullable=False),
    Column("brand", String(100)),
    Column("campaign", String(200)),
    Column("payout_date", Date),
    Column("total", Float, nullable=False),
    Column("orders_total", Float, nullable=False),
    Column("revenue_total", Float, nullable=False),
    Column("posts_total", Float, nullable=False),
    Column("rule", Integer, nullable=False),
    Index(None, "influencer_id"),
    Index(None, "rule"),  # every answer reads the few undivided payouts (rule 0)
)

# Attributed sales per ISO week (its Monday) and sales group, kept exact by ingest like
# tracking_totals (storage.tracking_rollups). A window's full weeks are read from here and only
# its first and last few days from tracking: a quarter of the rows for a 30-day window, a
# fifth for 90 days. Unattributed rows are not here: no answer reads them per influencer.
weekly_sales = Table(
    "weekly_sales",
    metadata,
    Column("week", Date, nullable=False),
    Column("influencer_id", String(64), nullable=False),
    Column("brand", String(100), nullable=False),
    Column("product", String(200), nullable=False),
    Column("campaign", String(200)),
    Column("orders", BigInteger, nullable=False),
    Column("revenue", Numeric(18, 2, asdecimal=False), nullable=False),
    Index(None, "week"),
    Index(None, "influencer_id"),
)

# What one attributed order and one post of an influencer cost, per sales group, with every
# payout's rule applied (storage.ledger_basis): rule 1 payouts as a cost per order of the group,
# rule 2 payouts as a cost per post booked to the group. A query's cost is then orders (or
# posts) in its window times these rates, instead of spreading ~30 k payouts per answer. product
# NULL: a rule 2 payout of an influencer with no attributed sales, which keeps only the payout's
# own brand and campaign (either may be NULL too).
cost_rates = Table(
    "cost_rates",
    metadata,
    Column("influencer_id", String(64), nullable=False),
    Column("brand", String(100)),
    Column("product", String(200)),
    Column("campaign", String(200)),
    Column("per_order", Float, nullable=False),
    Column("per_post", Float, nullable=False),
    Index(None, "influencer_id"),
)

# Sales per day and brand/product/campaign, attributed and not, kept exact by ingest like
# tracking_totals (storage.tracking_rollups). The incremental-revenue baseline reads a window and
# the equal window before it day by day: ~10 k rows a year here instead of ~1 M.
daily_sales = Table(
    "daily_sales",
    metadata,
    Column("date", Date, nullable=False),
    Column("brand", String(100), nullable=False),
    Column("product", String(200), nullable=False),
    Column("campaign", String(200)),
    Column("attributed_revenue", Numeric(18, 2, asdecimal=False), nullable=False),
    Column("attributed_orders", BigInteger, nullable=False),
    Column("other_revenue", Numeric(18, 2, asdecimal=False), nullable=False),
    Column("other_rows", BigInteger, nullable=False),
    Index(None, "date"),
)


def _influencer_sums(name: str, *grain: Column) -> Table:
    return Table(
        name,
        metadata,
        *grain,
        Column("influencer_id", String(64), nullable=False),
        Column("orders", BigInteger, nullable=False),
        Column("revenue", Numeric(18, 2, asdecimal=False), nullable=False),
        Column("sales_rows", BigInteger, nullable=False),  # attributed tracking rows summed
        Column("posts", BigInteger, nullable=False),
        Column("engagements", BigInteger, nullable=False),  # likes + comments of posts with reach
        Column("reach", BigInteger, nullable=False),
        Column("cost", Float, nullable=False),  # rule 1 and 2 shares (cost_rates applied)
        *(Index(None, c.name) for c in grain),
        Index(None, "influencer_id"),
    )


# Everything an answer needs per influencer, by day, by ISO week (its Monday) and of all time,
# kept exact by ingest (storage.influencer_rollups) after cost_rates: attributed sales, posts
# with their engagement, and their cost (rules 1 and 2 of docs/metrics.md applied, undivided
# payouts stay in payout_plans). An answer without brand/product/campaign filters reads its
# window's whole weeks and edge days here, about as many rows as influencers active in it,
# instead of multiplying sales groups by their rates over the whole cost_rates table.
influencer_days = _influencer_sums("influencer_days", Column("date", Date, nullable=False))
influencer_weeks = _influencer_sums("influencer_weeks", Column("week", Date, nullable=False))
influencer_totals = _influencer_sums("influencer_totals")

uploads = Table(
    "uploads",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("filename", String(500), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("kinds", String(200), nullable=False),
    Column("origin", String(20), nullable=False),
    Column("uploaded_by", String(200)),
    Column("channel", String(100)),
    Column("status", String(20), nullable=False),
    Column("rows_seen", Integer, nullable=False),
    Column("rows_inserted", Integer, nullable=False),
    Column("rows_updated", Integer, nullable=False),
    Column("rows_unchanged", Integer, nullable=False),
    Column("rows_rejected", Integer, nullable=False),
    Column("message", Text),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Index(None, "sha256"),
)

# A Slack file is loaded once, whatever Slack resends: the first process to insert its id owns it.
slack_files = Table(
    "slack_files",
    metadata,
    Column("file_id", String(64), primary_key=True),
    Column("channel", String(64), nullable=False),
    Column("user_id", String(64)),
    Column("filename", String(500)),
    Column("status", String(20), nullable=False),  # claimed, loaded, refused, failed
    Column("upload_id", Integer, ForeignKey("uploads.id")),
    Column("claimed_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime()),
)

# Scheduled work claims its period here first: the unique (job, period) makes a digest or an
# alert notification happen once however many schedulers run, restart or catch up.
job_runs = Table(
    "job_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job", String(100), nullable=False),  # "digest:C123", "alert:17"
    Column("period", String(40), nullable=False),  # "2025-W23", "2025-06-02T10"
    Column("status", String(20), nullable=False),  # running, done, failed, skipped
    Column("owner", String(100), nullable=False),  # host:pid of the claimant
    Column("claimed_at", UTCDateTime(), nullable=False),
    Column("lease_until", UTCDateTime()),  # the owner renews it; once it lapses, anyone may
    Column("finished_at", UTCDateTime()),
    Column("channel", String(64)),
    Column("message_ts", String(32)),
    Column("value", Float),
    Column("error", Text),
    UniqueConstraint("job", "period"),
)

digest_subscriptions = Table(
    "digest_subscriptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(64), nullable=False, unique=True),
    Column("day", String(3), nullable=False),  # mon..sun
    Column("time", String(5), nullable=False),  # HH:MM
    Column("timezone", String(64), nullable=False),
    Column("filters", String(500), nullable=False),  # query-language filters, e.g. brand=X
    Column("created_by", String(64)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("disabled_reason", Text),
)

alert_rules = Table(
    "alert_rules",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(64), nullable=False),
    Column("created_by", String(64)),
    Column("metric", String(40), nullable=False),
    Column("op", String(8), nullable=False),  # < <= > >= drop rise unusual
    # a value, a percentage for drop/rise, the band's sensitivity for unusual
    Column("threshold", Float, nullable=False),
    Column("window_days", Integer, nullable=False),
    Column("each", String(20)),  # influencer, brand, platform, persona, or NULL for the scope
    Column("filters", String(500), nullable=False),
    Column("min_spend", Float, nullable=False),
    Column("pending", Integer, nullable=False),  # evaluations in a row before firing
    Column("muted_until", UTCDateTime()),
    Column("active", Boolean, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("direction", String(4)),  # unusual: down, up, both
    Column("min_value", Float),  # unusual: entities expected below it never fire
)

alert_states = Table(
    "alert_states",
    metadata,
    Column("rule_id", Integer, ForeignKey("alert_rules.id"), primary_key=True),
    Column("entity", String(200), primary_key=True),  # "" for the rule's whole scope
    Column("state", String(10), nullable=False),  # OK, FIRING
    Column("streak", Integer, nullable=False),  # evaluations in a row with the condition true
    Column("since", UTCDateTime()),
    Column("value", Float),
    Column("message_ts", String(32)),
    Column("notified_at", UTCDateTime()),
)

alert_evaluations = Table(
    "alert_evaluations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rule_id", Integer, ForeignKey("alert_rules.id"), nullable=False),
    Column("entity", String(200), nullable=False),
    Column("evaluated_at", UTCDateTime(), nullable=False),
    Column("value", Float),
    Column("state", String(10), nullable=False),
    Column("posted", Boolean, nullable=False),
    Column("error", Text),
    Index(None, "rule_id", "evaluated_at"),
)

# Alert messages owed to a channel, written in the transaction that moves the alert's state
# (storage.schedules.move_state) and delivered until Slack takes them (bot.notifications): a
# state change is never recorded without its message, nor its message lost when Slack fails.
alert_outbox = Table(
    "alert_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rule_id", Integer, ForeignKey("alert_rules.id"), nullable=False),
    Column("entity", String(200), nullable=False),
    Column("event", String(10), nullable=False),  # fired, reminded, resolved
    Column("value", Float),
    Column("window_start", Date, nullable=False),
    Column("window_end", Date, nullable=False),
    Column("status", String(12), nullable=False),  # pending, delivered, failed, superseded
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("delivered_at", UTCDateTime()),
    Column("message_ts", String(32)),
    Column("error", Text),
    Column("expected", Float),  # unusual: the expected value and the band's half-width
    Column("band", Float),
    Index(None, "status", "next_attempt_at"),
)
