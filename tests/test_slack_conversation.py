"""End to end: talking to the bot in words, through the real `roasbot serve` (HTTP mode) and
the Slack stand-in, on SQLite and PostgreSQL: a mention answered in its thread, a DM in the DM,
a reply in the answer's thread read as a change to its query (after a restart too), a thread
of people talking left alone, and `/roas <plain words>` echoing what it understood.
"""

from __future__ import annotations

import json
import time

from tests import test_slack_e2e as e2e
from tests.slack_standin import SlackStandIn, message_event_body, slash_command_body
from tests.test_slack_e2e import BotProcess

CHANNEL = "C2147483705"
slack, bot = e2e.slack, e2e.bot  # the stand-in and `roasbot serve` of each store (fixtures)
ASK = "how did muscle blaze do from 1 march to 10 march 2025 by platform?"
ECHO = "/roas brand=MuscleBlaze period=2025-03-01..2025-03-10 by=platform"


def understood(call) -> str:
    """The 'Understood as' line above an answer."""
    return call.params["blocks"][0]["elements"][0]["text"]


def _posted(slack: SlackStandIn, thread: str | None, channel: str = CHANNEL) -> list:
    return [
        c for c in slack.calls("chat.postMessage")
        if c.params.get("thread_ts") == thread and c.params.get("channel") == channel
    ]  # fmt: skip


def _wait_answer(slack, thread, channel=CHANNEL, title="ROAS by"):
    def match(call) -> bool:
        blocks = call.params.get("blocks") or []
        headers = [b for b in blocks if b.get("type") == "header"]
        return (
            call.params.get("channel") == channel
            and call.params.get("thread_ts") == thread
            and bool(headers)
            and headers[0]["text"]["text"].startswith(title)
        )

    [message] = slack.wait_for("chat.postMessage", timeout=30, where=match)
    return message


def test_a_mention_is_answered_in_its_thread_with_what_was_understood(bot, slack):
    ts = "1741000400.000100"
    assert bot.send(message_event_body(ASK, mention=True, ts=ts))[0] == 200
    message = _wait_answer(slack, ts, title="ROAS by platform")
    assert understood(message) == f"Understood as: `{ECHO}`"
    assert message.params["metadata"]["event_payload"]["q"] == (
        "roas brand=MuscleBlaze period=2025-03-01..2025-03-10 by=platform"
    )
    fields = {f["text"].split("\n")[0] for f in message.params["blocks"][2]["fields"]}
    assert "*ROAS*" in fields


def test_a_direct_message_is_answered_in_the_dm(bot, slack):
    body = message_event_body(
        "underperformers on instagram from 1 march to 10 march 2025", "D0123456",
        channel_type="im", ts="1741000500.000200",
    )  # fmt: skip
    bot.send(body)
    message = _wait_answer(slack, None, channel="D0123456", title="Underperformers")
    assert understood(message) == (
        "Understood as: `/roas underperformers platform=Instagram period=2025-03-01..2025-03-10`"
    )
    assert "Kabir Shah" in json.dumps(message.params["blocks"][3])


def test_a_reply_in_the_thread_changes_the_query_even_after_a_restart(bot, slack, module_store):
    ts = "1741000600.000100"
    bot.send(message_event_body(ASK, mention=True, ts=ts))
    _wait_answer(slack, ts, title="ROAS by platform")
    bot.send(message_event_body("by brand instead", thread_ts=ts, ts="1741000600.000200"))
    by_brand = _wait_answer(slack, ts, title="ROAS by brand")
    assert understood(by_brand) == (
        "Understood as: `/roas brand=MuscleBlaze period=2025-03-01..2025-03-10 by=brand`"
    )
    # A new process knows nothing but what Slack keeps: the answers' metadata.
    fresh = BotProcess(module_store, slack.api_url)
    try:
        fresh.send(message_event_body("only instagram", thread_ts=ts, ts="1741000600.000300"))
        slack.wait_for("chat.postMessage", count=3, timeout=30,
                       where=lambda c: c.params.get("thread_ts") == ts)  # fmt: skip
        latest = [c for c in _posted(slack, ts) if "platform: Instagram" in str(c.params)]
        assert latest, _posted(slack, ts)
        assert "platform=Instagram" in understood(latest[-1])
        assert "by=brand" in understood(latest[-1])
    finally:
        fresh.stop()


def test_people_talking_in_a_thread_without_an_answer_are_left_alone(bot, slack):
    slack.wait_for("auth.test", timeout=10)
    body = message_event_body("by platform", thread_ts="1741000999.000100", ts="1741001000.1")
    before = len(slack.calls("chat.postMessage"))
    bot.send(body)
    time.sleep(1.5)
    assert len(slack.calls("chat.postMessage")) == before
    assert slack.calls("conversations.replies")  # it did look for an answer of ours


def test_thanks_in_an_answer_s_thread_gets_no_reply(bot, slack):
    ts = "1741000700.000100"
    bot.send(message_event_body(ASK, mention=True, ts=ts))
    _wait_answer(slack, ts, title="ROAS by platform")
    before = len(_posted(slack, ts))
    bot.send(message_event_body("thanks!", thread_ts=ts, ts="1741000700.000200"))
    time.sleep(1.5)
    assert len(_posted(slack, ts)) == before


def test_slash_roas_takes_plain_words_and_says_did_you_mean(bot, slack):
    bot.send(slash_command_body("/roas", ASK, slack.response_url()))
    message = _wait_answer(slack, None, title="ROAS by platform")
    assert understood(message) == f"Understood as: `{ECHO}`"
    url = slack.response_url()
    status, _, body = bot.send(slash_command_body("/roas", "how did hkvitamins do", url))
    assert status == 200  # in the acknowledgement, or after it when the store is busy
    text = body.decode() or slack.wait_for_responses(url=url, timeout=30)[0]["text"]
    assert "did you mean brand HKVitals?" in text
