"""A small LRU of computed values where concurrent callers of one key share one computation.

Answers are asked for in bursts (after a digest, in a meeting), and many of them need the same
expensive part: the same answer, or the same window's sums under another breakdown. The first
caller of a key computes, callers arriving meanwhile wait for it, later ones reuse the value.
Failures are not kept: the next caller tries again. Keys must name everything the value
depends on, the data version included.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class _Flight(Generic[T]):
    """One computation in progress that callers of the same key wait for."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self.value: T | None = None
        self.error: BaseException | None = None

    def finish(self, value: T | None, error: BaseException | None) -> None:
        self.value, self.error = value, error
        self._done.set()

    def wait(self) -> T:
        self._done.wait()
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]


class SingleFlight(Generic[T]):
    def __init__(self, entries: int) -> None:
        self.entries = entries
        self._lock = threading.Lock()
        self._kept: OrderedDict[Hashable, T] = OrderedDict()
        self._running: dict[Hashable, _Flight[T]] = {}
        self.computed = 0  # computations run (the rest were shared or kept): for tests and logs

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The value for `key`, computed by `compute` at most once at a time; raises what it
        raises, to every caller waiting on that computation."""
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
            flight = self._running.get(key)
            owner = flight is None
            if flight is None:
                flight = self._running[key] = _Flight()
                self.computed += 1
        if not owner:
            return flight.wait()
        value: T | None = None
        error: BaseException | None = None
        try:
            value = compute()
            return value
        except BaseException as exc:
            error = exc
            raise
        finally:
            with self._lock:
                del self._running[key]
                if error is None:
                    self._kept[key] = value  # type: ignore[assignment]
                    while len(self._kept) > self.entries:
                        self._kept.popitem(last=False)
            flight.finish(value, error)
