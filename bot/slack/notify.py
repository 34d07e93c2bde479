"""Posting without being asked (digests, alerts): retry what may pass, stop on what will not.

A 429 or a 5xx passes: wait (Retry-After when Slack gives it, else exponential backoff) and try
again. A missing channel, a bot removed from it or a revoked token will not pass however often
we try; those raise `FatalSlackError`, so the caller disables the subscription or rule and tells
the admins once instead of failing every hour.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

FATAL = {
    "channel_not_found",
    "not_in_channel",
    "invalid_auth",
    "is_archived",
    "account_inactive",
    "token_revoked",
    "missing_scope",
}


class FatalSlackError(Exception):
    """Slack refused for a reason retrying cannot fix; `code` is Slack's error code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def call_with_retry(
    call: Callable[..., dict],
    *,
    attempts: int = 4,
    sleep: Callable[[float], None] = time.sleep,
    **kwargs,
) -> dict:
    for attempt in range(1, attempts + 1):
        try:
            return call(**kwargs)
        except SlackApiError as exc:
            code = exc.response.get("error", "")
            if code in FATAL:
                raise FatalSlackError(code) from exc
            if attempt == attempts:
                raise
            wait = _retry_after(exc) or 2.0 ** (attempt - 1)
            log.warning(
                "Slack answered %s; retrying in %.0f s", code or exc.response.status_code, wait
            )
            sleep(wait)
    raise AssertionError("unreachable")


def _retry_after(exc: SlackApiError) -> float | None:
    headers = getattr(exc.response, "headers", None) or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def tell_admins(client: WebClient, admins: frozenset[str], text: str) -> None:
    """A direct message to each admin; failures are logged, never raised."""
    for admin in sorted(admins):
        try:
            client.chat_postMessage(channel=admin, text=text)
        except SlackApiError:
            log.warning("could not message admin %s", admin, exc_info=True)
