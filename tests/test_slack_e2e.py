"""End to end: `roasbot serve` in HTTP mode as a real process, Slack played by the stand-in.

Every request is signed as Slack signs it; every Web API call the bot makes lands on the
stand-in, which records it. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage import models
from storage.db import open_store
from tests import postgres
from tests.conftest import load_fixture
from tests.slack_standin import (
    SlackStandIn,
    Upload,
    block_action_body,
    file_share_event_body,
    post,
    sign,
    slash_command_body,
    url_verification_body,
)

SECRET = "test-signing-secret"
TOKEN = "xoxb-test-token"
CHANNEL = "C2147483705"
WINDOW = "from=2025-03-01 to=2025-03-10"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bot_environment(database_url: str, api_url: str, **env: str) -> dict[str, str]:
    """The environment of a `roasbot serve` under test: no setting leaks in from the caller's."""
    prefixes = ("SLACK_", "DATABASE_", "ADMIN_", "UPLOAD_")
    environment = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    environment.update(DATABASE_URL=database_url, SLACK_BOT_TOKEN=TOKEN,
                       SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=api_url, **env)  # fmt: skip
    return environment


class BotProcess:
    """`roasbot serve` on a free port, stopped at the end of the test module."""

    def __init__(self, database_url: str, api_url: str, **env: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = bot_environment(database_url, api_url, **env)
        self.log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"roasbot-{self.port}.log", "w+")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--port", str(self.port)],
            env=environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"roasbot serve exited: {self.output()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"roasbot serve did not come up: {self.output()}")

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def send(self, body: bytes, headers: dict[str, str] | None = None, signed: bool = True):
        all_headers = {**(sign(SECRET, body) if signed else {}), **(headers or {})}
        return post(f"{self.url}/slack/events", body, all_headers)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


@pytest.fixture(scope="module")
def slack(module_store) -> Iterator[SlackStandIn]:
    """A fresh stand-in per store, so one store's replies never satisfy the other's waits."""
    with SlackStandIn(bot_token=TOKEN) as standin:
        yield standin


@pytest.fixture(scope="module")
def bot(module_store, slack) -> Iterator[BotProcess]:
    process = BotProcess(module_store, slack.api_url)
    yield process
    process.stop()


def headed(title: str):
    """Matches a chat.postMessage whose header block starts with `title`."""

    def match(call) -> bool:
        blocks = call.params.get("blocks") or []
        return bool(blocks) and blocks[0].get("text", {}).get("text", "").startswith(title)

    return match


def chart_in_thread(slack: SlackStandIn, ts: str) -> Upload:
    """The file uploaded into the thread of message `ts`, once its upload completes."""
    slack.wait_for(
        "files.completeUploadExternal", timeout=30, where=lambda c: c.params.get("thread_ts") == ts
    )
    [chart] = [u for u in slack.uploads() if u.thread_ts == ts]
    return chart


def _count(url: str, table) -> int:
    engine = open_store(url)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(table)).scalar_one()
    engine.dispose()
    return n


# --- requests and signatures ------------------------------------------------------------


def test_health_check_reports_the_store(bot):
    with urllib.request.urlopen(f"{bot.url}/healthz", timeout=5) as response:
        assert json.loads(response.read()) == {"status": "ok", "store": "ok"}


def test_url_verification_answers_the_challenge(bot):
    status, _, body = bot.send(url_verification_body("abc123"))
    assert status == 200 and b"abc123" in body


@pytest.mark.parametrize("case", ["bad", "missing", "stale"])
def test_unsigned_forged_or_stale_requests_get_401_and_no_work(bot, slack, case):
    before = len(slack.calls("chat.postMessage"))
    body = slash_command_body("/roas", WINDOW, slack.response_url())
    if case == "bad":
        headers = sign("not-the-secret", body)
    elif case == "missing":
        headers = {}
    else:
        headers = sign(SECRET, body, timestamp=int(time.time()) - 6 * 60)
    status, _, _ = bot.send(body, headers, signed=False)
    assert status == 401
    time.sleep(1.0)
    assert len(slack.calls("chat.postMessage")) == before


# --- slash commands -------------------------------------------------------------------------


def test_slash_command_is_acked_fast_then_answered_with_figures_and_a_chart(bot, slack):
    body = slash_command_body("/roas", f"{WINDOW} by=brand", slack.response_url())
    started = time.monotonic()
    status, _, _ = bot.send(body)
    assert status == 200 and time.monotonic() - started < 3
    [message] = slack.wait_for("chat.postMessage", where=headed("ROAS by brand"), timeout=30)
    blocks = message.params["blocks"]
    fields = {f["text"].split("\n")[0]: f["text"] for f in blocks[1]["fields"]}
    assert fields["*ROAS*"] == "*ROAS*\n2.22x"  # no cost in the 10 days before: no delta
    assert fields["*Revenue*"] == "*Revenue*\n₹5,000"
    table = json.dumps(blocks[2])  # a table block (CHART_STYLE=native) or a text section
    assert "MuscleBlaze" in table and "HKVitals" in table
    chart = chart_in_thread(slack, message.response["ts"])
    assert chart.content[:8] == b"\x89PNG\r\n\x1a\n" and chart.channel_id == CHANNEL


def test_figures_carry_deltas_against_the_previous_window(bot, slack):
    bot.send(slash_command_body("/roas", "from=2025-03-05 to=2025-03-10", slack.response_url()))
    [message] = slack.wait_for(
        "chat.postMessage", timeout=30, where=headed("ROAS by influencer · 05 Mar 2025")
    )
    fields = [f["text"] for f in message.params["blocks"][1]["fields"]]
    # 5-10 March against 27 February-4 March (see docs/metrics.md for the rows).
    assert "*Revenue*\n₹1,500  ▼ 57%" in fields
    assert "*ROAS*\n3.75x  ▲ 98%" in fields


def test_other_slash_commands_use_the_same_language(bot, slack):
    url = slack.response_url()
    bot.send(slash_command_body("/underperformers", WINDOW, url))
    [message] = slack.wait_for("chat.postMessage", timeout=30, where=headed("Underperformers"))
    assert "Kabir Shah" in json.dumps(message.params["blocks"][2])


def test_a_parse_error_comes_back_at_once_as_an_ephemeral_suggestion(bot, slack):
    status, _, body = bot.send(slash_command_body("/roas", "brnd=MuscleBlaze", "http://x"))
    assert status == 200
    assert "no filter 'brnd' — did you mean brand?" in body.decode()


def test_an_unknown_value_gets_an_ephemeral_suggestion_through_response_url(bot, slack):
    url = slack.response_url()
    bot.send(slash_command_body("/roas", "brand=MuslceBlaze", url))
    [reply] = slack.wait_for_responses(url=url, timeout=30)
    assert reply["response_type"] == "ephemeral"
    assert "did you mean MuscleBlaze?" in reply["text"]


def test_outside_a_channel_the_answer_comes_through_response_url_with_how_to_invite(bot, slack):
    slack.set_channel_membership("CNOTIN", False)
    url = slack.response_url()
    bot.send(slash_command_body("/roas", WINDOW, url, channel_id="CNOTIN"))
    [reply] = slack.wait_for_responses(url=url, timeout=30)
    assert "/invite @roasbot" in reply["text"] and "2.22x" in reply["text"]


# --- buttons --------------------------------------------------------------------------------


def test_buttons_rerun_the_query_with_the_change(bot, slack):
    value = json.dumps({"q": f"roas {WINDOW}", "by": "platform"})
    bot.send(
        block_action_body(
            "by_platform", value, slack.response_url(), message_ts="1741000100.000300"
        )
    )
    [message] = slack.wait_for("chat.postMessage", timeout=30, where=headed("ROAS by platform"))
    assert message.params["thread_ts"] == "1741000100.000300"


def test_download_csv_uploads_the_rows_into_the_thread(bot, slack):
    value = json.dumps({"q": f"roas {WINDOW}", "csv": True})
    bot.send(
        block_action_body(
            "download_csv", value, slack.response_url(), message_ts="1741000200.000400"
        )
    )
    slack.wait_for(
        "files.completeUploadExternal",
        timeout=30,
        where=lambda c: c.params.get("thread_ts") == "1741000200.000400",
    )
    [upload] = [u for u in slack.uploads() if u.thread_ts == "1741000200.000400"]
    text = upload.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("key,label,revenue,cost,roas")
    assert "Asha Rao" in text


# --- uploads --------------------------------------------------------------------------------

NEW_TRACKING = (
    "tracking_id,source,influencer_id,brand,product,date,orders,revenue\n"
    "N1,influencer,A,MuscleBlaze,Whey,2025-03-09,1,999\n"
    "N2,influencer,A,MuscleBlaze,Whey,2025-03-10,-1,999\n"
)


def test_a_shared_csv_is_loaded_once_and_summarised_in_its_thread(bot, slack, module_store):
    file = slack.add_file("tracking_data.csv", NEW_TRACKING.encode(), filetype="csv")
    body = file_share_event_body(file, ts="1741000300.000500", event_id="EvUP1")
    before = _count(module_store, models.tracking)
    assert bot.send(body)[0] == 200
    [update] = slack.wait_for(
        "chat.update",
        timeout=30,
        where=lambda c: (
            "tracking_data.csv" in json.dumps(c.params) and "rejected" in json.dumps(c.params)
        ),
    )
    text = update.params["text"]
    assert "1 new" in text and "orders is negative" in text and "line 3" in text
    assert "ROAS last 30 days" in text
    assert _count(module_store, models.tracking) == before + 1
    rejected = [u for u in slack.uploads() if u.filename == "tracking_data.rejected.csv"]
    assert rejected and b"orders is negative" in rejected[0].content
    reactions = {
        c.params["name"]
        for c in slack.calls("reactions.add")
        if c.params["timestamp"] == "1741000300.000500"
    }
    assert "hourglass_flowing_sand" in reactions
    # Slack retries the same event: acknowledged, nothing loaded twice, no second reply.
    loads = len(slack.calls("chat.postMessage"))
    status, _, _ = bot.send(
        body, {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    assert status == 200
    time.sleep(1.5)
    assert _count(module_store, models.tracking) == before + 1
    assert len(slack.calls("chat.postMessage")) == loads
    assert _count(module_store, models.uploads) == _count(module_store, models.uploads)


def test_a_header_that_fits_no_kind_gets_the_header_error(bot, slack):
    file = slack.add_file("notes.csv", b"a,b\n1,2\n", filetype="csv")
    bot.send(file_share_event_body(file, ts="1741000400.000600", event_id="EvUP2"))
    [update] = slack.wait_for(
        "chat.update", timeout=30, where=lambda c: "notes.csv" in json.dumps(c.params)
    )
    assert "fits no kind" in update.params["text"]


def test_other_files_and_the_bots_own_uploads_are_ignored(bot, slack):
    image = slack.add_file("photo.png", b"\x89PNG....", filetype="png")
    own = slack.add_file("chart.csv", b"x", filetype="csv")
    stamps = {"1741000500.000700", "1741000500.000800"}
    bot.send(file_share_event_body(image, ts="1741000500.000700", event_id="EvUP3"))
    own_event = file_share_event_body(
        own, ts="1741000500.000800", event_id="EvUP4", bot_id="BBOT01", user="UBOT01"
    )
    bot.send(own_event)
    time.sleep(1.5)

    def about_these(call) -> bool:
        p = call.params
        return bool(stamps & {p.get("thread_ts"), p.get("timestamp")}) or p.get("file") in (
            image["id"],
            own["id"],
        )

    assert [c.method for c in slack.calls() if about_these(c)] == []


def test_a_non_admin_upload_is_refused_politely(module_store, slack):
    process = BotProcess(module_store, slack.api_url, ADMIN_USER_IDS="UADMIN1")
    try:
        file = slack.add_file("more.csv", NEW_TRACKING.encode(), filetype="csv")
        process.send(file_share_event_body(file, ts="1741000600.000900", event_id="EvUP5"))
        [reply] = slack.wait_for(
            "chat.postMessage", timeout=30, where=lambda c: "only admins" in json.dumps(c.params)
        )
        assert "<@UADMIN1>" in reply.params["text"]
        assert reply.params["thread_ts"] == "1741000600.000900"
    finally:
        process.stop()


# --- the store going away -------------------------------------------------------------------


def test_a_stopped_store_gets_a_clear_message_and_the_bot_recovers(slack, tmp_path):
    cluster = postgres.LocalCluster()
    cluster.start()
    try:
        load_fixture(cluster.url)
        process = BotProcess(cluster.url, slack.api_url)
        try:
            cluster.stop()
            url = slack.response_url()
            assert process.send(slash_command_body("/roas", WINDOW, url))[0] == 200
            [reply] = slack.wait_for_responses(url=url, timeout=60)
            assert "data store is not answering" in reply["text"]
            assert process.process.poll() is None  # still running
            cluster.start()
            url = slack.response_url()
            process.send(slash_command_body("/roas", f"{WINDOW} top=3", url))
            slack.wait_for(
                "chat.postMessage", timeout=60, where=lambda c: "top=3" in json.dumps(c.params)
            )
        finally:
            process.stop()
    finally:
        cluster.remove()


# --- scheduled insights through the running bot ------------------------------------------------


def test_digest_subscribe_and_now_post_the_digest(bot, slack):
    status, _, body = bot.send(
        slash_command_body("/digest", "subscribe day=mon time=09:00", "http://x", channel_id="CDIG")
    )
    assert status == 200 and "every Mon at 09:00 (Asia/Kolkata)" in body.decode()
    status, _, body = bot.send(slash_command_body("/digest", "list", "http://x", channel_id="CDIG"))
    assert "<#CDIG>: Mon 09:00 Asia/Kolkata" in body.decode()
    status, _, body = bot.send(slash_command_body("/digest", "list", "http://x"))
    assert "CDIG" not in body.decode()  # each channel sees its own (issue 16)
    bot.send(slash_command_body("/digest", "now", slack.response_url(), channel_id="CDIG"))
    [digest] = slack.wait_for(
        "chat.postMessage", timeout=60, where=lambda c: c.params.get("channel") == "CDIG"
    )
    # The fixture's data is from early 2025, long before the last full week: said in one line.
    assert digest.params["text"].startswith("No data for ")


def test_alert_add_and_check_post_the_firing_alert(bot, slack, module_store):
    status, _, body = bot.send(
        slash_command_body("/alert", "add roas < 100 window=3650d", "http://x", channel_id="CALRT")
    )
    assert status == 200 and "Alert #" in body.decode()
    url = slack.response_url()
    bot.send(slash_command_body("/alert", "check", url, channel_id="CALRT"))
    [fire] = slack.wait_for(
        "chat.postMessage", timeout=60, where=lambda c: c.params.get("channel") == "CALRT"
    )
    # The alert's value is the engine's for the same window (other tests here add sales).
    from zoneinfo import ZoneInfo

    from insights.engine import answer
    from insights.query import parse

    today = dt.datetime.now(ZoneInfo("Asia/Kolkata")).date()
    start = today - dt.timedelta(days=3649)
    engine = open_store(module_store)
    expected = answer(engine, parse(f"roas from={start} to={today}", today)).totals.roas
    engine.dispose()
    assert f"roas for all data is {expected:.2f}x" in fire.params["text"]
    [report] = slack.wait_for_responses(url=url, timeout=30)
    assert "scope fired" in report["text"]
    # Rules are listed in their channel (issue 16: /alert list is the channel's).
    status, _, body = bot.send(slash_command_body("/alert", "list", "http://x", channel_id="CALRT"))
    assert "FIRING" in body.decode()


def test_alert_rules_are_for_admins_only_when_admins_are_set(module_store, slack):
    process = BotProcess(module_store, slack.api_url, ADMIN_USER_IDS="UADMIN1")
    try:
        status, _, body = process.send(slash_command_body("/alert", "add roas < 1", "http://x"))
        assert status == 200 and "only admins can add alert rules" in body.decode()
    finally:
        process.stop()


def test_the_mute_button_mutes_the_rule(bot, slack, module_store):
    _, _, body = bot.send(
        slash_command_body("/alert", "add cost > 0 window=3650d", "http://x", channel_id="CMUTE")
    )
    rule_id = int(body.decode().split("Alert #")[1].split(":")[0])
    url = slack.response_url()
    bot.send(
        block_action_body(
            "alert_mute", json.dumps({"rule": rule_id, "days": 1}), url, channel="CMUTE"
        )
    )
    [reply] = slack.wait_for_responses(url=url, timeout=30)
    assert f"Alert #{rule_id} muted until" in reply["text"]
    engine = open_store(module_store)
    with engine.connect() as conn:
        muted = conn.execute(
            select(models.alert_rules.c.muted_until).where(models.alert_rules.c.id == rule_id)
        ).scalar_one()
    engine.dispose()
    assert muted is not None and muted > dt.datetime.now(dt.UTC) + dt.timedelta(hours=23)
