"""A local stand-in for Slack: Web API, file hosting and response_url, on 127.0.0.1.

Tests of the bot must never reach slack.com, yet the bot talks to Slack through the real
slack_sdk/slack_bolt clients. Pointing those clients at this server (``base_url=api_url``)
exercises the real HTTP code paths - form and JSON bodies, retries on 429/5xx, the three-step
``files_upload_v2`` dance, authenticated downloads - while letting tests inspect what was sent
and inject the failures Slack produces.

The module also builds the requests Slack sends *to* the app (signed slash commands, events and
block actions) so tests can drive the app under test over HTTP.

Shapes follow Slack's documented payloads; values are examples.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import hmac
import ipaddress
import itertools
import json
import mimetypes
import re
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.error import HTTPError
from urllib.parse import parse_qs, quote, urlencode, urlsplit
from urllib.request import ProxyHandler, Request, build_opener

__all__ = [
    "Call",
    "SlackStandIn",
    "Upload",
    "block_action_body",
    "file_share_event_body",
    "post",
    "sign",
    "slash_command_body",
    "url_verification_body",
]

# Block Kit and message limits Slack enforces (see web_api.md); the stand-in refuses what Slack
# would refuse so that the bot's own limits are tested against the same numbers.
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_MESSAGE_TEXT = 40_000
MAX_VIEW_BLOCKS = 100  # a Home tab or a modal
MAX_ACTIONS_ELEMENTS = 25
MAX_CONTEXT_ELEMENTS = 10
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTION_ID = 255
MAX_INPUT_LABEL = 2000
MAX_VIEW_TITLE = 24  # a modal's title, submit and close texts
MAX_PRIVATE_METADATA = 3000
MAX_TABLE_ROWS = 100
MAX_TABLE_CELLS = 20
MAX_CHART_TITLE = 50
MAX_CHART_SERIES = 6
MAX_CHARTS = 2  # data_visualization blocks in one message
MAX_CHART_CATEGORIES = 20  # conservative: not given by the reference as read
MAX_CHART_LABEL = 20  # likewise
KNOWN_BLOCKS = {
    "section", "header", "context", "actions", "divider", "image", "input", "rich_text",
    "table", "data_visualization",
}  # fmt: skip
RESPONSE_URL_LIMIT = 5  # Slack accepts at most five posts to one response_url

# Parameters Slack accepts as JSON-encoded strings inside form bodies.
_JSON_PARAMS = ("blocks", "files", "attachments", "metadata")

_LOGIN_PAGE = (
    '<!DOCTYPE html><html lang="en-US"><head><meta charset="utf-8">'
    '<title>Slack</title></head><body><div id="page"><div class="card">'
    "<h1>Sign in to Slack</h1><p>We suggest using the <strong>email address you use at "
    'work.</strong></p><form id="signin_form" action="/signin" method="post">'
    '<input type="email" name="email" placeholder="name@work-email.com">'
    '<button type="submit">Sign In With Email</button></form></div></div></body></html>'
)

_FILETYPE_BY_EXT = {"txt": "text", "md": "markdown", "jpeg": "jpg", "yml": "yaml"}
_MIMETYPE_BY_FILETYPE = {
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "text": "text/plain",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xls": "application/vnd.ms-excel",
    "png": "image/png",
    "jpg": "image/jpeg",
    "pdf": "application/pdf",
    "zip": "application/zip",
    "binary": "application/octet-stream",
}


@dataclass(frozen=True)
class Call:
    """One Web API request as the stand-in received it, so tests can assert on what the bot sent.

    ``params`` merges query string and body (form, multipart or JSON) without the token;
    ``blocks``/``files``/``attachments`` sent as JSON strings are decoded. ``headers`` has
    lower-cased names because clients differ in header casing. ``status`` and ``response`` are
    what the stand-in answered, which makes failed assertions easier to read.
    """

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    token: str | None
    time: float
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Upload:
    """A file the bot shared through files.completeUploadExternal, with the bytes it uploaded."""

    file_id: str
    filename: str
    title: str
    content: bytes
    channel_id: str | None
    thread_ts: str | None
    initial_comment: str | None
    file: dict[str, Any]


@dataclass
class _Failure:
    error: str
    status: int
    retry_after: int | None


class _SlackError(Exception):
    """Raised inside method handlers to answer ``{"ok": false, "error": code, ...}``."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


@dataclass
class _PendingUpload:
    file_id: str
    filename: str
    length: int
    content: bytes | None = None


@dataclass
class _Reply:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


def _json_reply(data: dict[str, Any], status: int = 200, **headers: str) -> _Reply:
    return _Reply(status, json.dumps(data).encode(), "application/json; charset=utf-8", headers)


def _text_reply(text: str, status: int = 200) -> _Reply:
    return _Reply(status, text.encode(), "text/plain; charset=utf-8")


def _parse_multipart(content_type: str, body: bytes) -> list[tuple[str, str | None, bytes]]:
    """Split a multipart/form-data body into (field name, filename, bytes) parts.

    Written by hand rather than with ``email`` so binary payloads come back byte for byte.
    """
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        return []
    delimiter = b"--" + match.group(1).encode()
    parts: list[tuple[str, str | None, bytes]] = []
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk.removeprefix(b"\r\n")
        head, _, data = chunk.partition(b"\r\n\r\n")
        data = data.removesuffix(b"\r\n")
        head_text = head.decode("utf-8", "replace")
        name = re.search(r'\bname="([^"]*)"', head_text)
        filename = re.search(r'\bfilename="([^"]*)"', head_text)
        parts.append((name.group(1) if name else "", filename.group(1) if filename else None, data))
    return parts


def _filetype_for(name: str) -> str:
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return _FILETYPE_BY_EXT.get(ext, ext) or "binary"


def _mimetype_for(name: str, filetype: str) -> str:
    if filetype in _MIMETYPE_BY_FILETYPE:
        return _MIMETYPE_BY_FILETYPE[filetype]
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _text_of(obj: Any) -> str:
    return obj.get("text", "") if isinstance(obj, dict) else ""


def _check_elements(block: dict[str, Any], where: str, problems: list[str]) -> None:
    """Actions, context and accessories: Slack's counts and lengths for their elements."""
    elements = block.get("elements") or []
    kind = block["type"]
    if kind in ("actions", "context") and not elements:
        problems.append(f"must provide elements {where}]")
    if kind == "actions" and len(elements) > MAX_ACTIONS_ELEMENTS:
        problems.append(f"no more than {MAX_ACTIONS_ELEMENTS} items allowed {where}/elements]")
    if kind == "context" and len(elements) > MAX_CONTEXT_ELEMENTS:
        problems.append(f"no more than {MAX_CONTEXT_ELEMENTS} items allowed {where}/elements]")
    buttons = [e for e in elements if isinstance(e, dict) and e.get("type") == "button"]
    if isinstance(block.get("accessory"), dict) and block["accessory"].get("type") == "button":
        buttons.append(block["accessory"])
    for button in buttons:
        if len(_text_of(button.get("text"))) > MAX_BUTTON_TEXT:
            problems.append(f"must be less than {MAX_BUTTON_TEXT + 1} characters {where}/text]")
        if len(button.get("value") or "") > MAX_BUTTON_VALUE:
            problems.append(f"must be less than {MAX_BUTTON_VALUE + 1} characters {where}/value]")
        if len(button.get("action_id") or "") > MAX_ACTION_ID:
            problems.append(f"must be less than {MAX_ACTION_ID + 1} characters {where}]")


def _check_table(block: dict[str, Any], where: str, problems: list[str]) -> None:
    """docs.slack.dev/reference/block-kit/blocks/table-block: 1-100 rows of at most 20 cells
    (raw_text or rich_text), column_settings of at most 20."""
    rows = block.get("rows")
    if not isinstance(rows, list) or not rows:
        problems.append(f"must provide rows {where}/rows]")
        return
    if len(rows) > MAX_TABLE_ROWS:
        problems.append(f"no more than {MAX_TABLE_ROWS} items allowed {where}/rows]")
    if len(block.get("column_settings") or []) > MAX_TABLE_CELLS:
        problems.append(f"no more than {MAX_TABLE_CELLS} items allowed {where}/column_settings]")
    for i, row in enumerate(rows):
        if not isinstance(row, list) or not row or len(row) > MAX_TABLE_CELLS:
            problems.append(f"a row holds 1 to {MAX_TABLE_CELLS} cells {where}/rows/{i}]")
            continue
        for cell in row:
            if not isinstance(cell, dict) or cell.get("type") not in ("raw_text", "rich_text"):
                problems.append(f"cells are raw_text or rich_text {where}/rows/{i}]")
            elif cell["type"] == "raw_text" and not isinstance(cell.get("text"), str):
                problems.append(f"raw_text needs text {where}/rows/{i}]")


def _check_chart(block: dict[str, Any], where: str, problems: list[str]) -> None:
    """docs.slack.dev/reference/block-kit/blocks/data-visualization-block: a title of at most
    50 characters; pie (1-6 segments), bar, area or line (1-6 series of unique names, their
    labels the axis categories). Categories and labels: bounded conservatively (20 and 20
    characters), as the reference read gives no number for them."""
    title, chart = block.get("title"), block.get("chart")
    if not isinstance(title, str) or not title or len(title) > MAX_CHART_TITLE:
        problems.append(f"title: 1 to {MAX_CHART_TITLE} characters {where}/title]")
    if not isinstance(chart, dict) or chart.get("type") not in ("pie", "bar", "area", "line"):
        problems.append(f"chart must be pie, bar, area or line {where}/chart]")
        return
    if chart["type"] == "pie":
        segments = chart.get("segments") or []
        if not 1 <= len(segments) <= MAX_CHART_SERIES:
            problems.append(f"1 to {MAX_CHART_SERIES} segments {where}/chart/segments]")
        return
    series = chart.get("series") or []
    categories = (chart.get("axis_config") or {}).get("categories") or []
    if not 1 <= len(series) <= MAX_CHART_SERIES:
        problems.append(f"1 to {MAX_CHART_SERIES} series {where}/chart/series]")
    if len({s.get("name") for s in series}) != len(series):
        problems.append(f"series names must be unique {where}/chart/series]")
    if not categories or len(categories) > MAX_CHART_CATEGORIES:
        problems.append(f"1 to {MAX_CHART_CATEGORIES} categories {where}/chart/axis_config]")
    if any(not isinstance(c, str) or len(c) > MAX_CHART_LABEL for c in categories):
        problems.append(f"labels of at most {MAX_CHART_LABEL} characters {where}/chart]")
    for s in series:
        points = s.get("data") or []
        if [p.get("label") for p in points] != list(categories) or not all(
            isinstance(p.get("value"), int | float) for p in points
        ):
            problems.append(f"a series has a number for each category {where}/chart/series]")


def _check_blocks(
    blocks: Any, limit: int = 50, surface: str = "message", refused: frozenset[str] = frozenset()
) -> None:
    """Refuse blocks the way Slack does, so oversize messages fail in tests, not in production:
    `limit` blocks (50 in a message, 100 in a Home tab or modal); input blocks only in views;
    `refused` types as a workspace without them (`SlackStandIn.refuse_blocks`)."""
    if not isinstance(blocks, list):
        raise _SlackError("invalid_blocks_format")
    problems: list[str] = []
    if len(blocks) > limit:
        problems.append(f"no more than {limit} items allowed [json-pointer:/blocks]")
    for i, block in enumerate(blocks):
        where = f"[json-pointer:/blocks/{i}"
        if not isinstance(block, dict) or "type" not in block:
            problems.append(f"missing required field: type {where}]")
            continue
        if block["type"] not in KNOWN_BLOCKS:
            problems.append(f"unsupported type: {block['type']} {where}/type]")
            continue
        if block["type"] == "input" and surface != "modal":
            problems.append(f"input blocks belong in modals {where}/type]")
        if block["type"] == "input":
            if not isinstance(block.get("element"), dict) or not _text_of(block.get("label")):
                problems.append(f"must provide label and element {where}]")
            elif len(_text_of(block.get("label"))) > MAX_INPUT_LABEL:
                problems.append(f"must be less than {MAX_INPUT_LABEL + 1} characters {where}]")
        _check_elements(block, where, problems)
        if block["type"] in refused:
            problems.append(f"unsupported type: {block['type']} {where}/type]")
        if block["type"] == "table":
            _check_table(block, where, problems)
        if block["type"] == "data_visualization":
            _check_chart(block, where, problems)
        if block["type"] == "header":
            if len(_text_of(block.get("text"))) > MAX_HEADER_TEXT:
                problems.append(f"must be less than {MAX_HEADER_TEXT + 1} characters {where}/text]")
        elif block["type"] == "section":
            fields = block.get("fields") or []
            if "text" not in block and not fields:
                problems.append(f"must provide either text or fields {where}]")
            if len(_text_of(block.get("text"))) > MAX_SECTION_TEXT:
                problems.append(
                    f"must be less than {MAX_SECTION_TEXT + 1} characters {where}/text/text]"
                )
            if len(fields) > MAX_SECTION_FIELDS:
                problems.append(f"no more than {MAX_SECTION_FIELDS} items allowed {where}/fields]")
            for j, fld in enumerate(fields):
                if len(_text_of(fld)) > MAX_FIELD_TEXT:
                    problems.append(
                        f"must be less than {MAX_FIELD_TEXT + 1} characters {where}/fields/{j}]"
                    )
    kinds = [b.get("type") for b in blocks if isinstance(b, dict)]
    if kinds.count("table") > 1:
        problems.append("only one table block is allowed per message [json-pointer:/blocks]")
    if kinds.count("data_visualization") > MAX_CHARTS:
        problems.append(f"no more than {MAX_CHARTS} charts per message [json-pointer:/blocks]")
    if problems:
        raise _SlackError(
            "invalid_blocks", errors=problems, response_metadata={"messages": problems}
        )


def _checked_metadata(metadata: Any) -> dict[str, Any] | None:
    """Message metadata as Slack takes it: an event_type and an object event_payload."""
    if metadata is None:
        return None
    if (
        not isinstance(metadata, dict)
        or not isinstance(metadata.get("event_type"), str)
        or not isinstance(metadata.get("event_payload"), dict)
    ):
        raise _SlackError("invalid_metadata_format")
    return metadata


def _listed(found: list[dict[str, Any]], limit: int, with_metadata: bool) -> dict[str, Any]:
    """Messages as conversations.history and .replies list them: `metadata` only when asked."""
    messages = [
        {"type": "message", **{k: v for k, v in m.items()
                               if k != "channel" and v is not None
                               and (with_metadata or k != "metadata")}}
        for m in found[:limit]
    ]  # fmt: skip
    return {"messages": messages, "has_more": len(found) > limit}


def _check_message(
    params: dict[str, Any], require_content: bool = True, refused: frozenset[str] = frozenset()
) -> None:
    text = params.get("text")
    blocks = params.get("blocks")
    if require_content and not text and not blocks and not params.get("attachments"):
        raise _SlackError("no_text")
    if blocks is not None:
        _check_blocks(blocks, refused=refused)
    if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
        raise _SlackError("msg_too_long")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "SlackStandIn/1.0"

    def log_message(self, *args: Any) -> None:
        """Stay quiet: request logs on stderr only clutter pytest output."""

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, reply: _Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    def _dispatch(self) -> None:
        body = self._body() if self.command == "POST" else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            reply = self.server.standin._handle(self.command, self.path, headers, body)
        except Exception as exc:  # a bug in the stand-in must show up, not hang the client
            traceback.print_exc()
            reply = _json_reply({"ok": False, "error": f"standin_crashed: {exc!r}"}, status=500)
        self._send(reply)

    do_GET = do_POST = do_HEAD = _dispatch


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 drops bursts of concurrent bot calls for 1 s
    standin: SlackStandIn


class SlackStandIn:
    """A fake Slack Web API + file host + response_url endpoint, run in a background thread.

    Use as a context manager; point clients at ``api_url``. All recorded state sits behind one
    lock, because the bot under test calls in from its own worker threads.
    """

    def __init__(
        self,
        bot_token: str = "xoxb-test-token",
        bot_user_id: str = "UBOT01",
        bot_id: str = "BBOT01",
        team_id: str = "T0001",
        app_token: str = "xapp-1-A123456-test-token",
    ) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        # What apps.connections.open hands out: a tests.socket_mode_standin URL, when one runs.
        self.socket_mode_url: str | None = None
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.team_id = team_id
        self._lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._base = ""
        self._counter = itertools.count()
        self._calls: list[Call] = []
        self._messages: dict[tuple[str, str], dict[str, Any]] = {}
        self._reactions: set[tuple[str, str, str]] = set()
        self._files: dict[str, tuple[dict[str, Any], bytes]] = {}
        self._pending: dict[str, _PendingUpload] = {}
        self._uploads: list[Upload] = []
        self._hooks: dict[str, list[dict[str, Any]]] = {}
        self._responses: list[tuple[str, dict[str, Any]]] = []
        self._failures: dict[str, deque[_Failure]] = {}
        self._delays: dict[str, deque[float]] = {}
        self._holding: dict[str, int] = {}  # delayed calls being held right now
        # Set by stop(): held calls end at once, as they would when Slack's end of the
        # connection goes away, instead of holding the bot's posting threads into the next test.
        self._stopped = threading.Event()
        self._not_member: set[str] = set()
        self._views: list[tuple[str, dict[str, Any]]] = []
        self._refused: frozenset[str] = frozenset()  # block types answered invalid_blocks
        self._methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "reactions.add": self._reactions_add,
            "reactions.remove": self._reactions_remove,
            "files.info": self._files_info,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "apps.connections.open": self._apps_connections_open,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "views.publish": self._views_publish,
            "views.open": self._views_open,
        }

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> SlackStandIn:
        """Bind a random loopback port and serve in a daemon thread (nothing leaves the host)."""
        if self._server is not None:
            return self
        self._stopped.clear()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.standin = self
        self._server = server
        self._base = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Shut the server down and free the port; safe to call twice."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopped.set()
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SlackStandIn:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` - the root every URL handed out by the stand-in uses."""
        if not self._base:
            raise RuntimeError("SlackStandIn is not started; use it as a context manager")
        return self._base

    @property
    def api_url(self) -> str:
        """What SLACK_API_URL / ``WebClient(base_url=...)`` should be set to."""
        return f"{self.base_url}/api/"

    # ----------------------------------------------------------------- test-facing API

    def calls(self, method: str | None = None) -> list[Call]:
        """Recorded Web API calls in arrival order (a copy, safe to use while the bot runs)."""
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 10.0,
        where: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Wait until ``count`` matching calls arrived, because the bot replies asynchronously.

        Calls are recorded after their effects, so once this returns, ``messages()``,
        ``uploads()`` etc. already reflect them. Returns all matching calls so far.
        """
        deadline = time.monotonic() + timeout
        while True:
            matching = [c for c in self.calls(method) if where is None or where(c)]
            if len(matching) >= count:
                return matching
            if time.monotonic() >= deadline:
                seen = [(c.method, c.response.get("error") or c.status) for c in self.calls()]
                raise AssertionError(
                    f"expected {count} {method} call(s) within {timeout}s, got {len(matching)}; "
                    f"calls that did arrive: {seen}"
                )
            time.sleep(0.01)

    def add_file(
        self,
        name: str,
        content: bytes,
        user: str = "U2147483697",
        filetype: str | None = None,
        file_id: str | None = None,
    ) -> dict[str, Any]:
        """Host a file as if a user had shared it; returns the Slack ``file`` object.

        The object's ``url_private_download`` points at this server, so a bot that fetches the
        file from a file_share event downloads exactly these bytes.
        """
        with self._lock:
            fid = file_id or self._new_file_id()
            obj = self._file_object(fid, name, name, len(content), user, filetype)
            self._files[fid] = (obj, bytes(content))
            return copy.deepcopy(obj)

    def response_url(self) -> str:
        """A fresh response_url on this server (accepts up to five JSON posts, like Slack)."""
        with self._lock:
            path = f"/commands/{self.team_id}/{next(self._counter)}/{uuid.uuid4().hex[:24]}"
            url = self.base_url + path
            self._hooks[url] = []
            return url

    def responses(self, url: str | None = None) -> list[dict[str, Any]]:
        """JSON bodies posted to response URLs, in order; only those to ``url`` when given."""
        with self._lock:
            return [copy.deepcopy(b) for u, b in self._responses if url is None or u == url]

    def wait_for_responses(
        self, count: int = 1, url: str | None = None, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        """Wait for ``count`` response_url posts, since slash commands answer after ``ack()``."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.responses(url)
            if len(got) >= count:
                return got
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"expected {count} response_url post(s) within {timeout}s, got {got}; "
                    f"Web API calls: {[c.method for c in self.calls()]}"
                )
            time.sleep(0.01)

    def uploads(self) -> list[Upload]:
        """Files the bot shared (after files.completeUploadExternal), with their bytes."""
        with self._lock:
            return list(self._uploads)

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Posted messages as they stand now (after chat.update edits), in posting order."""
        with self._lock:
            return [
                copy.deepcopy(m)
                for m in self._messages.values()
                if channel is None or m["channel"] == channel
            ]

    def fail(
        self,
        method: str,
        error: str | None = None,
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail the way Slack fails.

        ``status=200`` answers ``{"ok": false, "error": error}``; 429 is rate limiting (with a
        ``Retry-After`` header when ``retry_after`` is given); 5xx are server errors.
        """
        default = {429: "ratelimited"}.get(status, "internal_error")
        with self._lock:
            queue = self._failures.setdefault(method, deque())
            queue.extend(_Failure(error or default, status, retry_after) for _ in range(times))

    def delay(self, method: str, seconds: float, times: int = 1) -> None:
        """Make the next ``times`` calls of ``method`` answer only after ``seconds`` (Slack
        slow or hanging), while every other call is answered as usual."""
        with self._lock:
            self._delays.setdefault(method, deque()).extend([seconds] * times)

    def holding(self, method: str) -> int:
        """How many delayed calls of ``method`` have arrived and are being held now."""
        with self._lock:
            return self._holding.get(method, 0)

    def set_channel_membership(self, channel: str, member: bool) -> None:
        """Whether the bot is in ``channel``; outside it, posting and sharing files fail."""
        with self._lock:
            if member:
                self._not_member.discard(channel)
            else:
                self._not_member.add(channel)

    # ----------------------------------------------------------------- HTTP routing

    def _handle(self, verb: str, raw_path: str, headers: dict[str, str], body: bytes) -> _Reply:
        split = urlsplit(raw_path)
        path = split.path
        if path.startswith("/api/") and verb in ("GET", "POST"):
            return self._web_api(path[len("/api/") :], split.query, headers, body)
        if path.startswith("/upload/v1/") and verb == "POST":
            return self._receive_upload(path[len("/upload/v1/") :], headers, body)
        if path.startswith("/files-pri/") and verb in ("GET", "HEAD"):
            return self._download(path, headers)
        if path.startswith("/commands/") and verb == "POST":
            return self._receive_response(self.base_url + path, headers, body)
        return _text_reply("not found", status=404)

    def _parse_params(
        self, query: str, headers: dict[str, str], body: bytes
    ) -> tuple[dict[str, Any], str | None]:
        params: dict[str, Any] = {k: v[0] for k, v in parse_qs(query, True).items()}
        content_type = headers.get("content-type", "")
        kind = content_type.split(";")[0].strip().lower()
        if body:
            if kind == "application/json":
                decoded = json.loads(body)
                if not isinstance(decoded, dict):
                    raise _SlackError("invalid_json")
                params.update(decoded)
            elif kind == "multipart/form-data":
                for name, filename, data in _parse_multipart(content_type, body):
                    params[name] = data if filename is not None else data.decode()
            else:
                params.update({k: v[0] for k, v in parse_qs(body.decode(), True).items()})
        for key in _JSON_PARAMS:
            value = params.get(key)
            if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
                # Undecodable JSON stays a string; the method then answers invalid_*_format.
                with contextlib.suppress(ValueError):
                    params[key] = json.loads(value)
        token = params.pop("token", None)
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            token = auth[len("bearer ") :].strip()
        return params, token

    def _web_api(self, method: str, query: str, headers: dict[str, str], body: bytes) -> _Reply:
        arrived = time.monotonic()
        with self._lock:
            delays = self._delays.get(method)
            hang = delays.popleft() if delays else 0.0
        if hang:
            with self._lock:
                self._holding[method] = self._holding.get(method, 0) + 1
            self._stopped.wait(hang)  # a slow Slack: other requests are served meanwhile
            with self._lock:
                self._holding[method] -= 1
        with self._lock:
            token: str | None = None
            params: dict[str, Any] = {}
            reply_headers: dict[str, str] = {}
            status = 200
            try:
                params, token = self._parse_params(query, headers, body)
                failure = self._take_failure(method)
                if failure is not None:
                    status = failure.status
                    if failure.retry_after is not None:
                        reply_headers["Retry-After"] = str(failure.retry_after)
                    raise _SlackError(failure.error)
                if not token:
                    raise _SlackError("not_authed")
                # Socket Mode's one method takes the app-level token, and only that token.
                app_level = method == "apps.connections.open"
                if token not in (self.bot_token, self.app_token):
                    raise _SlackError("invalid_auth")
                if app_level != (token == self.app_token):
                    raise _SlackError("not_allowed_token_type")
                handler = self._methods.get(method)
                if handler is None:
                    raise _SlackError("unknown_method", req_method=method)
                data = {"ok": True, **handler(params)}
            except _SlackError as err:
                data = {"ok": False, "error": err.code, **err.extra}
            except ValueError:  # undecodable JSON body
                data = {"ok": False, "error": "invalid_json"}
            self._calls.append(
                Call(method, copy.deepcopy(params), headers, token, arrived, status, data)
            )
            return _json_reply(data, status, **reply_headers)

    def _take_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method)
        return queue.popleft() if queue else None

    # ----------------------------------------------------------------- Web API methods

    def _new_ts(self) -> str:
        return f"{1741000000 + next(self._counter)}.000100"

    def _new_file_id(self) -> str:
        while True:
            fid = f"F{next(self._counter):08d}"
            if fid not in self._files and fid not in {p.file_id for p in self._pending.values()}:
                return fid

    def _file_object(
        self,
        file_id: str,
        name: str,
        title: str,
        size: int,
        user: str,
        filetype: str | None = None,
    ) -> dict[str, Any]:
        ftype = filetype or _filetype_for(name)
        quoted = quote(name)
        prefix = f"{self.base_url}/files-pri/{self.team_id}-{file_id}"
        now = int(time.time())
        return {
            "id": file_id,
            "created": now,
            "timestamp": now,
            "name": name,
            "title": title,
            "mimetype": _mimetype_for(name, ftype),
            "filetype": ftype,
            "pretty_type": ftype.upper(),
            "user": user,
            "user_team": self.team_id,
            "editable": False,
            "size": size,
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": True,
            "url_private": f"{prefix}/{quoted}",
            "url_private_download": f"{prefix}/download/{quoted}",
            "permalink": f"{self.base_url}/files/{user}/{file_id}/{quoted}",
        }

    def _require(self, params: dict[str, Any], *names: str) -> None:
        missing = [n for n in names if not params.get(n)]
        if missing:
            raise _SlackError("invalid_arguments", missing=missing)

    def _check_member(self, channel: str) -> None:
        if channel in self._not_member:
            raise _SlackError("not_in_channel")

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://example.slack.com/",
            "team": "Example",
            "user": "roasbot",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.socket_mode_url is None:
            raise _SlackError("socket_mode_not_enabled")  # hypothetical: no socket to hand out
        return {"url": self.socket_mode_url}

    def _chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel")
        if not channel:
            raise _SlackError("channel_not_found")
        self._check_member(channel)
        _check_message(params, refused=self._refused)
        ts = self._new_ts()
        message = {
            "channel": channel,
            "ts": ts,
            "text": params.get("text", ""),
            "blocks": params.get("blocks"),
            "thread_ts": params.get("thread_ts"),
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "metadata": _checked_metadata(params.get("metadata")),
        }
        self._messages[(channel, ts)] = message
        reply = {k: v for k, v in message.items() if k != "channel" and v is not None}
        return {"channel": channel, "ts": ts, "message": {"type": "message", **reply}}

    def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        """A channel's messages newest first (top-level ones: replies stay in their thread);
        `metadata` only with include_all_metadata, as Slack does."""
        self._require(params, "channel")
        channel = params["channel"]
        self._check_member(channel)
        oldest = float(params.get("oldest") or 0)
        limit = min(int(params.get("limit") or 100), 999)
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        found = sorted(
            (
                m for (c, ts), m in self._messages.items()
                if c == channel and float(ts) > oldest and m.get("thread_ts") in (None, ts)
            ),
            key=lambda m: float(m["ts"]),
            reverse=True,
        )  # fmt: skip
        return _listed(found, limit, with_metadata)

    def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        """A Home tab for one user: type home, at most 100 blocks."""
        self._require(params, "user_id", "view")
        view = params["view"]
        if not isinstance(view, dict) or view.get("type") != "home":
            raise _SlackError("invalid_arguments")
        _check_blocks(view.get("blocks") or [], MAX_VIEW_BLOCKS, "home")
        self._views.append((f"home:{params['user_id']}", view))
        return {"view": {"id": f"V{len(self._views):06d}", **view}}

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        """A modal: a trigger_id, a title of 24 characters at most, submit when it has
        inputs, at most 100 blocks, private_metadata of 3000 characters at most."""
        self._require(params, "trigger_id", "view")
        view = params["view"]
        if not isinstance(view, dict) or view.get("type") != "modal":
            raise _SlackError("invalid_arguments")
        problems = []
        for key in ("title", "submit", "close"):
            text = _text_of(view.get(key))
            if key == "title" and not text:
                problems.append("must provide title [json-pointer:/view/title]")
            if len(text) > MAX_VIEW_TITLE:
                problems.append(f"must be less than {MAX_VIEW_TITLE + 1} characters "
                                f"[json-pointer:/view/{key}/text]")  # fmt: skip
        blocks = view.get("blocks") or []
        if any(isinstance(b, dict) and b.get("type") == "input" for b in blocks) and not (
            _text_of(view.get("submit"))
        ):
            problems.append("must provide submit when there are inputs [json-pointer:/view]")
        if len(view.get("private_metadata") or "") > MAX_PRIVATE_METADATA:
            problems.append("private_metadata too long [json-pointer:/view/private_metadata]")
        if problems:
            raise _SlackError("invalid_arguments", response_metadata={"messages": problems})
        _check_blocks(blocks, MAX_VIEW_BLOCKS, "modal")
        self._views.append(("modal", view))
        return {"view": {"id": f"V{len(self._views):06d}", **view}}

    def refuse_blocks(self, *kinds: str) -> None:
        """Answer invalid_blocks to messages with these block types (a workspace whose Slack
        does not have them yet); none given: take them again."""
        with self._lock:
            self._refused = frozenset(kinds)

    def views(self, surface: str | None = None) -> list[dict[str, Any]]:
        """Views published or opened, oldest first: `home:USER` or `modal`."""
        with self._lock:
            return [v for s, v in self._views if surface is None or s == surface]

    def _conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        """A thread: its parent and replies oldest first (`metadata` only with
        include_all_metadata); thread_not_found when nothing of it was posted here."""
        self._require(params, "channel", "ts")
        channel, parent = params["channel"], params["ts"]
        self._check_member(channel)
        limit = min(int(params.get("limit") or 1000), 1000)
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        found = sorted(
            (m for (c, ts), m in self._messages.items()
             if c == channel and (ts == parent or m.get("thread_ts") == parent)),
            key=lambda m: float(m["ts"]),
        )  # fmt: skip
        if not found:
            raise _SlackError("thread_not_found")
        return _listed(found, limit, with_metadata)

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        self._require(params, "channel", "ts")
        message = self._messages.get((params["channel"], params["ts"]))
        if message is None:
            raise _SlackError("message_not_found")
        _check_message(params, require_content=False, refused=self._refused)
        for key in ("text", "blocks"):
            if key in params:
                message[key] = params[key]
        message["edited"] = {"user": self.bot_user_id, "ts": self._new_ts()}
        return {
            "channel": message["channel"],
            "ts": message["ts"],
            "text": message["text"],
            "message": {"type": "message", **{k: v for k, v in message.items() if v is not None}},
        }

    def _chat_post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel"):
            raise _SlackError("channel_not_found")
        if not params.get("user"):
            raise _SlackError("user_not_found")
        _check_message(params)
        return {"message_ts": self._new_ts()}

    def _reaction_key(self, params: dict[str, Any]) -> tuple[str, str, str]:
        self._require(params, "channel", "timestamp", "name")
        return params["channel"], params["timestamp"], params["name"].strip(":")

    def _reactions_add(self, params: dict[str, Any]) -> dict[str, Any]:
        key = self._reaction_key(params)
        if key in self._reactions:
            raise _SlackError("already_reacted")
        self._reactions.add(key)
        return {}

    def _reactions_remove(self, params: dict[str, Any]) -> dict[str, Any]:
        key = self._reaction_key(params)
        if key not in self._reactions:
            raise _SlackError("no_reaction")
        self._reactions.discard(key)
        return {}

    def _files_info(self, params: dict[str, Any]) -> dict[str, Any]:
        hosted = self._files.get(params.get("file", ""))
        if hosted is None:
            raise _SlackError("file_not_found")
        return {
            "file": copy.deepcopy(hosted[0]),
            "comments": [],
            "response_metadata": {"next_cursor": ""},
        }

    def _files_get_upload_url(self, params: dict[str, Any]) -> dict[str, Any]:
        self._require(params, "filename", "length")
        try:
            length = int(params["length"])
        except (TypeError, ValueError):
            raise _SlackError("invalid_arguments", bad=["length"]) from None
        key = uuid.uuid4().hex
        file_id = self._new_file_id()
        self._pending[key] = _PendingUpload(file_id, str(params["filename"]), length)
        return {"upload_url": f"{self.base_url}/upload/v1/{key}", "file_id": file_id}

    def _files_complete_upload(self, params: dict[str, Any]) -> dict[str, Any]:
        files = params.get("files")
        if not isinstance(files, list) or not files:
            raise _SlackError("invalid_arguments", bad=["files"])
        channel = params.get("channel_id")
        channels = [c for c in str(params.get("channels") or "").split(",") if c]
        for target in ([channel] if channel else []) + channels:
            self._check_member(target)
        by_id = {p.file_id: (key, p) for key, p in self._pending.items()}
        entries = []
        for item in files:
            fid = item.get("id") if isinstance(item, dict) else None
            if fid not in by_id:
                raise _SlackError("file_not_found", file_id=fid)
            key, pending = by_id[fid]
            if pending.content is None:
                raise _SlackError("file_not_found", file_id=fid, detail="nothing uploaded yet")
            entries.append((key, pending, item.get("title") or pending.filename))
        shared = []
        for key, pending, title in entries:
            del self._pending[key]
            content = pending.content or b""
            obj = self._file_object(
                pending.file_id, pending.filename, title, len(content), self.bot_user_id
            )
            obj["channels"] = [c for c in [channel, *channels] if c]
            self._files[pending.file_id] = (obj, content)
            for target in [channel, *channels] if (channel or channels) else [None]:
                self._uploads.append(
                    Upload(
                        file_id=pending.file_id,
                        filename=pending.filename,
                        title=title,
                        content=content,
                        channel_id=target,
                        thread_ts=params.get("thread_ts"),
                        initial_comment=params.get("initial_comment"),
                        file=copy.deepcopy(obj),
                    )
                )
            shared.append(copy.deepcopy(obj))
        return {"files": shared}

    # ----------------------------------------------------------------- files and hooks

    def _receive_upload(self, key: str, headers: dict[str, str], body: bytes) -> _Reply:
        with self._lock:
            pending = self._pending.get(key)
            if pending is None:
                return _text_reply("Not Found", status=404)
            content_type = headers.get("content-type", "")
            content = body
            # urllib labels raw bytes x-www-form-urlencoded, so only multipart is unwrapped.
            if content_type.lower().startswith("multipart/form-data"):
                parts = _parse_multipart(content_type, body)
                named = [d for n, fn, d in parts if fn is not None or n == "file"]
                if not named:
                    return _text_reply("no file field in multipart body", status=400)
                content = named[0]
            pending.content = content
            return _text_reply(f"OK - {len(content)}")

    def _download(self, path: str, headers: dict[str, str]) -> _Reply:
        match = re.fullmatch(r"/files-pri/[^/]+?-(F[^/]+)/(download/)?[^/]+", path)
        with self._lock:
            hosted = self._files.get(match.group(1)) if match else None
        auth = headers.get("authorization", "")
        if auth != f"Bearer {self.bot_token}":
            # Slack does not answer 401/403 here: it serves its sign-in page with status 200.
            return _Reply(200, _LOGIN_PAGE.encode(), "text/html; charset=utf-8")
        if hosted is None or match is None:
            return _text_reply("File not found", status=404)
        obj, content = hosted
        extra = {}
        if match.group(2):
            extra["Content-Disposition"] = f'attachment; filename="{quote(obj["name"])}"'
        return _Reply(200, content, obj["mimetype"], extra)

    def _receive_response(self, url: str, headers: dict[str, str], body: bytes) -> _Reply:
        with self._lock:
            posted = self._hooks.get(url)
            if posted is None:
                return _text_reply("no_active_hooks", status=404)
            if len(posted) >= RESPONSE_URL_LIMIT:
                return _text_reply("used_url", status=404)
            try:
                payload = json.loads(body)
            except ValueError:
                return _text_reply("invalid_payload", status=400)
            if not isinstance(payload, dict):
                return _text_reply("invalid_payload", status=400)
            if not payload.get("delete_original"):
                try:
                    _check_message(payload)
                except _SlackError as err:
                    return _text_reply(err.code, status=400)
            posted.append(payload)
            self._responses.append((url, payload))
            return _text_reply("ok")


# --------------------------------------------------------------------- requests Slack sends


def sign(signing_secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack puts on every request, so the app's signature check passes (or, with a stale
    ``timestamp``, fails) exactly as in production."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + ts.encode() + b":" + body
    digest = hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def slash_command_body(
    command: str,
    text: str,
    response_url: str,
    channel_id: str = "C2147483705",
    user_id: str = "U2147483697",
    **extra: str,
) -> bytes:
    """A form-encoded slash command as Slack posts it; ``extra`` overrides or adds fields."""
    fields = {
        "token": "gIkuvaNzQIHg97ATvDxqgjtO",
        "team_id": "T0001",
        "team_domain": "example",
        "enterprise_id": "",
        "enterprise_name": "",
        "channel_id": channel_id,
        "channel_name": "marketing",
        "user_id": user_id,
        "user_name": "priya",
        "command": command,
        "text": text,
        "api_app_id": "A123456",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        **extra,
    }
    return urlencode(fields).encode()


def file_share_event_body(
    file: dict[str, Any] | list[dict[str, Any]],
    channel: str = "C2147483705",
    user: str = "U2147483697",
    event_id: str | None = None,
    ts: str | None = None,
    bot_id: str | None = None,
    text: str = "",
    bot_user_id: str = "UBOT01",
) -> bytes:
    """An Events API ``message``/``file_share`` callback carrying ``file`` (one or a list).

    With ``bot_id`` the message is marked as coming from that bot - what Slack echoes back after
    the bot's own upload, which the app must ignore (pass ``user=<bot user id>`` too for realism).
    """
    now = time.time()
    ts = ts or f"{now:.6f}"
    event: dict[str, Any] = {
        "type": "message",
        "subtype": "file_share",
        "text": text,
        "user": user,
        "upload": False,
        "display_as_bot": False,
        "channel": channel,
        "channel_type": "channel",
        "ts": ts,
        "event_ts": ts,
        "files": file if isinstance(file, list) else [file],
    }
    if bot_id is not None:
        event["bot_id"] = bot_id
    return event_body(event, event_id, bot_user_id)


def event_body(event: dict[str, Any], event_id: str | None = None, bot_user_id: str = "UBOT01"):
    """An Events API ``event_callback`` envelope around ``event``, as Slack posts it."""
    body = {
        "token": "XXYYZZ",
        "team_id": "T0001",
        "api_app_id": "A123456",
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "event": event,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": "T0001",
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }
    return json.dumps(body).encode()


def message_event_body(
    text: str,
    channel: str = "C2147483705",
    user: str = "U2147483697",
    *,
    thread_ts: str | None = None,
    channel_type: str = "channel",
    mention: bool = False,
    ts: str | None = None,
) -> bytes:
    """What Slack sends when someone writes: ``app_mention`` with ``mention`` (the text starts
    with the bot's ``<@UBOT01>``), else a ``message`` of ``channel_type`` (``im`` for a DM), in
    the thread of ``thread_ts`` when given (as in /work/shared/slack-payloads)."""
    ts = ts or f"{time.time():.6f}"
    event: dict[str, Any] = {
        "type": "app_mention" if mention else "message",
        "user": user,
        "text": f"<@UBOT01> {text}" if mention else text,
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
    }
    if not mention:
        event["channel_type"] = channel_type
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
        event["parent_user_id"] = "UBOT01"
    return event_body(event)


def app_home_opened_body(user: str = "U2147483697") -> bytes:
    """Someone opens the app's Home tab."""
    ts = f"{time.time():.6f}"
    event = {
        "type": "app_home_opened", "user": user, "channel": "D0123456", "tab": "home",
        "event_ts": ts,
        "view": {"id": "V0HOME", "team_id": "T0001", "type": "home", "blocks": [],
                 "hash": "1741000000.abcd"},
    }  # fmt: skip
    return event_body(event)


def _interaction(kind: str, user: str, trigger_id: str) -> dict[str, Any]:
    """The fields every interaction payload starts with."""
    return {
        "type": kind,
        "team": {"id": "T0001", "domain": "example"},
        "user": {"id": user, "username": "priya", "team_id": "T0001"},
        "api_app_id": "A123456",
        "token": "XXYYZZ",
        "trigger_id": trigger_id,
    }


def block_action_body(
    action_id: str,
    value: str,
    response_url: str,
    channel: str = "C2147483705",
    user: str = "U2147483697",
    message_ts: str = "1741000100.000300",
    in_view: str | None = None,
) -> bytes:
    """A button click (``block_actions``), form-encoded as ``payload=<json>`` like Slack; with
    ``in_view`` ("home") a click in the Home tab: no channel, message or response_url."""
    payload = {
        **_interaction("block_actions", user, "12466734323.1395872398"),
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "channel": {"id": channel, "name": "marketing"},
        "message": {"type": "message", "ts": message_ts, "text": "ROAS", "bot_id": "B01"},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": "actions",
                "type": "button",
                "text": {"type": "plain_text", "text": "Go"},
                "value": value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    if in_view is not None:
        for key in ("channel", "message", "response_url"):
            payload.pop(key)
        payload["container"] = {"type": "view", "view_id": "V0HOME"}
        payload["view"] = {"id": "V0HOME", "type": in_view, "blocks": [], "hash": "1.a"}
    return ("payload=" + quote(json.dumps(payload))).encode()


def view_submission_body(
    view: dict[str, Any], values: dict[str, Any], user: str = "U2147483697"
) -> bytes:
    """A modal submitted (``view_submission``), form-encoded like Slack: ``view`` is the view
    the bot opened, ``values`` its state by block id: a string for a text input, ``{"option":
    value}`` for a select, ``{"conversation": id}`` for a conversations select."""
    state: dict[str, Any] = {}
    for block in view.get("blocks") or []:
        if block.get("type") != "input" or block["block_id"] not in values:
            continue
        element, given = block["element"], values[block["block_id"]]
        entry: dict[str, Any] = {"type": element["type"]}
        if element["type"] == "plain_text_input":
            entry["value"] = given
        elif element["type"] == "conversations_select":
            entry["selected_conversation"] = given
        else:
            [option] = [o for o in element["options"] if o["value"] == given]
            entry["selected_option"] = option
        state[block["block_id"]] = {element["action_id"]: entry}
    payload = {
        **_interaction("view_submission", user, "12466734323.1395872399"),
        "view": {**view, "id": "V0FORM", "state": {"values": state}, "hash": "1.b"},
        "response_urls": [],
        "is_enterprise_install": False,
    }
    return ("payload=" + quote(json.dumps(payload))).encode()


def url_verification_body(challenge: str) -> bytes:
    """The one-time challenge Slack sends when the request URL is saved."""
    body = {"token": "Jhj5dZrVaK7ZwHHjRyZWjbDl", "challenge": challenge, "type": "url_verification"}
    return json.dumps(body).encode()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def post(
    url: str, body: bytes, headers: dict[str, str], timeout: float = 10.0
) -> tuple[int, dict[str, str], bytes]:
    """POST to the app under test and return (status, lower-cased headers, body), even on 4xx/5xx.

    Refuses non-loopback hosts and ignores proxy settings, so a test can never reach the internet.
    A missing Content-Type is filled in: JSON for bodies starting with ``{``, else form-encoded.
    """
    host = urlsplit(url).hostname or ""
    if not _is_loopback(host):
        raise ValueError(f"refusing to POST to non-loopback host {host!r}")
    all_headers = dict(headers)
    if not any(k.lower() == "content-type" for k in all_headers):
        is_json = body.lstrip().startswith(b"{")
        all_headers["Content-Type"] = (
            "application/json" if is_json else "application/x-www-form-urlencoded"
        )
    opener = build_opener(ProxyHandler({}))
    request = Request(url, data=body, headers=all_headers, method="POST")
    try:
        with opener.open(request, timeout=timeout) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()
