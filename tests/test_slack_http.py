"""The HTTP front door in-process: the WSGI app of `roasbot serve`, with the real Bolt app behind
it. Junk gets 400 or 401 without a traceback; a replayed request is answered once; /healthz
answers within its bound. Both stores."""

from __future__ import annotations

import io
import json
import logging
import time
from urllib.parse import quote

import pytest

from bot.slack.http import wsgi_app
from tests.inprocess import SECRET, app_for
from tests.slack_standin import SlackStandIn, sign, slash_command_body


@pytest.fixture
def slack():
    with SlackStandIn() as standin:
        yield standin


@pytest.fixture
def front(slack, store):
    return wsgi_app(app_for(slack, store), store, SECRET)


def call(front, body: bytes, headers: dict[str, str], method: str = "POST", path="/slack/events"):
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": headers.pop("content-type", "application/x-www-form-urlencoded"),
        "wsgi.input": io.BytesIO(body),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "3000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
    }
    environ.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()})
    got = {}

    def start_response(status, response_headers, exc_info=None):
        got["status"] = int(status.split()[0])

    body = b"".join(front(environ, start_response))
    return got["status"], body


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{x", "application/json"),  # JSON that is not
        (b"payload=%7Bnot-json", "application/x-www-form-urlencoded"),
        (b"\xff\xfe\x00junk", "application/x-www-form-urlencoded"),  # not UTF-8
        (slash_command_body("/roas", "", "http://x"), "application/json"),  # a form sent as JSON
    ],
)
def test_a_signed_body_that_does_not_parse_is_a_400_without_a_traceback(
    front, body, content_type, caplog
):
    caplog.set_level(logging.DEBUG)
    status, _ = call(front, body, {"content-type": content_type, **sign(SECRET, body)})
    assert status == 400
    assert "Traceback" not in caplog.text and not any(r.exc_info for r in caplog.records)


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"},
        {},
        {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=forged"},
    ],
)
def test_unsigned_junk_is_a_401_before_it_is_parsed(front, headers, caplog):
    caplog.set_level(logging.DEBUG)
    for body in (b"{x", b"payload=%7Bnot-json"):
        assert call(front, body, {"content-type": "application/json", **headers})[0] == 401
    assert not any(r.exc_info for r in caplog.records)


def test_a_replayed_request_is_answered_once(front, slack):
    body = slash_command_body("/roas", "help", "http://x")
    headers = sign(SECRET, body)
    first = call(front, body, dict(headers))
    again = call(front, body, dict(headers))
    assert first[0] == again[0] == 200
    assert b"/underperformers" in first[1] and again[1] == b"{}"


def test_an_oversized_body_is_refused_unread(front):
    body = b"x" * (2 << 20)
    assert call(front, body, sign(SECRET, body))[0] == 413


def test_healthz_answers_and_other_paths_are_not_found(front):
    status, body = call(front, b"", {}, method="GET", path="/healthz")
    assert (status, json.loads(body)) == (200, {"status": "ok", "store": "ok"})
    assert call(front, b"", {}, method="GET", path="/nope")[0] == 404


def test_a_button_value_that_is_not_json_says_the_button_is_stale(front, slack):
    url = slack.response_url()
    payload = {"type": "block_actions", "user": {"id": "U1"}, "channel": {"id": "C1"},
               "container": {"message_ts": "1.2"}, "response_url": url, "team": {"id": "T1"},
               "actions": [{"action_id": "alert_mute", "value": "not json"}]}  # fmt: skip
    body = ("payload=" + quote(json.dumps(payload))).encode()
    assert call(front, body, sign(SECRET, body))[0] == 200
    [reply] = slack.wait_for_responses(url=url, timeout=30)
    assert "stale" in reply["text"]
