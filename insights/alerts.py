"""Alert rules: their language, the value of their metric, and their state machine.

    roas < 1.5 brand=MuscleBlaze window=7d
    roas < 1 each=influencer min_spend=10000 window=14d
    revenue drop > 30% window=7d            (against the previous window of the same length)
    engagement_rate < 2 each=influencer
    orders unusual brand=HKVitals each=platform direction=down min_value=20 sensitivity=3

The last kind watches the last complete day against the same weekday of the 8 weeks before
(`insights.anomaly`); it is a rule like the others, with the same states, messages and mutes.

Values come from the same engine as every answer, so an alert never disagrees with `/roas`.
`transition` is the OK/FIRING state machine as a pure function, so every rule of firing,
reminding, resolving and muting is tested without a store or a transport; `bot.notifications`
applies its verdicts with compare-and-set updates and delivers them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Literal

from sqlalchemy import Engine

from insights.anomaly import DIRECTIONS, Expected, expect, outside, public_holidays, reference_days
from insights.catalogue import ALERTABLE, metric
from insights.engine import Thresholds, answer
from insights.query import EVERY_ROW, FILTER_KEYS, Query, QueryError, Window, parse_filters
from insights.results import Answer, Metrics
from insights.scope import data_through, dates_with_data

METRICS = ALERTABLE
OPERATORS = ("<", "<=", ">", ">=", "drop", "rise", "unusual")
EACH = ("influencer", "brand", "platform", "persona")
_RULE = re.compile(
    r"^(?P<metric>[a-z_]+)\s*(?:(?P<op><=|>=|<|>)\s*(?P<value>[\d.,]+)|"
    r"(?P<move>drop|rise)\s*>\s*(?P<pct>[\d.]+)\s*%|(?P<unusual>unusual)\b)\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
_UNUSUAL_OPTIONS = {"each": None, "direction": "both", "min_value": "0", "sensitivity": "3"}


@dataclasses.dataclass(frozen=True)
class Rule:
    metric: str
    op: str
    threshold: float  # the value, the percentage for drop/rise, the sensitivity for unusual
    window_days: int = 7
    each: str | None = None
    filters: str = ""  # query-language filters, e.g. "brand=MuscleBlaze"
    min_spend: float = 0.0
    pending: int = 1
    direction: str | None = None  # unusual: down, up or both
    min_value: float = 0.0  # unusual: entities expected below it never fire

    @classmethod
    def of(cls, record) -> Rule:
        """The rule of a stored record (`storage.schedules.StoredRule`): the one place a row
        becomes a rule."""
        return cls(
            record.metric, record.op, record.threshold, record.window_days, record.each,
            record.filters, record.min_spend, record.pending, record.direction,
            record.min_value or 0.0,
        )  # fmt: skip

    @property
    def unusual(self) -> bool:
        return self.op == "unusual"

    @property
    def scope_filters(self) -> dict[str, tuple[str, ...]]:
        return parse_filters(self.filters, "an alert rule")

    def describe(self) -> str:
        """The rule in the words of `/alert add` (`/alert list` shows it so)."""
        if self.unusual:
            parts = [f"{self.metric} unusual", f"direction={self.direction}",
                     f"sensitivity={self.threshold:g}"]  # fmt: skip
            parts += [f"min_value={self.min_value:g}"] if self.min_value else []
            parts += [f"each={self.each}"] if self.each else []
            return " ".join([*parts, *([self.filters] if self.filters else [])])
        cond = (
            f"{self.metric} {self.op} {self.threshold:g}%"
            if self.op in ("drop", "rise")
            else f"{self.metric} {self.op} {self.threshold:g}"
        )
        parts = [cond, f"window={self.window_days}d"]
        if self.each:
            parts.append(f"each={self.each}")
        if self.filters:
            parts.append(self.filters)
        if self.min_spend:
            parts.append(f"min_spend={self.min_spend:g}")
        if self.pending > 1:
            parts.append(f"pending={self.pending}")
        return " ".join(parts)


def parse_rule(text: str) -> Rule:
    """A rule from `/alert add` text, or a QueryError saying what to write instead."""
    match = _RULE.match(text.strip())
    if not match:
        raise QueryError(
            "write a rule as `METRIC < VALUE` or `METRIC drop > N%`, e.g. "
            "`roas < 1.5 brand=MuscleBlaze window=7d`"
        )
    metric = match["metric"].lower()
    if metric not in METRICS:
        raise QueryError(f"no metric '{metric}'; alerts watch {', '.join(METRICS)}")
    if match["unusual"]:
        return _unusual_rule(metric, match["rest"])
    if match["move"]:
        op, threshold = match["move"].lower(), float(match["pct"])
    else:
        op, threshold = match["op"], float(match["value"].replace(",", ""))
    options, filters = _options(
        match["rest"], {"window": "7d", "each": None, "min_spend": "0", "pending": "1"},
        "is not an alert option: use window=, each=, min_spend=, pending= or filters like brand=",
    )  # fmt: skip
    window = re.fullmatch(r"(\d+)d", options["window"] or "")
    if not window or not 1 <= int(window[1]) <= 3660:
        raise QueryError("window= takes days, e.g. window=7d")
    each = options["each"]
    if each is not None and each not in EACH:
        raise QueryError(f"each= takes {', '.join(EACH)}")
    try:
        min_spend, pending = float(options["min_spend"]), int(options["pending"])
    except ValueError as exc:
        raise QueryError("min_spend= takes an amount and pending= a whole number") from exc
    if pending < 1:
        raise QueryError("pending= must be at least 1")
    parse_filters(" ".join(filters), "an alert rule")  # values are checked like any query's
    return Rule(metric, op, threshold, int(window[1]), each, " ".join(filters), min_spend, pending)


def _options(
    rest: str, defaults: dict[str, str | None], refusal: str
) -> tuple[dict[str, str | None], list[str]]:
    """A rule's `key=value` options over `defaults`, and its filters; anything else is a
    QueryError: "'WORD' " + `refusal`."""
    options, filters = dict(defaults), []
    for word in rest.split():
        key, _, value = word.partition("=")
        key = key.lower()
        if key in options:
            options[key] = value
        elif key in FILTER_KEYS:
            filters.append(word)
        else:
            raise QueryError(f"'{word}' {refusal}")
    return options, filters


def _unusual_rule(metric: str, rest: str) -> Rule:
    """`orders unusual [each=] [direction=] [min_value=] [sensitivity=] [filters]`."""
    options, filters = _options(
        rest, _UNUSUAL_OPTIONS,
        "is not an option of an unusual rule: use each=, direction=, min_value=, sensitivity= "
        "or filters like brand= (it watches the last complete day, so it takes no window=)",
    )  # fmt: skip
    each, direction = options["each"], (options["direction"] or "").lower()
    if each is not None and each not in EACH:
        raise QueryError(f"each= takes {', '.join(EACH)}")
    if direction not in DIRECTIONS:
        raise QueryError(f"direction= takes {', '.join(DIRECTIONS)}")
    try:
        min_value = float(options["min_value"].replace(",", ""))
        sensitivity = float(options["sensitivity"])
    except ValueError as exc:
        raise QueryError("min_value= and sensitivity= take numbers, e.g. sensitivity=3") from exc
    if sensitivity <= 0 or min_value < 0:
        raise QueryError("sensitivity= must be above 0 and min_value= at least 0")
    parse_filters(" ".join(filters), "an alert rule")
    return Rule(metric, "unusual", sensitivity, 1, each, " ".join(filters),
                direction=direction, min_value=min_value)  # fmt: skip


def rolling_window(rule: Rule, last_day: dt.date) -> Window:
    """The rule's window: its N days ending on `last_day` (`last_day_of_data`)."""
    return Window(last_day - dt.timedelta(days=rule.window_days - 1), last_day)


def last_day_of_data(db: Engine, today: dt.date) -> dt.date:
    """The day a rule's window ends: today, or the store's last day of data when that is
    earlier (data arrives a day or more late: a 7-day window is then still 7 days of data)."""
    with db.connect() as conn:
        through = data_through(conn)
    return min(today, through) if through is not None else today


def scope_query(rule: Rule, window: Window, by: str | None = None) -> Query:
    """The `/roas` query of what the rule watches over `window` (its alerts' buttons and
    charts), by `by` (default: each entity, or influencer)."""
    return Query(
        command="roas",
        filters=rule.scope_filters,
        window=window,
        by=(by or rule.each or "influencer",),
    )


@dataclasses.dataclass(frozen=True)
class Reading:
    """One entity's value at an evaluation; for an unusual rule, what it was expected to be
    (None: too few reference days, or expected below the rule's min_value: it cannot fire)."""

    value: float | None
    expected: Expected | None = None


def rule_window(db: Engine, rule: Rule, today: dt.date) -> Window:
    """The days a rule looks at: its rolling window, or (unusual) the last complete day, the
    store's last day of data unless that is today, which is not over."""
    last = last_day_of_data(db, today)
    if rule.unusual:
        day = min(last, today - dt.timedelta(days=1))
        return Window(day, day)
    return rolling_window(rule, last)


def evaluate(
    db: Engine, rule: Rule, today: dt.date, thresholds: Thresholds | None = None
) -> dict[str, Reading]:
    """The metric per entity ("" for the whole scope); None where it is undefined.

    For drop/rise the value is the change in percent against the previous window. Entities
    below `min_spend` are left out. A filter value the store does not hold raises QueryError.
    """
    window = rule_window(db, rule, today)
    if rule.unusual:
        assert window.end is not None
        return unusual_day(db, rule, window.end, thresholds)
    now = _values(db, rule, window, thresholds)
    if rule.op not in ("drop", "rise"):
        return {entity: Reading(value) for entity, value in now.items()}
    before = _values(db, rule, window.previous(), thresholds)
    changes: dict[str, Reading] = {}
    for entity, value in now.items():
        old = before.get(entity)
        change = None if value is None or not old else (value - old) / abs(old) * 100
        changes[entity] = Reading(change)
    return changes


def unusual_day(
    db: Engine, rule: Rule, day: dt.date, thresholds: Thresholds | None = None
) -> dict[str, Reading]:
    """Each entity's value on `day` and its expectation from the same weekday of the 8 weeks
    before (`insights.anomaly`). An entity absent on a day the store has data for sold 0
    that day (a sum), or has no ratio (undefined)."""
    th = thresholds or Thresholds()
    # The figures alone: the interval's resampling adds nothing to a value.
    th = dataclasses.replace(th, baseline=dataclasses.replace(th.baseline, draws=0))
    days = [*reference_days(day), day]
    per_day = {d: _values(db, rule, Window(d, d), th) for d in days}
    with db.connect() as conn:
        covered = dates_with_data(conn, days[0], day)
    holidays_of = public_holidays(th.holiday_country, days)
    absent = None if metric(rule.metric).is_ratio else 0.0
    readings = {}
    for entity in sorted(set().union(*per_day.values())):
        values = {d: per_day[d].get(entity, absent if d in covered else None) for d in days}
        expected = expect(day, values, sensitivity=rule.threshold, holidays_of=holidays_of,
                          covered=covered)  # fmt: skip
        if expected is not None and expected.value < rule.min_value:
            expected = None
        readings[entity] = Reading(values[day], expected)
    return readings


def _values(db, rule: Rule, window: Window, thresholds) -> dict[str, float | None]:
    query = dataclasses.replace(scope_query(rule, window), top=EVERY_ROW)
    result = answer(db, query, thresholds)
    if rule.each is None:
        if result.totals.cost < rule.min_spend:
            return {}
        return {"": _metric(result.totals, rule.metric)}
    return {
        row.key: _metric(row, rule.metric)
        for row in result.rows
        if row.cost >= rule.min_spend and row.key not in ("unattributed", "undated")
    }


def _metric(metrics: Metrics, name: str) -> float | None:
    value = metrics.value(name)
    return None if value is None else float(value)


def breached(rule: Rule, value: float | None, expected: Expected | None = None) -> bool:
    """Whether `value` meets the rule's condition (an unusual rule's: outside the band of
    `expected` in its direction); an undefined value never does."""
    if rule.unusual:
        return outside(value, expected, rule.direction or "both")
    if value is None:
        return False
    if rule.op == "drop":
        return value <= -rule.threshold
    if rule.op == "rise":
        return value >= rule.threshold
    return {
        "<": value < rule.threshold,
        "<=": value <= rule.threshold,
        ">": value > rule.threshold,
        ">=": value >= rule.threshold,
    }[rule.op]


# --- the state machine ------------------------------------------------------------------------

Event = Literal["fired", "reminded", "resolved"]


@dataclasses.dataclass(frozen=True)
class State:
    """One entity's alert state before an evaluation."""

    state: str = "OK"  # OK or FIRING
    streak: int = 0  # evaluations in a row with the condition true
    notified_at: dt.datetime | None = None  # when the fire (or the last reminder) was posted
    message_ts: str | None = None  # the fire message, where reminders and the resolve go


@dataclasses.dataclass(frozen=True)
class Transition:
    """What one evaluation does: the state and streak after it, the event if the state
    changed or a reminder is due, and whether a message goes out for it."""

    state: str
    streak: int
    event: Event | None = None
    notify: bool = False


def transition(
    rule: Rule,
    before: State,
    value: float | None,
    *,
    muted: bool,
    now: dt.datetime,
    repeat: dt.timedelta,
    expected: Expected | None = None,
) -> Transition:
    """OK -> FIRING once the condition holds `pending` evaluations in a row (posted unless
    muted); while FIRING, a reminder every `repeat` after the last post (never while muted,
    nor when the fire itself was muted: there is nothing to remind of); FIRING -> OK when
    the condition fails or the value is undefined, posted in the fire's thread if there was
    one. A muted rule keeps evaluating and changing state."""
    hit = breached(rule, value, expected)
    streak = before.streak + 1 if hit else 0
    if hit and before.state == "OK":
        if streak >= rule.pending:
            return Transition("FIRING", streak, "fired", notify=not muted)
        return Transition("OK", streak)
    if hit:
        due = before.notified_at is not None and now - before.notified_at >= repeat
        if due and not muted:
            return Transition("FIRING", streak, "reminded", notify=True)
        return Transition("FIRING", streak)
    if before.state == "FIRING":
        return Transition("OK", 0, "resolved", notify=not muted and before.message_ts is not None)
    return Transition("OK", 0)


@dataclasses.dataclass(frozen=True)
class Notice:
    """An alert message to deliver, as data: renderers word it, transports post it."""

    event: Event
    rule_id: int
    rule: Rule
    entity: str  # "" for the rule's whole scope
    value: float | None
    window: Window
    filters: dict[str, list[str]]  # the rule's scope as the store spells it
    repeat_hours: float
    data_through: dt.date | None = None
    thread_ts: str | None = None  # reminders and resolves answer the fire message
    chart: Answer | None = None  # what the alert watches, for the fire message's chart
    expected: Expected | None = None  # unusual: the expectation (its reference days on a fire)

    @property
    def query(self) -> Query:
        """The `/roas` query of the alert's scope and window (for its buttons)."""
        return scope_query(self.rule, self.window)


@dataclasses.dataclass(frozen=True)
class Check:
    """One entity of a rule, evaluated without acting on it."""

    rule_id: int
    rule: Rule
    entity: str
    value: float | None
    breached: bool
    state: str  # the stored state: OK or FIRING
    error: str | None = None
    expected: Expected | None = None
