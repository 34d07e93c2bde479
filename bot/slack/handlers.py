"""What the bot does for each kind of Slack request, after Bolt has verified and parsed it.

Every handler acknowledges first (Slack allows 3 seconds) and works afterwards: Bolt runs the
rest of the listener in its thread pool once `ack()` has answered the HTTP request. No exception
reaches a user: bad queries get the parser's suggestions, a store that does not answer gets a
clear sentence, anything else is logged and reported in one line.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import PurePath

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot import queries
from bot.answer_cache import AnswerCache
from bot.charts import render_chart
from bot.export import answer_csv
from bot.settings import Settings
from bot.slack import blocks
from bot.slack.download import DownloadError, fetch
from insights.engine import answer, totals
from insights.formatting import ratio
from insights.query import HELP, Query, QueryError, parse, to_text
from insights.results import Answer
from storage.claims import claim_slack_file, finish_slack_file
from storage.ingest import Options, Origin, Upload, ingest_files

log = logging.getLogger(__name__)

STORE_DOWN = "The data store is not answering, try again shortly."
NOT_IN_CHANNEL = (
    "I'm not a member of this channel, so only you can see this answer. "
    "Invite me with `/invite @roasbot` to post answers and charts here."
)
TABLE_TYPES = {"csv", "tsv", "xlsx"}
TABLE_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx"}
SLASH_PREFIX = {
    "roas": "",
    "underperformers": "underperformers ",
    "personas": "personas ",
    "influencer": "influencer ",
}
_PROGRESS_EVERY = 3.0  # seconds between progress edits of a long load


_WORKERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="roasbot-work")


def in_background(work: Callable, *args) -> None:
    """Run the slow part of a request (queries, charts, loads) off Bolt's listener threads.

    Bolt answers Slack when a listener calls `ack()`, but only while it has a free listener
    thread to run the next request in: if answers ran there, a burst of commands would fill the
    pool and later commands could not even be acknowledged within Slack's 3 seconds.
    """

    def run() -> None:
        try:
            work(*args)
        except Exception:  # a worker must never die silently; the user was already answered
            log.exception("background work %s failed", getattr(work, "__name__", work))

    _WORKERS.submit(run)


class SlackBot:
    """The bot's behaviour; `bot.slack.app` registers these methods as Bolt listeners."""

    def __init__(self, settings: Settings, db: Engine) -> None:
        self.settings = settings
        self.db = db
        self.answers = AnswerCache(db, chart=self._chart)

    def _chart(self, result: Answer) -> bytes | None:
        return render_chart(
            result, currency=self.settings.currency, target=self.settings.roas_target
        )

    # --- slash commands -------------------------------------------------------------------

    def on_command(self, ack, command: dict, client: WebClient, respond) -> None:
        name = command.get("command", "/roas").lstrip("/")
        text = SLASH_PREFIX.get(name, f"{name} ") + command.get("text", "")
        try:
            query = parse(text, queries.today(self.settings))
        except QueryError as exc:
            ack(text=f":warning: {exc}\nType `/roas help` for the commands.")
            return
        if query.command == "help":
            ack(text=f"```{HELP}```")
            return
        ack()
        in_background(self.post_answer, client, respond, query, command["channel_id"], None)

    def post_answer(
        self, client: WebClient, respond, query: Query, channel: str, thread_ts: str | None
    ) -> None:
        """Compute the answer, post it in the channel (or thread) and the chart under it."""
        try:
            prepared = self.answers.prepared(query, queries.thresholds(self.settings))
        except QueryError as exc:
            respond(response_type="ephemeral", text=f":warning: {exc}")
            return
        except SQLAlchemyError:
            log.exception("store error answering %s", to_text(query))
            respond(response_type="ephemeral", text=f":warning: {STORE_DOWN}")
            return
        result = prepared.answer
        fallback, message = blocks.answer_message(
            result, to_text(query), previous=prepared.previous, currency=self.settings.currency
        )
        try:
            posted = client.chat_postMessage(
                channel=channel, text=fallback, blocks=message, thread_ts=thread_ts
            )
        except SlackApiError as exc:
            if exc.response.get("error") in ("not_in_channel", "channel_not_found"):
                respond(response_type="ephemeral", text=f"{fallback}\n\n{NOT_IN_CHANNEL}")
                return
            raise
        if prepared.chart is not None:
            client.files_upload_v2(
                channel=channel,
                thread_ts=thread_ts or posted["ts"],
                content=prepared.chart,
                filename=f"roas-{result.command}-{result.by or 'total'}.png",
                title=f"{result.title} · {blocks.window_label(result)}",
            )

    # --- buttons ------------------------------------------------------------------------------

    def on_button(self, ack, body: dict, action: dict, client: WebClient, respond) -> None:
        ack()
        try:
            value = json.loads(action.get("value") or "{}")
            query = parse(value["q"], queries.today(self.settings))
        except (ValueError, KeyError, QueryError) as exc:
            respond(response_type="ephemeral", text=f":warning: that button is stale ({exc})")
            return
        if "by" in value:
            query = dataclasses.replace(query, command="roas", by=(value["by"],), subject=None)
        elif "command" in value:
            query = dataclasses.replace(query, command=value["command"], by=("influencer",))
        channel = body["channel"]["id"]
        message = body.get("message") or {}
        thread = message.get("thread_ts") or message.get("ts") or body["container"]["message_ts"]
        if value.get("csv"):
            in_background(self.post_csv, client, respond, query, channel, thread)
        else:
            in_background(self.post_answer, client, respond, query, channel, thread)

    def post_csv(self, client: WebClient, respond, query: Query, channel: str, thread: str):
        try:
            result = answer(
                self.db, dataclasses.replace(query, top=100_000), queries.thresholds(self.settings)
            )
        except SQLAlchemyError:
            respond(response_type="ephemeral", text=f":warning: {STORE_DOWN}")
            return
        client.files_upload_v2(
            channel=channel,
            thread_ts=thread,
            content=answer_csv(result),
            filename=f"roas-{result.command}-{result.by or 'rows'}.csv",
            title=f"{result.title} · {blocks.window_label(result)} (CSV)",
        )

    # --- file uploads -------------------------------------------------------------------------

    def on_file_share(self, event: dict, client: WebClient, context) -> None:
        if event.get("bot_id") or event.get("user") == context.get("bot_user_id"):
            return  # our own uploads (charts, rejected rows) come back as file_share events
        for file in event.get("files") or []:
            if _is_table(file):
                in_background(self.load_file, client, event, file)

    def load_file(self, client: WebClient, event: dict, file: dict) -> None:
        user, channel = event.get("user"), event["channel"]
        thread = event.get("thread_ts") or event["ts"]
        name = file.get("name") or file["id"]
        try:
            if not claim_slack_file(self.db, file["id"], channel, user, name):
                log.info("file %s already claimed: retry or duplicate event dropped", file["id"])
                return
        except SQLAlchemyError:
            log.exception("could not claim file %s", file["id"])
            self._say(client, channel, thread, f":warning: {STORE_DOWN} ({name} not loaded)")
            return
        refusal = self._refusal(user, channel)
        if refusal:
            self._say(client, channel, thread, refusal)
            finish_slack_file(self.db, file["id"], "refused")
            return
        self._react(client, channel, event["ts"], "hourglass_flowing_sand")
        status = client.chat_postMessage(channel=channel, thread_ts=thread, text=f"Loading {name}…")
        status_ts = status["ts"]
        try:
            outcome, upload_id, text, message = self._ingest(client, file, user, channel, status_ts)
        except DownloadError as exc:
            outcome, upload_id = "refused", None
            text, message = blocks.error_message(f"{name}: {exc}")
        except SQLAlchemyError:
            log.exception("store error loading %s", name)
            outcome, upload_id = "failed", None
            text, message = blocks.error_message(f"{name} was not loaded. {STORE_DOWN}")
        client.chat_update(channel=channel, ts=status_ts, text=text, blocks=message)
        self._react(
            client,
            channel,
            event["ts"],
            "white_check_mark" if outcome in ("loaded", "already_loaded") else "warning",
        )
        try:
            finish_slack_file(self.db, file["id"], outcome, upload_id)
        except SQLAlchemyError:
            log.exception("could not record the outcome of %s", file["id"])

    def _ingest(self, client: WebClient, file: dict, user, channel, status_ts):
        if "url_private_download" not in file:
            file = client.files_info(file=file["id"])["file"]
        name = file.get("name") or file["id"]
        limit = int(self.settings.max_upload_mb * 1024 * 1024)
        if int(file.get("size") or 0) > limit:
            raise DownloadError(
                f"the file is over the {self.settings.max_upload_mb:g} MB limit (MAX_UPLOAD_MB)"
            )
        token = self.settings.slack_bot_token.get_secret_value()
        data = fetch(file["url_private_download"], token, self.settings.slack_api_url, limit)
        before = self._recent_roas()
        result = ingest_files(
            self.db,
            [Upload(filename=name, data=data)],
            Origin("slack", user, channel),
            Options(max_upload_mb=self.settings.max_upload_mb, date_order=self.settings.date_order),
            progress=self._progress(client, channel, status_ts, name),
        ).files[0]
        changed = None
        if result.status in ("loaded", "partial"):
            after = self._recent_roas()
            changed = f"ROAS last 30 days, all brands: {ratio(before)} → {ratio(after)}"
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
        text, message = blocks.upload_message(result, changed)
        return result.status, result.upload_id, text, message

    def _recent_roas(self) -> float | None:
        query = parse("roas period=last_30d", queries.today(self.settings))
        return totals(self.db, query, queries.thresholds(self.settings)).roas

    def _progress(self, client: WebClient, channel: str, ts: str, name: str) -> Callable:
        last = [time.monotonic()]

        def report(_filename: str, done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] < _PROGRESS_EVERY or not total:
                return
            last[0] = now
            try:
                client.chat_update(
                    channel=channel, ts=ts, text=f"Loading {name}… {done * 100 // total}%"
                )
            except SlackApiError:
                log.warning("progress update failed", exc_info=True)

        return report

    def _refusal(self, user: str | None, channel: str) -> str | None:
        admins, channels = self.settings.admin_user_ids, self.settings.upload_channel_ids
        if admins and user not in admins:
            who = ", ".join(f"<@{a}>" for a in sorted(admins))
            return (
                f"Sorry <@{user}>, only admins can load data here. Ask {who} to upload "
                "it, or to add you to ADMIN_USER_IDS."
            )
        if channels and channel not in channels:
            where = ", ".join(f"<#{c}>" for c in sorted(channels))
            return f"I load data only from {where}: please share the file there."
        return None

    def _say(self, client: WebClient, channel: str, thread: str, text: str) -> None:
        try:
            client.chat_postMessage(channel=channel, thread_ts=thread, text=text)
        except SlackApiError:
            log.warning("could not post to %s", channel, exc_info=True)

    def _react(self, client: WebClient, channel: str, ts: str, name: str) -> None:
        try:
            client.reactions_add(channel=channel, timestamp=ts, name=name)
        except SlackApiError as exc:
            if exc.response.get("error") != "already_reacted":
                log.warning("reaction %s failed: %s", name, exc.response.get("error"))


def _is_table(file: dict) -> bool:
    filetype = (file.get("filetype") or "").lower()
    suffix = PurePath(file.get("name") or "").suffix.lower()
    return filetype in TABLE_TYPES or suffix in TABLE_SUFFIXES
