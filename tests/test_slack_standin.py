"""The Slack stand-in must satisfy the real slack_sdk / slack_bolt clients, or bot tests lie.

Every test here talks to the stand-in through slack_sdk's own WebClient (or Bolt), so a
mismatch with what those clients send or expect shows up here first.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs
from urllib.request import ProxyHandler, Request, build_opener

import pytest
from slack_bolt import Ack, App, BoltRequest, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.signature import SignatureVerifier

from tests.slack_standin import (
    SlackStandIn,
    block_action_body,
    file_share_event_body,
    post,
    sign,
    slash_command_body,
    url_verification_body,
)

TOKEN = "xoxb-test-token"
CHANNEL = "C2147483705"
SECRET = "s3cr3t-signing"


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn(bot_token=TOKEN) as s:
        yield s


@pytest.fixture
def client(standin: SlackStandIn) -> WebClient:
    return WebClient(base_url=standin.api_url, token=TOKEN, timeout=5)


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str, bytes]:
    opener = build_opener(ProxyHandler({}))
    with opener.open(Request(url, headers=headers or {}), timeout=5) as resp:
        return resp.status, resp.headers.get("Content-Type", ""), resp.read()


def _error(exc: pytest.ExceptionInfo[SlackApiError]) -> str:
    return exc.value.response["error"]


def test_binds_loopback_only(standin: SlackStandIn) -> None:
    assert standin.api_url.startswith("http://127.0.0.1:")
    assert standin.api_url.endswith("/api/")


def test_auth_test(standin: SlackStandIn, client: WebClient) -> None:
    resp = client.auth_test()
    assert resp["user_id"] == "UBOT01"
    assert resp["bot_id"] == "BBOT01"
    assert resp["team_id"] == "T0001"
    (call,) = standin.calls("auth.test")
    assert call.token == TOKEN
    assert call.headers["authorization"] == f"Bearer {TOKEN}"


def test_wrong_or_missing_token(standin: SlackStandIn) -> None:
    bad = WebClient(base_url=standin.api_url, token="xoxb-wrong")
    with pytest.raises(SlackApiError) as exc:
        bad.auth_test()
    assert _error(exc) == "invalid_auth"
    with pytest.raises(SlackApiError) as exc:
        WebClient(base_url=standin.api_url).auth_test()
    assert _error(exc) == "not_authed"
    # A token passed as a form parameter counts as well as the Authorization header.
    assert WebClient(base_url=standin.api_url).auth_test(token=TOKEN)["ok"]


def test_socket_mode_needs_the_app_level_token_and_nothing_else_takes_it(
    standin: SlackStandIn, client: WebClient
) -> None:
    standin.socket_mode_url = "ws://127.0.0.1:9/link/?ticket=t"
    app = WebClient(base_url=standin.api_url, token=standin.app_token)
    assert app.apps_connections_open(app_token=standin.app_token)["url"] == standin.socket_mode_url
    with pytest.raises(SlackApiError) as exc:
        client.apps_connections_open(app_token=TOKEN)
    assert _error(exc) == "not_allowed_token_type"
    with pytest.raises(SlackApiError) as exc:
        app.chat_postMessage(channel=CHANNEL, text="hi")
    assert _error(exc) == "not_allowed_token_type"


def test_post_update_and_messages(standin: SlackStandIn, client: WebClient) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*ROAS* 3.2x"}}]
    posted = client.chat_postMessage(channel=CHANNEL, text="ROAS", blocks=blocks)
    ts = posted["ts"]
    assert posted["channel"] == CHANNEL
    assert posted["message"]["bot_id"] == "BBOT01"
    reply = client.chat_postMessage(channel=CHANNEL, text="details", thread_ts=ts)
    assert float(reply["ts"]) > float(ts)

    client.chat_update(channel=CHANNEL, ts=ts, text="ROAS (final)", blocks=[])
    with pytest.raises(SlackApiError) as exc:
        client.chat_update(channel=CHANNEL, ts="1.000000", text="x")
    assert _error(exc) == "message_not_found"

    first, second = standin.messages(CHANNEL)
    assert (first["ts"], first["text"], first["blocks"]) == (ts, "ROAS (final)", [])
    assert (second["thread_ts"], second["text"]) == (ts, "details")
    assert standin.messages("C_OTHER") == []
    assert standin.calls("chat.postMessage")[0].params["blocks"] == blocks


def test_form_encoded_blocks_are_decoded(standin: SlackStandIn, client: WebClient) -> None:
    blocks = [{"type": "divider"}]
    client.api_call(
        "chat.postMessage", params={"channel": CHANNEL, "text": "t", "blocks": json.dumps(blocks)}
    )
    (call,) = standin.calls("chat.postMessage")
    assert call.headers["content-type"] == "application/x-www-form-urlencoded"
    assert call.params["blocks"] == blocks


def test_slack_limits_are_enforced(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel=CHANNEL, text="t", blocks=[{"type": "divider"}] * 51)
    assert _error(exc) == "invalid_blocks"
    long_section = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel=CHANNEL, text="t", blocks=long_section)
    assert _error(exc) == "invalid_blocks"
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel=CHANNEL, text="x" * 40_001)
    assert _error(exc) == "msg_too_long"
    with pytest.raises(SlackApiError) as exc:
        client.api_call("no.such.method")
    assert _error(exc) == "unknown_method"


def test_post_ephemeral(standin: SlackStandIn, client: WebClient) -> None:
    resp = client.chat_postEphemeral(channel=CHANNEL, user="U2147483697", text="only you")
    assert resp["message_ts"]
    assert standin.calls("chat.postEphemeral")[0].params["user"] == "U2147483697"
    assert standin.messages() == []


def test_reactions_add_twice(client: WebClient) -> None:
    client.reactions_add(channel=CHANNEL, timestamp="1741000000.000200", name="hourglass")
    with pytest.raises(SlackApiError) as exc:
        client.reactions_add(channel=CHANNEL, timestamp="1741000000.000200", name="hourglass")
    assert _error(exc) == "already_reacted"
    client.reactions_remove(channel=CHANNEL, timestamp="1741000000.000200", name="hourglass")


def test_files_upload_v2_end_to_end(standin: SlackStandIn, client: WebClient) -> None:
    data = b"brand,roas\nMuscleBlaze,3.2\n\x00\xff\r\n"
    resp = client.files_upload_v2(
        channel=CHANNEL,
        thread_ts="1741000000.000100",
        content=data,
        filename="rows.csv",
        initial_comment="all rows",
    )
    (up,) = standin.uploads()
    assert (up.content, up.filename, up.title) == (data, "rows.csv", "rows.csv")
    assert (up.channel_id, up.thread_ts, up.initial_comment) == (
        CHANNEL,
        "1741000000.000100",
        "all rows",
    )
    assert resp["file"]["id"] == up.file_id
    assert [c.method for c in standin.calls()] == [
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]
    assert standin.calls("files.completeUploadExternal")[0].params["files"][0]["id"] == up.file_id
    # The shared file is then hosted like any other: files.info and download work.
    info = client.files_info(file=up.file_id)["file"]
    assert (info["filetype"], info["size"]) == ("csv", len(data))
    assert _get(info["url_private_download"], {"Authorization": f"Bearer {TOKEN}"})[2] == data


def test_complete_upload_requires_uploaded_bytes(standin: SlackStandIn, client: WebClient) -> None:
    url = client.files_getUploadURLExternal(filename="a.csv", length=3)
    with pytest.raises(SlackApiError) as exc:
        client.files_completeUploadExternal(files=[{"id": url["file_id"]}], channel_id=CHANNEL)
    assert _error(exc) == "file_not_found"
    # The upload URL also accepts multipart bodies with a file field.
    boundary = "XyZ"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n'
        f"Content-Type: text/csv\r\n\r\nabc\r\n--{boundary}--\r\n"
    ).encode()
    status, _, text = post(
        url["upload_url"], body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    assert (status, text) == (200, b"OK - 3")
    client.files_completeUploadExternal(files=[{"id": url["file_id"]}], channel_id=CHANNEL)
    assert standin.uploads()[0].content == b"abc"


def test_download_needs_the_bot_token(standin: SlackStandIn, client: WebClient) -> None:
    f = standin.add_file("tracking_data.csv", b"a,b\n1,2\n", file_id="F0TRACK01")
    assert (
        client.files_info(file="F0TRACK01")["file"]["url_private_download"]
        == (f["url_private_download"])
    )
    with pytest.raises(SlackApiError) as exc:
        client.files_info(file="F_MISSING")
    assert _error(exc) == "file_not_found"

    status, ctype, body = _get(f["url_private_download"], {"Authorization": f"Bearer {TOKEN}"})
    assert (status, ctype, body) == (200, "text/csv", b"a,b\n1,2\n")
    for headers in ({}, {"Authorization": "Bearer xoxb-wrong"}):
        status, ctype, body = _get(f["url_private_download"], headers)
        assert status == 200
        assert ctype.startswith("text/html")
        assert body.startswith(b"<!DOCTYPE html>")
        assert b"Sign in to Slack" in body


def test_response_url_accepts_five_posts(standin: SlackStandIn) -> None:
    url = standin.response_url()
    other = standin.response_url()
    assert url != other
    for i in range(5):
        status, _, body = post(url, json.dumps({"text": f"r{i}"}).encode(), {})
        assert (status, body) == (200, b"ok")
    status, _, body = post(url, b'{"text": "r5"}', {})
    assert (status, body) == (404, b"used_url")
    assert [r["text"] for r in standin.responses(url)] == [f"r{i}" for i in range(5)]
    assert standin.responses(other) == []
    assert standin.wait_for_responses(5, url=url, timeout=0.1)


def test_rate_limit_is_retried(standin: SlackStandIn) -> None:
    client = WebClient(
        base_url=standin.api_url, token=TOKEN, retry_handlers=[RateLimitErrorRetryHandler()]
    )
    standin.fail("chat.postMessage", status=429, retry_after=1)
    assert client.chat_postMessage(channel=CHANNEL, text="hi")["ok"]
    limited, ok = standin.calls("chat.postMessage")
    assert (limited.status, limited.response["error"]) == (429, "ratelimited")
    assert ok.status == 200
    assert ok.time - limited.time >= 1.0  # the client honoured Retry-After
    assert len(standin.messages()) == 1


def test_server_errors_and_api_errors(standin: SlackStandIn, client: WebClient) -> None:
    retrying = WebClient(
        base_url=standin.api_url,
        token=TOKEN,
        retry_handlers=[ServerErrorRetryHandler(2, FixedValueRetryIntervalCalculator(0.01))],
    )
    standin.fail("auth.test", status=503, times=2)
    assert retrying.auth_test()["ok"]
    assert [c.status for c in standin.calls("auth.test")] == [503, 503, 200]

    standin.fail("chat.postMessage", status=429)
    with pytest.raises(SlackApiError) as exc:  # no retry handler: the 429 surfaces
        client.chat_postMessage(channel=CHANNEL, text="x")
    assert exc.value.response.status_code == 429
    standin.fail("chat.postMessage", error="is_archived")
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel=CHANNEL, text="x")
    assert _error(exc) == "is_archived"
    assert client.chat_postMessage(channel=CHANNEL, text="x")["ok"]


def test_not_in_channel(standin: SlackStandIn, client: WebClient) -> None:
    standin.set_channel_membership(CHANNEL, False)
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel=CHANNEL, text="hi")
    assert _error(exc) == "not_in_channel"
    with pytest.raises(SlackApiError) as exc:
        client.files_upload_v2(channel=CHANNEL, content=b"x", filename="x.csv")
    assert _error(exc) == "not_in_channel"
    assert standin.uploads() == []
    standin.set_channel_membership(CHANNEL, True)
    assert client.chat_postMessage(channel=CHANNEL, text="hi")["ok"]


def test_wait_for(standin: SlackStandIn, client: WebClient) -> None:
    threading.Timer(0.05, lambda: client.chat_postMessage(channel="C9", text="late")).start()
    (call,) = standin.wait_for("chat.postMessage", where=lambda c: c.params["channel"] == "C9")
    assert call.params["text"] == "late"
    with pytest.raises(AssertionError, match=r"chat\.postMessage"):
        standin.wait_for("chat.postMessage", count=2, timeout=0.05)


def test_concurrent_calls_get_unique_ts(standin: SlackStandIn, client: WebClient) -> None:
    def send(i: int) -> None:
        client.chat_postMessage(channel=CHANNEL, text=str(i))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({m["ts"] for m in standin.messages()}) == 20


def test_sign_matches_slack_sdk_verifier() -> None:
    body = slash_command_body("/roas", "brand=MuscleBlaze", "http://127.0.0.1:1/commands/x")
    verifier = SignatureVerifier(SECRET)
    headers = sign(SECRET, body)
    ts, sig = headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    assert verifier.is_valid(body, ts, sig)
    assert not verifier.is_valid(body + b"x", ts, sig)
    stale = sign(SECRET, body, timestamp=int(time.time()) - 600)
    assert not verifier.is_valid(
        body, stale["X-Slack-Request-Timestamp"], stale["X-Slack-Signature"]
    )


def test_request_bodies_have_slack_shapes() -> None:
    form = parse_qs(slash_command_body("/roas", "a=b c", "http://127.0.0.1:1/r", team_domain="x"))
    assert form[b"command"] == [b"/roas"]
    assert form[b"text"] == [b"a=b c"]
    assert form[b"team_domain"] == [b"x"]
    payload = json.loads(
        parse_qs(block_action_body("roas_by_brand", '{"q": 1}', "http://r").decode())["payload"][0]
    )
    assert payload["actions"][0]["action_id"] == "roas_by_brand"
    assert payload["actions"][0]["value"] == '{"q": 1}'
    assert payload["container"]["message_ts"] == "1741000100.000300"
    event = json.loads(file_share_event_body({"id": "F1"}, bot_id="BBOT01"))
    assert event["event"]["subtype"] == "file_share"
    assert event["event"]["files"] == [{"id": "F1"}]
    assert event["event"]["bot_id"] == "BBOT01"
    assert json.loads(url_verification_body("abc"))["challenge"] == "abc"
    with pytest.raises(ValueError, match="non-loopback"):
        post("http://example.com/slack/events", b"{}", {})


def test_bolt_app_accepts_the_helpers(standin: SlackStandIn, client: WebClient) -> None:
    """Signed helper bodies go through Bolt's verification, parsing and self-event filter."""
    app = App(signing_secret=SECRET, client=client)
    shared: list[str] = []

    @app.command("/roas")
    def roas(ack: Ack, respond: Respond, command: dict[str, Any]) -> None:
        ack()
        respond(text=f"ROAS for {command['text']}")

    @app.action("roas_by_brand")
    def by_brand(ack: Ack, respond: Respond, action: dict[str, Any]) -> None:
        ack()
        respond(text=action["value"], replace_original=False)

    @app.event({"type": "message", "subtype": "file_share"})
    def on_file(event: dict[str, Any]) -> None:
        shared.append(event["files"][0]["id"])

    def dispatch(body: bytes, ctype: str) -> int:
        headers = {**sign(SECRET, body), "Content-Type": ctype}
        return app.dispatch(BoltRequest(body=body.decode(), headers=headers)).status

    form = "application/x-www-form-urlencoded"
    url = standin.response_url()
    assert dispatch(slash_command_body("/roas", "brand=MB", url), form) == 200
    assert dispatch(block_action_body("roas_by_brand", "by=brand", url), form) == 200
    texts = {r["text"] for r in standin.wait_for_responses(2, url=url, timeout=5)}
    assert texts == {"ROAS for brand=MB", "by=brand"}

    f = standin.add_file("t.csv", b"x")
    assert dispatch(file_share_event_body(f), "application/json") == 200
    own = file_share_event_body(f, user="UBOT01", bot_id="BBOT01")
    assert dispatch(own, "application/json") == 200
    deadline = time.monotonic() + 2
    while not shared and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    assert shared == [f["id"]]  # the bot's own upload was ignored

    challenge = app.dispatch(
        BoltRequest(
            body=url_verification_body("xyz").decode(),
            headers={
                **sign(SECRET, url_verification_body("xyz")),
                "Content-Type": "application/json",
            },
        )
    )
    assert json.loads(challenge.body) == {"challenge": "xyz"}


def test_a_delayed_method_is_slow_and_others_are_not(standin: SlackStandIn, client: WebClient):
    import threading
    import time

    standin.delay("chat.postMessage", 1.5)
    slow = threading.Thread(target=client.chat_postMessage, kwargs={"channel": "C1", "text": "a"})
    started = time.monotonic()
    slow.start()
    time.sleep(0.1)
    client.auth_test()
    assert time.monotonic() - started < 1.0  # answered while the post hangs
    slow.join()
    assert time.monotonic() - started >= 1.5
    client.chat_postMessage(channel="C1", text="b")  # the delay was for one call only
    assert time.monotonic() - started < 3.0


def test_stopping_ends_the_calls_it_holds():
    """A test's hanging Slack must not hold the bot's posting threads into the next test."""
    import threading
    import time

    standin = SlackStandIn(bot_token=TOKEN).start()
    held = WebClient(base_url=standin.api_url, token=TOKEN, timeout=30)
    standin.delay("chat.postMessage", 20.0)
    slow = threading.Thread(target=held.chat_postMessage, kwargs={"channel": "C1", "text": "a"})
    slow.start()
    deadline = time.monotonic() + 5
    while not standin.holding("chat.postMessage") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert standin.holding("chat.postMessage")
    started = time.monotonic()
    standin.stop()
    slow.join(timeout=10)
    assert not slow.is_alive() and time.monotonic() - started < 5.0


def test_history_returns_messages_newest_first_with_metadata_on_request(
    standin: SlackStandIn, client: WebClient
):
    marker = {"event_type": "roasbot_digest", "event_payload": {"job": "digest:C1", "period": "W"}}
    first = client.chat_postMessage(channel="C1", text="one", metadata=marker)["ts"]
    client.chat_postMessage(channel="C1", text="reply", thread_ts=first)
    second = client.chat_postMessage(channel="C1", text="two")["ts"]
    plain = client.conversations_history(channel="C1")["messages"]
    assert [m["ts"] for m in plain] == [second, first] and "metadata" not in plain[1]
    full = client.conversations_history(channel="C1", include_all_metadata=True)["messages"]
    assert full[1]["metadata"] == marker
    with pytest.raises(SlackApiError, match="invalid_metadata_format"):
        client.chat_postMessage(channel="C1", text="x", metadata={"event_type": 3})


def _table(rows: int, cells: int = 3) -> dict:
    return {"type": "table",
            "rows": [[{"type": "raw_text", "text": f"{r}.{c}"} for c in range(cells)]
                     for r in range(rows)]}  # fmt: skip


def _chart(title: str = "ROAS by week", labels: tuple[str, ...] = ("W1", "W2")) -> dict:
    points = [{"label": label, "value": 1.5} for label in labels]
    return {"type": "data_visualization", "title": title,
            "chart": {"type": "line", "series": [{"name": "ROAS", "data": points}],
                      "axis_config": {"categories": list(labels)}}}  # fmt: skip


@pytest.mark.parametrize(
    "blocks",
    [
        [_table(101)],
        [_table(2, 21)],
        [_table(2), _table(2)],
        [_chart("x" * 51)],
        [_chart(), _chart(), _chart()],
        [{**_chart(), "chart": {**_chart()["chart"], "axis_config": {"categories": ["W1"]}}}],
        [{"type": "input", "label": {"type": "plain_text", "text": "x"}, "element": {}}],
        [{"type": "actions", "elements": [{"type": "button", "action_id": "a", "value": "v",
                                           "text": {"type": "plain_text", "text": "x" * 76}}]}],
    ],
    ids=["101 rows", "21 cells", "two tables", "long title", "three charts",
         "labels off the axis", "input in a message", "long button"],
)  # fmt: skip
def test_table_chart_and_element_limits_are_enforced(client: WebClient, blocks) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel=CHANNEL, text="t", blocks=blocks)
    assert _error(exc) == "invalid_blocks"


def test_tables_and_charts_within_limits_are_taken_unless_refused(client, standin) -> None:
    blocks = [_table(100, 20), _chart(), _chart()]
    assert client.chat_postMessage(channel=CHANNEL, text="t", blocks=blocks)["ok"]
    standin.refuse_blocks("table")
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel=CHANNEL, text="t", blocks=blocks)
    assert _error(exc) == "invalid_blocks"


def test_views_are_checked_and_recorded(client, standin) -> None:
    form = {"type": "modal", "title": {"type": "plain_text", "text": "New alert"},
            "blocks": [{"type": "input", "block_id": "t", "label": {"type": "plain_text",
                        "text": "T"}, "element": {"type": "plain_text_input"}}]}  # fmt: skip
    with pytest.raises(SlackApiError):  # inputs and no submit
        client.views_open(trigger_id="1.2", view=form)
    form["submit"] = {"type": "plain_text", "text": "Save"}
    assert client.views_open(trigger_id="1.2", view=form)["ok"]
    with pytest.raises(SlackApiError):
        client.views_publish(
            user_id="U1", view={"type": "home", "blocks": [{"type": "divider"}] * 101}
        )
    assert client.views_publish(user_id="U1", view={"type": "home", "blocks": []})["ok"]
    assert [v["type"] for v in standin.views()] == ["modal", "home"]
