"""Answers ready to post, shared by identical commands until the data changes.

A team tends to ask the same few questions at once (after a digest, in a meeting), and each
answer is a few hundred milliseconds of database work plus a chart. Identical commands (same
parsed query, hence the same dates, same thresholds, same data version) get one computation:
the first computes, the others wait for it, later ones reuse it until a load changes the data.
Failures are not kept: the next identical command tries again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from insights.engine import Thresholds, answer, previous_totals
from insights.query import Query
from insights.results import Answer, Totals
from storage.summary import data_version


@dataclass(frozen=True)
class Prepared:
    """An answer with what its message shows besides: the previous window's totals (deltas)
    and the chart (None when the answer has nothing to chart)."""

    answer: Answer
    previous: Totals | None
    chart: bytes | None


class _Flight:
    """One computation in progress that identical commands wait for."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self.value: Prepared | None = None
        self.error: BaseException | None = None

    def finish(self, value: Prepared | None, error: BaseException | None) -> None:
        self.value, self.error = value, error
        self._done.set()

    def wait(self) -> Prepared:
        self._done.wait()
        if self.error is not None:
            raise self.error
        assert self.value is not None
        return self.value


class AnswerCache:
    def __init__(
        self, db: Engine, chart: Callable[[Answer], bytes | None], entries: int = 64
    ) -> None:
        self.db = db
        self.chart = chart
        self.entries = entries
        self._lock = threading.Lock()
        self._kept: OrderedDict[tuple, Prepared] = OrderedDict()
        self._running: dict[tuple, _Flight] = {}
        self.computed = 0  # computations run (the rest were shared or kept): for tests and logs

    def prepared(self, query: Query, thresholds: Thresholds) -> Prepared:
        """The answer to `query`; raises what `answer` raises (QueryError, store errors)."""
        key = (data_version(self.db), repr(query), thresholds)
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None:
                self._kept.move_to_end(key)
                return kept
            flight = self._running.get(key)
            owner = flight is None
            if owner:
                flight = self._running[key] = _Flight()
                self.computed += 1
        assert flight is not None
        if not owner:
            return flight.wait()
        value, error = None, None
        try:
            result = answer(self.db, query, thresholds)
            value = Prepared(result, previous_totals(self.db, query, thresholds),
                             self.chart(result))  # fmt: skip
            return value
        except BaseException as exc:
            error = exc
            raise
        finally:
            with self._lock:
                del self._running[key]
                if value is not None:
                    self._kept[key] = value
                    while len(self._kept) > self.entries:
                        self._kept.popitem(last=False)
            flight.finish(value, error)
