"""Answers ready to post, shared by identical commands until the data changes.

A team tends to ask the same few questions at once (after a digest, in a meeting), and each
answer is a few hundred milliseconds of database work plus a chart. Identical commands (same
parsed query, hence the same dates, same thresholds, same data version) get one computation:
the first computes, the others wait for it, later ones reuse it until a load changes the data.
Failures are not kept: the next identical command tries again. Below answers, commands that
differ only in breakdown or influencer filters share the window's sums (`SharedSums`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from insights.engine import SharedSums, Thresholds, answer, previous_totals
from insights.query import Query
from insights.results import Answer, Explained, Totals
from insights.single_flight import SingleFlight
from storage.summary import data_version


@dataclass(frozen=True)
class Prepared:
    """An answer with what its message shows besides: the previous window's totals (deltas)
    and the chart (None when the answer has nothing to chart)."""

    answer: Answer
    previous: Totals | None
    chart: bytes | None


class AnswerCache:
    def __init__(
        self, db: Engine, chart: Callable[[Answer], bytes | None], entries: int = 64
    ) -> None:
        self.db = db
        self.chart = chart
        self._answers: SingleFlight[Prepared] = SingleFlight(entries)
        # Commands that differ only in breakdown, ranking or influencer filters share sums.
        self.sums = SharedSums()

    @property
    def computed(self) -> int:
        """Answers computed (the rest were shared or kept): for tests and logs."""
        return self._answers.computed

    def prepared(self, query: Query, thresholds: Thresholds) -> Prepared:
        """The answer to `query`; raises what `answer` raises (QueryError, store errors)."""

        def compute() -> Prepared:
            result = answer(self.db, query, thresholds, self.sums)
            previous = (  # `why` compares with a window of its own
                result.comparison
                if isinstance(result, Explained)
                else previous_totals(self.db, query, thresholds, self.sums)
            )
            return Prepared(result, previous, self.chart(result))

        return self._answers.get((data_version(self.db), repr(query), thresholds), compute)
