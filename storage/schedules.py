"""What scheduled work acts on: digest subscriptions, alert rules, their states and evaluations.

Every SQL statement on these four tables is here, as `storage.claims` holds those on claims, so
the application above (`bot.service`, `bot.notifications`) speaks in records and never in SQL,
and a second transport or a new rule option changes one module. Records are plain data: the
rule's language and meaning belong to `insights.alerts`.

Exactly once across processes rests on compare-and-set updates: `move_state` changes an
alert's state only if it is still what the evaluation saw (`UPDATE ... WHERE state = 'OK'`)
and queues the message it owes in the same transaction, and `take` gives a queued message to
one sender at a time. At least once rests on the queue (`alert_outbox`): a message stays owed
until Slack takes it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from storage import models

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_subs, _rules, _states, _evals, _outbox = (
    models.digest_subscriptions,
    models.alert_rules,
    models.alert_states,
    models.alert_evaluations,
    models.alert_outbox,
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- digest subscriptions ---------------------------------------------------------------------


@dataclass(frozen=True)
class Subscription:
    id: int
    channel: str
    day: str  # mon..sun
    time: str  # HH:MM
    timezone: str
    filters: str  # query-language filters, e.g. "brand=MuscleBlaze"

    def due(self, now: dt.datetime) -> dt.datetime:
        """The latest scheduled time at or before `now`, in the subscription's zone."""
        zone = ZoneInfo(self.timezone)
        local = now.astimezone(zone)
        hour, minute = (int(x) for x in self.time.split(":"))
        days_back = (local.weekday() - DAYS.index(self.day)) % 7
        day = local.date() - dt.timedelta(days=days_back)
        slot = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)
        return slot if slot <= local else slot - dt.timedelta(days=7)


def subscriptions(db: Engine, channel: str | None = None) -> list[Subscription]:
    """Active subscriptions, oldest first; one channel's when `channel` is given."""
    statement = select(_subs).where(_subs.c.active.is_(True)).order_by(_subs.c.id)
    if channel:
        statement = statement.where(_subs.c.channel == channel)
    with db.connect() as conn:
        return [
            Subscription(r.id, r.channel, r.day, r.time, r.timezone, r.filters)
            for r in conn.execute(statement)
        ]


def subscribe(
    db: Engine, channel: str, *, day: str, time: str, timezone: str, filters: str, user: str | None
) -> None:
    """A channel's one subscription, created or replaced (and re-enabled)."""
    values = {
        "day": day,
        "time": time,
        "timezone": timezone,
        "filters": filters,
        "created_by": user,
        "created_at": _now(),
        "active": True,
        "disabled_reason": None,
    }
    with db.begin() as conn:
        if conn.execute(select(_subs.c.id).where(_subs.c.channel == channel)).first():
            conn.execute(update(_subs).where(_subs.c.channel == channel).values(**values))
        else:
            conn.execute(insert(_subs).values(channel=channel, **values))


def unsubscribe(db: Engine, channel: str) -> bool:
    with db.begin() as conn:
        return conn.execute(delete(_subs).where(_subs.c.channel == channel)).rowcount > 0


def disable_subscription(db: Engine, subscription_id: int, reason: str) -> None:
    with db.begin() as conn:
        conn.execute(
            update(_subs)
            .where(_subs.c.id == subscription_id)
            .values(active=False, disabled_reason=reason)
        )


# --- alert rules ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredRule:
    """An `alert_rules` row: where it posts, who made it, and the rule's own fields."""

    id: int
    channel: str
    created_by: str | None
    metric: str
    op: str
    threshold: float
    window_days: int
    each: str | None
    filters: str
    min_spend: float
    pending: int
    muted_until: dt.datetime | None
    direction: str | None = None
    min_value: float | None = None

    def muted(self, now: dt.datetime) -> bool:
        return self.muted_until is not None and self.muted_until > now


def _stored(row) -> StoredRule:
    return StoredRule(
        row.id, row.channel, row.created_by, row.metric, row.op, row.threshold,
        row.window_days, row.each, row.filters, row.min_spend, row.pending, row.muted_until,
        row.direction, row.min_value,
    )  # fmt: skip


def add_rule(
    db: Engine,
    channel: str,
    user: str | None,
    *,
    metric: str,
    op: str,
    threshold: float,
    window_days: int,
    each: str | None,
    filters: str,
    min_spend: float,
    pending: int,
    direction: str | None = None,
    min_value: float | None = None,
) -> int:
    """A new active rule; returns its id."""
    with db.begin() as conn:
        return conn.execute(
            insert(_rules)
            .values(
                channel=channel, created_by=user, metric=metric, op=op, threshold=threshold,
                window_days=window_days, each=each, filters=filters, min_spend=min_spend,
                pending=pending, active=True, created_at=_now(), direction=direction,
                min_value=min_value,
            )
            .returning(_rules.c.id)
        ).scalar_one()  # fmt: skip


def rules(
    db: Engine,
    rule_id: int | None = None,
    channel: str | None = None,
    active: bool | None = True,
) -> list[StoredRule]:
    """Rules in id order: active ones (`active=None`: removed ones too), one rule's when
    `rule_id` is given, one channel's when `channel` is."""
    statement = select(_rules).order_by(_rules.c.id)
    if active is not None:
        statement = statement.where(_rules.c.active.is_(active))
    if rule_id is not None:
        statement = statement.where(_rules.c.id == rule_id)
    if channel is not None:
        statement = statement.where(_rules.c.channel == channel)
    with db.connect() as conn:
        return [_stored(r) for r in conn.execute(statement)]


def firing_rule_ids(db: Engine) -> set[int]:
    """Rules with at least one entity FIRING."""
    with db.connect() as conn:
        statement = select(_states.c.rule_id).where(_states.c.state == "FIRING").distinct()
        return set(conn.execute(statement).scalars())


def deactivate_rule(db: Engine, rule_id: int) -> bool:
    """Stop evaluating a rule (its history stays); False when there is no such rule."""
    with db.begin() as conn:
        done = conn.execute(update(_rules).where(_rules.c.id == rule_id).values(active=False))
        return done.rowcount > 0


def mute_rule(db: Engine, rule_id: int, until: dt.datetime) -> bool:
    with db.begin() as conn:
        done = conn.execute(update(_rules).where(_rules.c.id == rule_id).values(muted_until=until))
        return done.rowcount > 0


def ensure_default_rule(db: Engine, channel: str, threshold: float) -> bool:
    """The settings' default rule (roas < threshold over 7 days) once; True when created."""
    with db.begin() as conn:
        exists = conn.execute(
            select(_rules.c.id).where(
                _rules.c.created_by == "settings",
                _rules.c.channel == channel,
                _rules.c.metric == "roas",
                _rules.c.threshold == threshold,
            )
        ).first()
        if exists is not None:
            return False
        conn.execute(
            insert(_rules).values(
                channel=channel, created_by="settings", metric="roas", op="<",
                threshold=threshold, window_days=7, each=None, filters="", min_spend=0,
                pending=1, active=True, created_at=_now(),
            )
        )  # fmt: skip
        return True


# --- alert states and evaluations -------------------------------------------------------------


@dataclass(frozen=True)
class StoredState:
    state: str  # OK, FIRING
    streak: int
    notified_at: dt.datetime | None
    message_ts: str | None


def states(db: Engine, rule_id: int) -> dict[str, StoredState]:
    """Each entity's state ("" is the rule's whole scope)."""
    statement = select(_states).where(_states.c.rule_id == rule_id)
    with db.connect() as conn:
        return {
            r.entity: StoredState(r.state, r.streak, r.notified_at, r.message_ts)
            for r in conn.execute(statement)
        }


def ensure_state(db: Engine, rule_id: int, entity: str) -> StoredState:
    """The entity's state, created OK the first time it is evaluated."""
    dialect = postgresql if db.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(_states)
        .values(rule_id=rule_id, entity=entity, state="OK", streak=0)
        .on_conflict_do_nothing()
    )
    with db.begin() as conn:
        conn.execute(statement)
    return states(db, rule_id)[entity]


def _key(rule_id: int, entity: str):
    return (_states.c.rule_id == rule_id) & (_states.c.entity == entity)


def set_streak(db: Engine, rule_id: int, entity: str, streak: int, value: float | None) -> None:
    with db.begin() as conn:
        conn.execute(
            update(_states).where(_key(rule_id, entity)).values(streak=streak, value=value)
        )


@dataclass(frozen=True)
class Owed:
    """What a state change owes its channel: the message's figures, delivered later."""

    value: float | None
    window_start: dt.date
    window_end: dt.date
    expected: float | None = None  # unusual rules: the expected value and the band
    band: float | None = None


def move_state(
    db: Engine,
    rule_id: int,
    entity: str,
    event: str,
    now: dt.datetime,
    notified: dt.datetime | None,
    owed: Owed | None,
) -> bool:
    """Apply an event by compare-and-set and, in the same transaction, queue its message:
    True for the one evaluation whose update matched (of two racing, the other does nothing).

    fired: OK -> FIRING; resolved: FIRING -> OK (a fire still waiting to be delivered is then
    superseded: nobody needs to hear of an alert that is over); reminded: notified_at moves
    from `notified` to now."""
    key = _key(rule_id, entity)
    if event == "fired":
        move = update(_states).where(key, _states.c.state == "OK").values(state="FIRING", since=now)
    elif event == "resolved":
        move = update(_states).where(key, _states.c.state == "FIRING").values(state="OK", since=now)
    else:
        move = update(_states).where(key, _states.c.notified_at == notified).values(notified_at=now)
    with db.begin() as conn:
        if conn.execute(move).rowcount != 1:
            return False
        if event == "resolved":
            conn.execute(
                update(_outbox)
                .where(
                    _outbox.c.rule_id == rule_id,
                    _outbox.c.entity == entity,
                    _outbox.c.event == "fired",
                    _outbox.c.status.in_(("pending", "sending")),
                )
                .values(status="superseded")
            )
        if owed is not None:
            conn.execute(
                insert(_outbox).values(
                    rule_id=rule_id, entity=entity, event=event, value=owed.value,
                    window_start=owed.window_start, window_end=owed.window_end,
                    expected=owed.expected, band=owed.band,
                    status="pending", attempts=0, next_attempt_at=now, created_at=now,
                )
            )  # fmt: skip
        return True


@dataclass(frozen=True)
class OwedMessage:
    id: int
    rule_id: int
    entity: str
    event: str
    value: float | None
    window_start: dt.date
    window_end: dt.date
    attempts: int
    next_attempt_at: dt.datetime
    expected: float | None = None
    band: float | None = None


def owed(db: Engine, now: dt.datetime, rule_id: int | None = None) -> list[OwedMessage]:
    """Messages due for delivery (waiting, or taken by a sender whose lease ran out), oldest
    first, so a fire goes before its reminder and its resolve."""
    statement = (
        select(_outbox)
        .where(_outbox.c.status.in_(("pending", "sending")), _outbox.c.next_attempt_at <= now)
        .order_by(_outbox.c.id)
    )
    if rule_id is not None:
        statement = statement.where(_outbox.c.rule_id == rule_id)
    with db.connect() as conn:
        return [
            OwedMessage(
                r.id,
                r.rule_id,
                r.entity,
                r.event,
                r.value,
                _day(r.window_start),
                _day(r.window_end),
                r.attempts,
                r.next_attempt_at,
                r.expected,
                r.band,
            )
            for r in conn.execute(statement)
        ]


def take(db: Engine, message: OwedMessage, now: dt.datetime, lease: dt.timedelta) -> bool:
    """Take a message to send: True for the one sender that took it; it is due again after
    `lease` if that sender dies before saying how it went."""
    with db.begin() as conn:
        done = conn.execute(
            update(_outbox)
            .where(_outbox.c.id == message.id, _outbox.c.next_attempt_at == message.next_attempt_at,
                   _outbox.c.status.in_(("pending", "sending")))
            .values(status="sending", next_attempt_at=now + lease)
        )  # fmt: skip
        return done.rowcount == 1


def delivered(db: Engine, message: OwedMessage, ts: str | None, now: dt.datetime) -> None:
    """The message is out; a fire's id is where its reminders and resolve will thread."""
    with db.begin() as conn:
        conn.execute(
            update(_outbox)
            .where(_outbox.c.id == message.id)
            .values(status="delivered", delivered_at=now, message_ts=ts, error=None)
        )
        if message.event == "fired":
            conn.execute(
                update(_states)
                .where(_key(message.rule_id, message.entity))
                .values(message_ts=ts, notified_at=now)
            )


def not_delivered(
    db: Engine, message: OwedMessage, error: str, retry_at: dt.datetime | None
) -> None:
    """Slack did not take it: try again at `retry_at`, or (None) never."""
    values = {"attempts": message.attempts + 1, "error": error[:2000]}
    if retry_at is None:
        values["status"] = "failed"
    else:
        values.update(status="pending", next_attempt_at=retry_at)
    with db.begin() as conn:
        conn.execute(update(_outbox).where(_outbox.c.id == message.id).values(**values))


def _day(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def record_evaluation(
    db: Engine,
    rule_id: int,
    entity: str,
    now: dt.datetime,
    value: float | None,
    state: str,
    posted: bool,
    error: str | None = None,
) -> None:
    with db.begin() as conn:
        conn.execute(
            insert(_evals).values(
                rule_id=rule_id, entity=entity, evaluated_at=now, value=value, state=state,
                posted=posted, error=error,
            )
        )  # fmt: skip


@dataclass(frozen=True)
class Evaluation:
    evaluated_at: dt.datetime
    entity: str
    value: float | None
    state: str
    posted: bool
    error: str | None


def evaluations(db: Engine, rule_id: int, limit: int = 15) -> list[Evaluation]:
    """A rule's latest evaluations, newest first."""
    statement = (
        select(_evals).where(_evals.c.rule_id == rule_id).order_by(_evals.c.id.desc()).limit(limit)
    )
    with db.connect() as conn:
        return [
            Evaluation(r.evaluated_at, r.entity, r.value, r.state, r.posted, r.error)
            for r in conn.execute(statement)
        ]
