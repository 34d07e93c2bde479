"""Threshold alert rules: their language, and the value of their metric right now.

    roas < 1.5 brand=MuscleBlaze window=7d
    roas < 1 each=influencer min_spend=10000 window=14d
    revenue drop > 30% window=7d            (against the previous window of the same length)
    engagement_rate < 2 each=influencer

Values come from the same engine as every answer, so an alert never disagrees with `/roas`.
State (OK / FIRING), posting and scheduling live in the adapters; this module only measures.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from sqlalchemy import Engine

from insights.engine import Thresholds, answer
from insights.query import FILTER_KEYS, Query, QueryError, Window, parse
from insights.results import Metrics

METRICS = ("roas", "incremental_roas", "revenue", "cost", "orders", "cpa", "engagement_rate")
OPERATORS = ("<", "<=", ">", ">=", "drop", "rise")
EACH = ("influencer", "brand", "platform", "persona")
_RULE = re.compile(
    r"^(?P<metric>[a-z_]+)\s*(?:(?P<op><=|>=|<|>)\s*(?P<value>[\d.,]+)|"
    r"(?P<move>drop|rise)\s*>\s*(?P<pct>[\d.]+)\s*%)\s*(?P<rest>.*)$",
    re.IGNORECASE,
)


@dataclasses.dataclass(frozen=True)
class Rule:
    metric: str
    op: str
    threshold: float  # the value, or the percentage for drop/rise
    window_days: int = 7
    each: str | None = None
    filters: str = ""  # query-language filters, e.g. "brand=MuscleBlaze"
    min_spend: float = 0.0
    pending: int = 1

    def describe(self) -> str:
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


def parse_rule(text: str, today: dt.date) -> Rule:
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
    if match["move"]:
        op, threshold = match["move"].lower(), float(match["pct"])
    else:
        op, threshold = match["op"], float(match["value"].replace(",", ""))
    options = {"window": "7d", "each": None, "min_spend": "0", "pending": "1"}
    filters = []
    for word in match["rest"].split():
        key, _, value = word.partition("=")
        key = key.lower()
        if key in options:
            options[key] = value
        elif key in FILTER_KEYS:
            filters.append(word)
        else:
            raise QueryError(
                f"'{word}' is not an alert option: use window=, each=, "
                f"min_spend=, pending= or filters like brand="
            )
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
    parse(" ".join(["roas", *filters]), today)  # filters are checked like any query's
    return Rule(metric, op, threshold, int(window[1]), each, " ".join(filters), min_spend, pending)


def rolling_window(rule: Rule, today: dt.date) -> Window:
    """The rule's window: its N days ending today."""
    return Window(today - dt.timedelta(days=rule.window_days - 1), today)


def evaluate(
    db: Engine, rule: Rule, today: dt.date, thresholds: Thresholds | None = None
) -> dict[str, float | None]:
    """The metric per entity ("" for the whole scope); None where it is undefined.

    For drop/rise the value is the change in percent against the previous window. Entities
    below `min_spend` are left out. A filter value the store does not hold raises QueryError.
    """
    window = rolling_window(rule, today)
    now = _values(db, rule, window, thresholds)
    if rule.op not in ("drop", "rise"):
        return now
    before = _values(db, rule, window.previous(), thresholds)
    changes: dict[str, float | None] = {}
    for entity, value in now.items():
        old = before.get(entity)
        changes[entity] = None if value is None or not old else (value - old) / abs(old) * 100
    return changes


def _values(db, rule: Rule, window: Window, thresholds) -> dict[str, float | None]:
    query = parse(f"roas {rule.filters}", window.end or dt.date.today())
    query = dataclasses.replace(
        query, window=window, period=None, by=(rule.each or "influencer",), top=1_000_000
    )
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
    value = getattr(metrics, name)
    return None if value is None else float(value)


def breached(rule: Rule, value: float | None) -> bool:
    """Whether `value` meets the rule's condition; an undefined value never does."""
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


def scope_query(rule: Rule, today: dt.date) -> Query:
    """The `/roas` query showing what the rule watches (for the alert's buttons)."""
    return dataclasses.replace(
        parse(f"roas {rule.filters}", today), window=rolling_window(rule, today)
    )
