"""The Slack listeners in-process: the real Bolt app, signed requests through Bolt's own
dispatch, the service on a real store, Web API calls landing on the stand-in. Both stores.

The end-to-end tests run `roasbot serve` as a process; these reach every listener kind faster
and can look at the acknowledgement Bolt returns and the store at once.
"""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from bot.slack.listeners import uploads
from storage import models
from storage.ingest import Upload, ingest_files, readers
from storage.ingest.results import LoadProgress
from tests.conftest import FIXTURES
from tests.inprocess import app_for, dispatch
from tests.slack_standin import (
    SlackStandIn,
    block_action_body,
    file_share_event_body,
    slash_command_body,
)

WINDOW = "from=2025-03-01 to=2025-03-10"
CHANNEL = "C2147483705"


@pytest.fixture
def slack():
    with SlackStandIn() as standin:
        yield standin


@pytest.fixture
def db(store):
    paths = sorted((FIXTURES / "metrics").glob("*.csv"))
    assert ingest_files(store, [Upload.from_path(p) for p in paths]).ok
    return store


@pytest.fixture
def app(slack, db):
    return app_for(slack, db)


def _ack(response) -> str:
    """The text of an acknowledgement (Bolt sends a bare text as the body itself)."""
    assert response.status == 200, response.body
    if response.body.startswith("{"):
        return json.loads(response.body).get("text", "")
    return response.body


def test_a_question_is_acknowledged_empty_then_answered_in_the_channel_with_its_chart(app, slack):
    assert _ack(dispatch(app, slash_command_body("/roas", f"{WINDOW} by=brand", "http://x"))) == ""
    [message] = slack.wait_for("chat.postMessage", timeout=30)
    assert message.params["channel"] == CHANNEL
    fields = [f["text"] for f in message.params["blocks"][1]["fields"]]
    assert "*ROAS*\n2.22x" in fields
    [chart] = slack.wait_for("files.completeUploadExternal", timeout=30)
    assert chart.params["channel_id"] == CHANNEL


def test_help_and_a_typo_are_answered_in_the_acknowledgement(app, slack):
    assert "/underperformers" in _ack(dispatch(app, slash_command_body("/roas", "help", "x")))
    typo = _ack(dispatch(app, slash_command_body("/roas", "brnd=MuscleBlaze", "x")))
    assert typo.startswith(":warning: no filter 'brnd' — did you mean brand?")
    assert slack.calls("chat.postMessage") == []


def test_an_unknown_value_is_told_privately_after_the_ack(app, slack):
    url = slack.response_url()
    dispatch(app, slash_command_body("/roas", "brand=MuslceBlaze", url))
    [reply] = slack.wait_for_responses(url=url, timeout=30)
    assert reply["response_type"] == "ephemeral"
    assert "did you mean MuscleBlaze?" in reply["text"]


def test_digest_and_alert_commands_share_one_path(app, slack, db):
    said = _ack(dispatch(app, slash_command_body("/digest", "subscribe day=fri", "x")))
    assert f"<#{CHANNEL}> gets the weekly digest every Fri at 09:00" in said
    added = _ack(dispatch(app, slash_command_body("/alert", "add roas < 3 window=3650d", "x")))
    assert added.startswith(":bell: Alert #")
    listed = _ack(dispatch(app, slash_command_body("/alert", "list", "x")))
    assert "`roas < 3 window=3650d` · OK" in listed
    bad = _ack(dispatch(app, slash_command_body("/alert", "add clicks < 3", "x")))
    assert "no metric 'clicks'" in bad
    with db.connect() as conn:
        assert [r.channel for r in conn.execute(select(models.digest_subscriptions))] == [CHANNEL]


def test_non_admins_are_refused_by_the_service_and_by_the_mute_middleware(slack, db):
    app = app_for(slack, db, admin_user_ids="UADMIN1")
    refused = _ack(dispatch(app, slash_command_body("/alert", "add roas < 1", "x")))
    assert refused == "Sorry <@U2147483697>, only admins can add alert rules."
    url = slack.response_url()
    dispatch(app, block_action_body("alert_mute", json.dumps({"rule": 1, "days": 1}), url))
    [reply] = slack.wait_for_responses(url=url, timeout=30)
    assert reply["text"] == "Only admins can mute alert rules."
    with db.connect() as conn:
        assert list(conn.execute(select(models.alert_rules))) == []


def test_a_stale_button_says_so(app, slack):
    url = slack.response_url()
    dispatch(app, block_action_body("by_brand", "{not json", url))
    [reply] = slack.wait_for_responses(url=url, timeout=30)
    assert reply["text"].startswith(":warning: that button is stale")
    url = slack.response_url()
    dispatch(app, block_action_body("alert_mute", json.dumps({"days": 1}), url))
    [reply] = slack.wait_for_responses(url=url, timeout=30)
    assert "stale" in reply["text"] and "/alert mute" in reply["text"]


def test_a_button_re_runs_its_query_with_its_change_in_the_thread(app, slack):
    value = json.dumps({"q": f"roas {WINDOW}", "by": "platform"})
    dispatch(app, block_action_body("by_platform", value, "http://x", message_ts="1.000200"))
    [message] = slack.wait_for("chat.postMessage", timeout=30)
    assert message.params["thread_ts"] == "1.000200"
    assert message.params["blocks"][0]["text"]["text"].startswith("ROAS by platform")


def test_an_unregistered_command_or_button_is_not_found_and_unsigned_is_refused(app):
    assert dispatch(app, slash_command_body("/trend", "", "x")).status == 404
    assert dispatch(app, block_action_body("not_a_button", "{}", "x")).status == 404
    assert dispatch(app, slash_command_body("/roas", "", "x"), signed=False).status == 401


def test_a_shared_file_is_loaded_once_with_a_reply_in_its_thread(app, slack, db):
    content = (
        b"influencer_id,name,category,gender,follower_count,platform\n"
        b"INFX,Zoya,Fitness,Female,900,Instagram\n"
    )
    file = slack.add_file("people.csv", content, filetype="csv")
    body = file_share_event_body(file, ts="1741000600.000900")
    assert dispatch(app, body).status == 200
    assert dispatch(app, body).status == 200  # Slack's retry: loaded once all the same
    [update] = slack.wait_for(
        "chat.update", timeout=30, where=lambda c: "people.csv" in json.dumps(c.params)
    )
    assert "1 new" in update.params["text"]
    with db.connect() as conn:
        names = [r.name for r in conn.execute(select(models.influencers.c.name))]
    assert names.count("Zoya") == 1
    done = slack.wait_for(
        "reactions.add", timeout=30, where=lambda c: c.params.get("name") == "white_check_mark"
    )
    assert len(done) == 1 and len(slack.calls("chat.update")) == 1


def test_alert_actions_stay_in_their_channel(app, slack, db):
    add = slash_command_body("/alert", "add roas < 3 window=3650d", "x", channel_id="COTHER")
    rule = int(_ack(dispatch(app, add)).split("Alert #")[1].split(":")[0])
    assert "No alert rules in" in _ack(dispatch(app, slash_command_body("/alert", "list", "x")))
    here = _ack(dispatch(app, slash_command_body("/alert", f"remove {rule}", "x")))
    assert here == f"There is no alert #{rule} in <#{CHANNEL}>."
    url = slack.response_url()
    dispatch(app, block_action_body("alert_mute", json.dumps({"rule": rule, "days": 1}), url))
    [reply] = slack.wait_for_responses(url=url, timeout=30)
    assert reply["text"] == f"There is no alert #{rule} in <#{CHANNEL}>."
    there = slash_command_body("/alert", "list", "x", channel_id="COTHER")
    assert f"#{rule} <#COTHER>" in _ack(dispatch(app, there))
    with db.connect() as conn:
        [stored] = list(conn.execute(select(models.alert_rules)))
    assert (stored.active, stored.muted_until) == (True, None)


@pytest.mark.parametrize(
    ("action", "value"),
    [
        ("alert_mute", {"rule": 1, "days": 1e9}),
        ("alert_mute", {"rule": "x"}),
        ("by_brand", {"q": "roas", "by": "nonsense"}),
        ("underperformers", {"q": "roas", "command": "drop_tables"}),
        ("by_brand", {"q": "roas", "by": ["brand"]}),
    ],
)
def test_malformed_button_values_are_answered_politely(app, slack, action, value):
    url = slack.response_url()
    assert dispatch(app, block_action_body(action, json.dumps(value), url)).status == 200
    [reply] = slack.wait_for_responses(url=url, timeout=30)
    assert "stale" in reply["text"]
    assert slack.calls("chat.postMessage") == []


def test_an_answer_slack_will_not_take_is_told_privately(app, slack):
    slack.fail("chat.postMessage", error="internal_error", status=500, times=20)
    url = slack.response_url()
    dispatch(app, slash_command_body("/roas", WINDOW, url))
    [reply] = slack.wait_for_responses(url=url, timeout=60)
    assert reply["response_type"] == "ephemeral"
    assert reply["text"].startswith(":warning: Slack did not take the answer just now")
    assert "ROAS 2.22x" in reply["text"] and "internal_error" not in reply["text"]


def test_slack_hanging_on_posts_does_not_hold_up_the_next_answer(app, slack):
    import time

    slack.delay("chat.postMessage", 20.0, times=5)
    for top in range(1, 6):  # five answers whose posts hang, more than there are workers
        dispatch(app, slash_command_body("/roas", f"{WINDOW} top={top}", "x"))
    deadline = time.monotonic() + 30
    while slack.holding("chat.postMessage") < 5 and time.monotonic() < deadline:
        time.sleep(0.02)  # all five posts hang before the next answer is asked for
    assert slack.holding("chat.postMessage") == 5
    sent = time.monotonic()
    dispatch(app, slash_command_body("/roas", f"{WINDOW} top=7", "x"))
    [posted] = slack.wait_for(
        "chat.postMessage", timeout=30, where=lambda c: "top=7" in json.dumps(c.params)
    )
    assert posted.time - sent < 10.0  # not after the hanging ones (20 s), however busy the host


def test_answers_being_computed_do_not_hold_up_the_next_acknowledgement(app, slack):
    """Every computing thread busy (a burst of answers): a new command is still acknowledged
    at once, with its answer to come, not after 1.5 s with "Working on it…"."""
    import threading
    import time

    from bot.slack import workers

    release = threading.Event()
    for _ in range(workers.WORKERS):
        workers.in_background(release.wait, 20)
    try:
        started = time.monotonic()
        acked = _ack(dispatch(app, slash_command_body("/roas", f"{WINDOW} top=4", "x")))
        assert (acked, time.monotonic() - started < 1.0) == ("", True)
    finally:
        release.set()
    slack.wait_for("chat.postMessage", timeout=30, where=lambda c: "top=4" in json.dumps(c.params))


def test_drain_waits_for_work_and_the_work_it_hands_on():
    """What the store fixtures rely on before they drop a store: computing that hands its
    result to the posting pool is finished, both parts, when `drain` says so."""
    import threading
    import time

    from bot.slack import workers

    release, posted = threading.Event(), threading.Event()

    def post() -> None:
        time.sleep(0.3)
        posted.set()

    def compute() -> None:
        release.wait(20)
        workers.to_slack(post)

    workers.in_background(compute)
    assert workers.drain(timeout=0.2) is False  # still computing
    release.set()
    assert workers.drain(timeout=20) is True
    assert posted.is_set()


def test_a_command_is_acknowledged_in_time_when_the_store_hangs(slack, pg_url):
    """PostgreSQL with alert_rules locked by another session: /alert list cannot read, yet is
    acknowledged within Slack's 3 s, and answered through the response_url once it can."""
    import threading
    import time

    from sqlalchemy import text

    from storage.db import open_store

    db = open_store(pg_url)
    app = app_for(slack, db)
    locker = db.connect()
    locked = locker.begin()
    locker.execute(text("LOCK TABLE alert_rules IN ACCESS EXCLUSIVE MODE"))
    url = slack.response_url()
    started = time.monotonic()
    acked = _ack(dispatch(app, slash_command_body("/alert", "list", url)))
    assert time.monotonic() - started < 2.5 and acked == "Working on it…"
    threading.Timer(1.0, locked.rollback).start()
    [reply] = slack.wait_for_responses(url=url, timeout=30)
    assert reply["text"].startswith("No alert rules in")
    locker.close()
    db.dispose()


def test_a_long_load_edits_its_note_with_progress_then_the_summary(app, slack, db, monkeypatch):
    """A file read in several chunks edits the in-thread note with rows done and percent as it
    loads (every report here: PROGRESS_EVERY 0; chunks of 10,000 rows), and ends with the
    summary in the same note."""
    monkeypatch.setattr(uploads, "PROGRESS_EVERY", 0.0)
    monkeypatch.setattr(readers, "CHUNK_ROWS", 10_000)
    rows = [f"INFP{i:06d},Creator {i},Fitness,Female,{1000 + i},Instagram" for i in range(60_000)]
    content = ("influencer_id,name,category,gender,follower_count,platform\n"
               + "\n".join(rows) + "\n").encode()  # fmt: skip
    assert len(content) > 2 * 1024 * 1024  # progress is reported about once a MB read
    file = slack.add_file("creators.csv", content, filetype="csv")
    assert dispatch(app, file_share_event_body(file, ts="1741000700.000100")).status == 200
    slack.wait_for(
        "reactions.add", timeout=60, where=lambda c: c.params.get("name") == "white_check_mark"
    )
    edits = [c.params["text"] for c in slack.calls("chat.update")]
    # rows are counted as chunks are parsed: none yet while the first is read ("16%")
    progress = [
        re.fullmatch(r"Loading creators\.csv… (?:([\d,]+) rows, )?(\d+)%.*", t) for t in edits
    ]
    shown = [(int((m[1] or "0").replace(",", "")), int(m[2])) for m in progress if m]
    assert len(shown) >= 2, edits
    assert [p for _, p in shown] == sorted({p for _, p in shown}) and shown[-1][1] < 100
    assert [n for n, _ in shown] == sorted(n for n, _ in shown) and shown[-1][0] > 0
    assert progress[-1] is None and "60,000 new" in edits[-1]  # the summary comes last


def test_progress_edits_are_at_least_progress_every_apart(monkeypatch):
    """Slack allows about one chat.update a second: reports closer than PROGRESS_EVERY to the
    last edit are dropped, and the end of the file is left to the summary."""
    clock = [100.0]
    monkeypatch.setattr(uploads, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    edited: list[str] = []

    class Client:
        def chat_update(self, channel: str, ts: str, text: str) -> None:
            edited.append(text)

    report = uploads._progress(Client(), "C1", "1.0", "t.csv")
    for at, fraction in ((101.0, 0.1), (103.5, 0.2), (104.0, 0.3), (107.0, 0.5), (111.0, 1.0)):
        clock[0] = at
        report(LoadProgress("t.csv", rows_done=int(fraction * 1000), fraction=fraction,
                            elapsed_s=at - 100))  # fmt: skip
    assert edited == ["Loading t.csv… 200 rows, 20%, about 14 s left",
                      "Loading t.csv… 500 rows, 50%, about 7 s left"]  # fmt: skip
