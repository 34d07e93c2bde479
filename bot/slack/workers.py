"""The slow part of every Slack request, run off Bolt's listener threads, in three pools.

Bolt answers Slack when a listener calls `ack()`, but only while it has a free listener thread
to run the next request in: if answers ran there, a burst of commands would fill the pool and
later commands could not even be acknowledged within Slack's 3 seconds. So listeners ack, then
hand the work to a pool: computing (queries, charts, loads, digests) to one, posting the result
to Slack to another, so that Slack answering slowly (a call can hang for its 30 s timeout)
never holds up computing the next answer, and a burst of answers never holds up posting.

What decides the acknowledgement (parsing a command, or a quick `/alert list`) runs in a third
pool, waited for a bounded time: in the computing pool it queued behind the answers of a burst,
and 50 commands at once were acknowledged after 2.6 s (p50) instead of ~0.1 s.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
WORKERS = 4  # computing: the two cores and the database are the limit
POSTERS = 8  # waiting on Slack: mostly idle threads

ACKERS = 8  # deciding acknowledgements: parsing, or a store read that may be slow (locked)

_COMPUTE = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="roasbot-work")
_ACK = ThreadPoolExecutor(max_workers=ACKERS, thread_name_prefix="roasbot-ack")
_POST = ThreadPoolExecutor(max_workers=POSTERS, thread_name_prefix="roasbot-post")
_PENDING: set[Future] = set()  # computing and posting not yet done, for `drain`
_PENDING_LOCK = threading.Lock()


def in_background(work: Callable[..., object], *args: object) -> None:
    """Compute `work(*args)` in the computing pool; an exception is logged, never lost in
    silence (the user was already answered, and `work` tells them of failures it expects)."""
    _track(_COMPUTE.submit(_logged, work, args))


def soon(work: Callable[..., T], *args: object) -> Future[T]:
    """`work(*args)` in the acknowledging pool, for a caller that waits a bounded time for it
    (never behind the answers being computed)."""
    return _ACK.submit(work, *args)


def to_slack(work: Callable[..., object], *args: object) -> None:
    """Run `work(*args)`, which calls Slack, in the posting pool."""
    _track(_POST.submit(_logged, work, args))


def drain(timeout: float) -> bool:
    """Wait until no computing or posting is left (work that hands on more work included),
    at most `timeout` seconds; False if some is still running then. Whoever closes the store
    the work uses calls this first: a load still recording its outcome while its store's tables
    are dropped deadlocks on PostgreSQL."""
    deadline = time.monotonic() + timeout
    while True:
        with _PENDING_LOCK:
            pending = list(_PENDING)
        left = deadline - time.monotonic()
        if not pending:
            return True
        if left <= 0:
            return False
        wait(pending, timeout=left)


def _track(future: Future) -> None:
    with _PENDING_LOCK:
        _PENDING.add(future)
    future.add_done_callback(_untrack)


def _untrack(future: Future) -> None:
    with _PENDING_LOCK:
        _PENDING.discard(future)


def _logged(work: Callable[..., object], args: tuple) -> None:
    try:
        work(*args)
    except Exception:
        log.exception("background work %s failed", getattr(work, "__name__", work))
