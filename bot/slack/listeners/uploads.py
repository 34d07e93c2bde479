"""Files shared into a channel: CSV/XLSX exports are loaded, exactly once, with a reply in the
file's thread that says what loaded, what was refused and why, and what it changed.

Slack delivers a `file_share` event at least once (and again when an answer is slow); the file
id is claimed in the store first, so whoever claims it loads it and every other delivery is
dropped. A long load edits its note with its progress.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import PurePath

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError

from bot.errors import STORE_DOWN
from bot.service import LoadProgress, Service
from bot.slack import blocks, home
from bot.slack.download import DownloadError, fetch
from bot.slack.workers import in_background

log = logging.getLogger(__name__)

TABLE_TYPES = {"csv", "tsv", "xlsx"}
TABLE_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx"}
PROGRESS_EVERY = 3.0  # seconds between progress edits of a long load


def register(app: App, service: Service) -> None:
    def on_file_share(event: dict, client: WebClient, context) -> None:
        if event.get("bot_id") or event.get("user") == context.get("bot_user_id"):
            return  # our own uploads (charts, rejected rows) come back as file_share events
        for file in event.get("files") or []:
            if _is_table(file):
                in_background(_load_file, service, client, event, file)

    # Other messages are `bot.slack.listeners.conversation`'s, registered after this one.
    app.event({"type": "message", "subtype": "file_share"})(on_file_share)


def _is_table(file: dict) -> bool:
    filetype = (file.get("filetype") or "").lower()
    suffix = PurePath(file.get("name") or "").suffix.lower()
    return filetype in TABLE_TYPES or suffix in TABLE_SUFFIXES


def _load_file(service: Service, client: WebClient, event: dict, file: dict) -> None:
    user, channel = event.get("user"), event["channel"]
    thread = event.get("thread_ts") or event["ts"]
    name = file.get("name") or file["id"]
    try:
        if not service.claim_file(file["id"], channel, user, name):
            log.info("file %s already claimed: retry or duplicate event dropped", file["id"])
            return
    except SQLAlchemyError:
        log.exception("could not claim file %s", file["id"])
        _say(client, channel, thread, f":warning: {STORE_DOWN} ({name} not loaded)")
        return
    refusal = service.upload_refusal(service.caller(user, channel))
    if refusal:
        _say(client, channel, thread, refusal)
        service.finish_file(file["id"], "refused")
        return
    _react(client, channel, event["ts"], "hourglass_flowing_sand")
    status_ts = client.chat_postMessage(channel=channel, thread_ts=thread, text=f"Loading {name}…")[
        "ts"
    ]
    upload_id = None
    try:
        outcome, upload_id, text, message = _ingest(service, client, file, user, channel, status_ts)
    except DownloadError as exc:
        outcome, (text, message) = "refused", blocks.error_message(f"{name}: {exc}")
    except SQLAlchemyError:
        log.exception("store error loading %s", name)
        outcome, (text, message) = (
            "failed",
            blocks.error_message(f"{name} was not loaded. {STORE_DOWN}"),
        )
    client.chat_update(channel=channel, ts=status_ts, text=text, blocks=message)
    done = outcome in ("loaded", "already_loaded")
    _react(client, channel, event["ts"], "white_check_mark" if done else "warning")
    try:
        service.finish_file(file["id"], outcome, upload_id)
    except SQLAlchemyError:
        log.exception("could not record the outcome of %s", file["id"])
    if outcome in ("loaded", "partial"):
        home.refresh(service, client)  # the Home tabs' figures changed


def _ingest(service: Service, client: WebClient, file: dict, user, channel, status_ts):
    if "url_private_download" not in file:
        file = client.files_info(file=file["id"])["file"]
    name = file.get("name") or file["id"]
    settings = service.settings
    limit = int(settings.max_upload_mb * 1024 * 1024)
    if int(file.get("size") or 0) > limit:
        raise DownloadError(
            f"the file is over the {settings.max_upload_mb:g} MB limit (MAX_UPLOAD_MB)"
        )
    token = settings.slack_bot_token.get_secret_value()
    # Streamed to disk and loaded from there: a 1 GB upload never sits in memory.
    with tempfile.NamedTemporaryFile(prefix="roasbot-", suffix=PurePath(name).suffix) as spool:
        fetch(file["url_private_download"], token, settings.slack_api_url, limit, into=spool)
        spool.flush()
        loaded = service.load_file(
            spool.name, name, service.caller(user, channel),
            on_progress=_progress(client, channel, status_ts, name),
        )  # fmt: skip
    result = loaded.result.files[0]
    for sheet in result.sheets:
        if sheet.rejected_csv:
            stem = PurePath(name).stem + (f".{sheet.sheet}" if sheet.sheet else "")
            client.files_upload_v2(
                channel=channel,
                thread_ts=status_ts,
                content=sheet.rejected_csv,
                filename=f"{stem}.rejected.csv",
                title=f"Rejected rows of {name}",
            )
    text, message = blocks.upload_message(result, loaded.changed)
    return result.status, result.upload_id, text, message


def _progress(client: WebClient, channel: str, ts: str, name: str) -> Callable:
    """Edits the in-thread note with rows done, percent and time left, at most every
    PROGRESS_EVERY seconds (Slack's rate limit for chat.update is about one a second)."""
    last = [time.monotonic()]

    def report(progress: LoadProgress) -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_EVERY or progress.fraction >= 1:
            return
        last[0] = now
        try:
            client.chat_update(
                channel=channel, ts=ts, text=f"Loading {name}… {progress.describe()}"
            )
        except SlackApiError:
            log.warning("progress update failed", exc_info=True)

    return report


def _say(client: WebClient, channel: str, thread: str, text: str) -> None:
    try:
        client.chat_postMessage(channel=channel, thread_ts=thread, text=text)
    except SlackApiError:
        log.warning("could not post to %s", channel, exc_info=True)


def _react(client: WebClient, channel: str, ts: str, name: str) -> None:
    try:
        client.reactions_add(channel=channel, timestamp=ts, name=name)
    except SlackApiError as exc:
        if exc.response.get("error") != "already_reacted":
            log.warning("reaction %s failed: %s", name, exc.response.get("error"))
