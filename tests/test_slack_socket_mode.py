"""End to end: `roasbot serve` in Socket Mode as a real process.

With SLACK_APP_TOKEN set the bot opens the connection itself: `apps.connections.open` on the
Web API stand-in, then a WebSocket to the Socket Mode stand-in, which sends it envelopes as
Slack does. The same listeners answer as in HTTP mode; only the transport differs, so these
tests check the transport: acks with their envelope ids inside Slack's 3 seconds, an ephemeral
reply carried in the ack, and the answer posted through the Web API afterwards. On SQLite and
PostgreSQL, like the HTTP mode tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from tests.slack_standin import (
    SlackStandIn,
    block_action_body,
    message_event_body,
    slash_command_body,
    view_submission_body,
)
from tests.socket_mode_standin import SocketModeStandIn
from tests.test_slack_e2e import CHANNEL, TOKEN, WINDOW, bot_environment, chart_in_thread, headed

APP_TOKEN = "xapp-1-A123456-7777-socketmodetoken"


@pytest.fixture(scope="module")
def slack(module_store) -> Iterator[tuple[SlackStandIn, SocketModeStandIn]]:
    """Fresh stand-ins per store, so one store's run never satisfies the other's waits."""
    with SlackStandIn(bot_token=TOKEN, app_token=APP_TOKEN) as web, SocketModeStandIn() as sock:
        web.socket_mode_url = sock.url
        yield web, sock


@pytest.fixture(scope="module")
def bot(module_store, slack) -> Iterator[subprocess.Popen]:
    web, sock = slack
    env = bot_environment(module_store, web.api_url, SLACK_APP_TOKEN=APP_TOKEN)
    log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"roasbot-socket-{os.getpid()}.log"
    with open(log_path, "w+") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve"], env=env, stdout=log, stderr=log
        )
        try:
            sock.wait_connected(timeout=60)
        except AssertionError:
            process.kill()
            log.seek(0)
            raise AssertionError(
                f"no Socket Mode connection; the bot said:\n{log.read()}"
            ) from None
        yield process
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _command(text: str, response_url: str) -> dict[str, str]:
    """A slash command's fields as a Socket Mode payload carries them (the same as the form)."""
    return dict(parse_qsl(slash_command_body("/roas", text, response_url).decode()))


def test_the_bot_opens_the_connection_with_the_app_token(bot, slack):
    web, _ = slack
    [opened] = web.calls("apps.connections.open")
    assert opened.token == APP_TOKEN and opened.response["ok"] is True


def test_a_slash_command_is_acked_then_answered_with_figures_and_a_chart(bot, slack):
    web, sock = slack
    envelope = sock.send("slash_commands", _command(f"{WINDOW} by=brand", web.response_url()))
    ack = sock.wait_ack(envelope, timeout=3)
    assert ack.seconds < 3
    [message] = web.wait_for("chat.postMessage", where=headed("ROAS by brand"), timeout=30)
    fields = {f["text"].split("\n")[0]: f["text"] for f in message.params["blocks"][1]["fields"]}
    assert fields["*ROAS*"] == "*ROAS*\n2.22x" and fields["*Revenue*"] == "*Revenue*\n₹5,000"
    chart = chart_in_thread(web, message.response["ts"])
    assert chart.content[:8] == b"\x89PNG\r\n\x1a\n" and chart.channel_id == CHANNEL


def test_a_parse_error_comes_back_in_the_ack_as_an_ephemeral_suggestion(bot, slack):
    web, sock = slack
    envelope = sock.send("slash_commands", _command("brnd=MuscleBlaze", web.response_url()))
    ack = sock.wait_ack(envelope, timeout=3)
    assert ack.payload is not None
    assert "no filter 'brnd' — did you mean brand?" in ack.payload["text"]


def _payload(body: bytes) -> dict:
    """An HTTP body of the stand-in as a Socket Mode payload: events as JSON, interactions
    as the JSON inside `payload=`."""
    text = body.decode()
    return json.loads(dict(parse_qsl(text))["payload"] if text.startswith("payload=") else text)


def test_a_mention_is_answered_in_its_thread_over_socket_mode(bot, slack):
    web, sock = slack
    ts = "1741000400.000900"
    ask = "how did muscle blaze do from 1 march to 10 march 2025 by brand"
    envelope = sock.send("events_api", _payload(message_event_body(ask, mention=True, ts=ts)))
    assert sock.wait_ack(envelope, timeout=3).seconds < 3
    [message] = web.wait_for(
        "chat.postMessage", timeout=30, where=lambda c: c.params.get("thread_ts") == ts
    )
    assert "Understood as: `/roas brand=MuscleBlaze period=2025-03-01..2025-03-10 by=brand`" in (
        json.dumps(message.params["blocks"], ensure_ascii=False)
    )


def test_a_modal_is_opened_and_its_errors_come_back_in_the_ack(bot, slack):
    web, sock = slack
    click = _payload(block_action_body("new_alert", "{}", "", in_view="home"))
    sock.wait_ack(sock.send("interactive", click), timeout=3)
    web.wait_for("views.open", timeout=30)
    form = web.views("modal")[-1]
    values = {"metric": "roas", "condition": "<", "threshold": "-1", "window": "7d",
              "each": "scope", "channel": CHANNEL}  # fmt: skip
    ack = sock.wait_ack(sock.send("interactive", _payload(view_submission_body(form, values))), 3)
    assert ack.payload["response_action"] == "errors"
    assert ack.payload["errors"]["threshold"] == "Write a number above 0."
    ok = sock.send(
        "interactive", _payload(view_submission_body(form, {**values, "threshold": "2"}))
    )
    assert not sock.wait_ack(ok, timeout=3).payload
    web.wait_for("chat.postMessage", timeout=30, where=lambda c: "roas < 2" in c.params["text"])
