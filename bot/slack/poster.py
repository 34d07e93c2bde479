"""Slack as a transport for scheduled messages: Block Kit, retries, charts, admin DMs.

Implements `bot.notifications.Poster`. A 429 or a 5xx passes: wait (Retry-After when Slack
gives it, else exponential backoff) and try again. A missing channel, a bot removed from it or
a revoked token will not pass however often we try: those raise `Undeliverable`, so the caller
disables the subscription or rule and tells the admins once. A chart that fails to upload is
logged and does not undo its message, which is already out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.charts import render_chart, render_reference_chart
from bot.errors import DeliveryError, Undeliverable
from bot.settings import Settings
from bot.slack import blocks
from insights.alerts import Notice
from insights.digest import Digest
from insights.results import Answer

log = logging.getLogger(__name__)

DIGEST_EVENT = "roasbot_digest"  # message metadata marking a scheduled digest with its run
FATAL = {
    "channel_not_found",
    "not_in_channel",
    "invalid_auth",
    "is_archived",
    "account_inactive",
    "token_revoked",
    "missing_scope",
}


def call_with_retry(
    call: Callable[..., dict],
    *,
    attempts: int = 4,
    sleep: Callable[[float], None] = time.sleep,
    **kwargs,
) -> dict:
    """`call(**kwargs)`, retried on what may pass; Undeliverable or DeliveryError otherwise."""
    for attempt in range(1, attempts + 1):
        try:
            return call(**kwargs)
        except SlackApiError as exc:
            code = exc.response.get("error", "") or f"http_{exc.response.status_code}"
            if code in FATAL:
                raise Undeliverable(code) from exc
            if attempt == attempts:
                raise DeliveryError(code) from exc
            wait = _retry_after(exc) or 2.0 ** (attempt - 1)
            log.warning("Slack answered %s; retrying in %.0f s", code, wait)
            sleep(wait)
        except OSError as exc:  # connection refused, reset, timed out
            if attempt == attempts:
                raise DeliveryError("no_connection") from exc
            sleep(2.0 ** (attempt - 1))
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


class SlackPoster:
    def __init__(
        self,
        client: WebClient,
        settings: Settings,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client, self.settings, self.sleep = client, settings, sleep

    def _call(self, method: Callable[..., dict], **kwargs) -> dict:
        return call_with_retry(method, sleep=self.sleep, **kwargs)

    def _post(self, channel: str, text: str, **kwargs) -> str:
        return self._call(self.client.chat_postMessage, channel=channel, text=text, **kwargs)["ts"]

    def chart(self, result: Answer, channel: str, ts: str, filename: str, title: str) -> None:
        """The chart of `result` uploaded into the thread of `ts` (nothing when it has none)."""
        png = render_chart(
            result, currency=self.settings.currency, target=self.settings.roas_target
        )
        if png is not None:
            self._upload(channel, ts, png, filename, title)

    def _upload(self, channel: str, ts: str, png: bytes, filename: str, title: str) -> None:
        """A PNG into the thread of `ts`; a failure is logged, the message is already out."""
        try:
            self._call(self.client.files_upload_v2, channel=channel, thread_ts=ts, content=png,
                       filename=filename, title=title)  # fmt: skip
        except DeliveryError as exc:
            log.warning("chart %s not uploaded to %s: %s", filename, channel, exc.code)

    def digest(self, channel: str, digest: Digest, key: str | None = None) -> str:
        if key is not None and (posted := self._marked(channel, key)) is not None:
            log.warning("digest %s was posted before (%s): not posting it again", key, posted)
            return posted
        text, message = blocks.digest_message(digest, self.settings.currency)
        marker = {"event_type": DIGEST_EVENT, "event_payload": {"key": key}} if key else None
        ts = self._post(channel, text, blocks=message, metadata=marker)
        if digest.has_data:
            self.chart(digest.trend_answer(), channel, ts, f"digest-{digest.week}.png",
                       f"Weekly trend to {digest.week}")  # fmt: skip
        return ts

    def _marked(self, channel: str, key: str) -> str | None:
        """The ts of the channel's recent message carrying `key` (a run's own marker), if any."""
        try:
            history = self._call(self.client.conversations_history, channel=channel, limit=100,
                                 include_all_metadata=True)  # fmt: skip
        except DeliveryError as exc:  # no history to read (a scope missing): post as before
            log.warning("could not read %s's history (%s) to look for a digest", channel, exc.code)
            return None
        for message in history.get("messages", []):
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == DIGEST_EVENT and (
                (metadata.get("event_payload") or {}).get("key") == key
            ):
                return message["ts"]
        return None

    def alert(self, channel: str, notice: Notice) -> str | None:
        currency = self.settings.currency
        if notice.event == "fired":
            text, message = blocks.alert_message(notice, currency)
            ts = self._post(channel, text, blocks=message)
            if notice.chart is not None:
                self.chart(notice.chart, channel, ts, "alert.png", "What the alert watches")
            reference = render_reference_chart(notice, currency)
            if reference is not None:
                self._upload(channel, ts, reference, "unusual.png", "The day and its 8 weeks")
            return ts
        if notice.event == "reminded":
            return self._post(channel, blocks.alert_reminder(notice, currency),
                              thread_ts=notice.thread_ts)  # fmt: skip
        reply, struck, message = blocks.alert_resolved(notice, currency)
        ts = self._post(channel, reply, thread_ts=notice.thread_ts)
        try:
            self.client.chat_update(channel=channel, ts=notice.thread_ts, text=struck,
                                    blocks=message)  # fmt: skip
        except SlackApiError:
            log.warning("could not update alert message %s", notice.thread_ts, exc_info=True)
        return ts

    def tell_admins(self, text: str) -> None:
        """A direct message to each admin; failures are logged, never raised."""
        for admin in sorted(self.settings.admin_user_ids):
            try:
                self.client.chat_postMessage(channel=admin, text=text)
            except SlackApiError:
                log.warning("could not message admin %s", admin, exc_info=True)
