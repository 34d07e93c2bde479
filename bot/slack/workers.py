"""The slow part of every Slack request, run off Bolt's listener threads.

Bolt answers Slack when a listener calls `ack()`, but only while it has a free listener thread
to run the next request in: if answers ran there, a burst of commands would fill the pool and
later commands could not even be acknowledged within Slack's 3 seconds. So listeners ack, then
hand the work (queries, charts, loads, digests) to this pool.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)
WORKERS = 4

_POOL = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="roasbot-work")


def in_background(work: Callable[..., object], *args: object) -> None:
    """Run `work(*args)` in the pool; an exception is logged, never lost in silence (the user
    was already answered, and `work` tells them of failures it expects)."""

    def run() -> None:
        try:
            work(*args)
        except Exception:
            log.exception("background work %s failed", getattr(work, "__name__", work))

    _POOL.submit(run)
