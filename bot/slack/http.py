"""HTTP mode: Slack's requests on POST /slack/events, a health check on GET /healthz.

Served by waitress, a production WSGI server (threads, no debug reloader), not Bolt's
development server. It listens on 127.0.0.1 unless told otherwise: put a TLS proxy in front.

Every request is checked before anything reads it: its size, the form of its timestamp and
its signature over the raw bytes, and that the same signed request was not seen in the last
five minutes (Slack does not require this; remembering a few thousand pairs is cheap). Only
then is the body parsed, and what does not parse is a 400. Anyone can send junk to a public
URL, so junk gets a short answer and one log line, never a traceback.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from urllib.parse import parse_qs

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

MAX_BODY = 1 << 20  # Slack's requests are a few kB; nothing it sends comes near this
REPLAY_SECONDS = 5 * 60  # Slack's own window for a request's timestamp
HEALTH_TIMEOUT_S = 3.0
_HEALTH = ThreadPoolExecutor(max_workers=2, thread_name_prefix="roasbot-health")


class _Replays:
    """Signed requests seen in the last five minutes, to answer a replayed one only once."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def first_time(self, timestamp: str, signature: str) -> bool:
        now = time.monotonic()
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen = {k: t for k, t in self._seen.items() if t > now}
            key = (timestamp, signature)
            if self._seen.get(key, 0) > now:
                return False
            self._seen[key] = now + REPLAY_SECONDS
            return True


def _parses(body: bytes, content_type: str) -> bool:
    """Whether the body is what Slack sends: JSON, or a form whose `payload` is JSON."""
    try:
        decoded = body.decode("utf-8")
        if content_type.startswith("application/json"):
            json.loads(decoded)
            return True
        form = parse_qs(decoded, strict_parsing=bool(decoded), keep_blank_values=True)
        if "payload" in form:
            json.loads(form["payload"][0])
        return True
    except (UnicodeDecodeError, ValueError):
        return False


def signed(secret: bytes, body: bytes, timestamp: str, signature: str) -> bool:
    """Slack's v0 signature over the raw bytes (any bytes: junk must be checkable, not decoded
    first), with a timestamp of digits within five minutes of now."""
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > REPLAY_SECONDS:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def wsgi_app(app: App, db: Engine, signing_secret: str):
    slack = SlackRequestHandler(app, path="/slack/events")
    secret = signing_secret.encode()
    replays = _Replays()

    def reply(start_response, status: str, body: dict) -> list[bytes]:
        data = json.dumps(body).encode()
        start_response(
            status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
        )
        return [data]

    def application(environ, start_response):
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD")
        if path == "/healthz" and method == "GET":
            return reply(start_response, "200 OK", {"status": "ok", "store": _store_status(db)})
        if path != "/slack/events" or method != "POST":
            return reply(start_response, "404 Not Found", {"error": "not found"})
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            return reply(start_response, "413 Payload Too Large", {"error": "too large"})
        body = environ["wsgi.input"].read(length)
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
        signature = environ.get("HTTP_X_SLACK_SIGNATURE", "")
        if not signed(secret, body, timestamp, signature):
            log.info("refused an unsigned, forged or stale request")
            return reply(start_response, "401 Unauthorized", {"error": "invalid request"})
        if not _parses(body, environ.get("CONTENT_TYPE", "")):
            log.info("refused a signed request whose body does not parse")
            return reply(start_response, "400 Bad Request", {"error": "malformed request"})
        if not replays.first_time(timestamp, signature) and not environ.get(
            "HTTP_X_SLACK_RETRY_NUM"
        ):
            log.info("dropped a replayed request")
            return reply(start_response, "200 OK", {})
        environ["wsgi.input"] = io.BytesIO(body)
        return slack(environ, start_response)

    return application


def _store_status(db: Engine) -> str:
    """'ok' or 'unavailable', within HEALTH_TIMEOUT_S whatever the store does."""

    def ping() -> None:
        with db.connect() as conn:
            conn.execute(text("SELECT 1"))

    try:
        _HEALTH.submit(ping).result(timeout=HEALTH_TIMEOUT_S)
        return "ok"
    except (SQLAlchemyError, FutureTimeout):
        log.warning("health check: the store is not answering")
        return "unavailable"


def serve(app: App, db: Engine, host: str, port: int, signing_secret: str, threads: int = 16):
    from waitress import serve as waitress_serve

    log.warning("roasbot listening on http://%s:%s/slack/events", host, port)
    waitress_serve(
        wsgi_app(app, db, signing_secret), host=host, port=port, threads=threads, ident="roasbot"
    )
