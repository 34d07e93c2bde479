"""End to end: the App Home tab through the real `roasbot serve` and the stand-in, both stores:
published when opened with the last 7 and 30 days' figures, the channels' digests and rules
with their state; muting from the tab publishes it again; a load refreshes it.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from storage.db import open_store
from storage.ingest import Upload, ingest_files
from tests import test_slack_e2e as e2e
from tests.slack_standin import (
    app_home_opened_body,
    block_action_body,
    file_share_event_body,
    slash_command_body,
)

slack, bot = e2e.slack, e2e.bot  # the stand-in and `roasbot serve` of each store (fixtures)
USER = "U2147483697"


def _recent_rows(url: str, tmp: Path) -> None:
    """Sales yesterday and 10 days ago: ₹3,000 in the last 7 days, ₹4,000 in the last 30;
    Asha Rao (A) paid per order in the week."""
    yesterday = dt.date.today() - dt.timedelta(days=1)
    ten_days = yesterday - dt.timedelta(days=10)
    path = tmp / "tracking_recent.csv"
    path.write_text(
        "tracking_id,source,influencer_id,brand,product,date,orders,revenue\n"
        f"H1,influencer,A,MuscleBlaze,Whey,{yesterday},2,3000\n"
        f"H2,influencer,C,MuscleBlaze,Whey,{ten_days},1,1000\n"
    )
    payouts = tmp / "payouts_recent.csv"
    payouts.write_text(
        "payout_id,influencer_id,basis,total_payout,payout_date,brand,campaign\n"
        f"HP1,A,order,200,{yesterday},MuscleBlaze,\n"
        f"HP2,C,order,2000,{ten_days},MuscleBlaze,\n"
    )
    engine = open_store(url)
    assert ingest_files(engine, [Upload.from_path(path), Upload.from_path(payouts)]).ok
    engine.dispose()


def _home(slack, count: int = 1) -> dict:
    slack.wait_for("views.publish", count=count, timeout=30)
    return slack.views(f"home:{USER}")[-1]


def _texts(view: dict) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def test_the_home_tab_shows_figures_digests_and_rules_and_mutes(bot, slack, module_store, tmp_path):
    _recent_rows(module_store, tmp_path)
    for command, text in (("/alert", "add roas < 1.5 window=7d"), ("/digest", "subscribe")):
        status, _, body = bot.send(slash_command_body(command, text, slack.response_url()))
        assert status == 200 and b"warning" not in body
    bot.send(app_home_opened_body(USER))
    view = _home(slack)
    blocks = view["blocks"]
    sections = [b for b in blocks if b["type"] == "section"]
    last7 = next(
        i for i, b in enumerate(sections) if b.get("text", {}).get("text") == "*Last 7 days*"
    )
    fields7 = [f["text"] for f in sections[last7 + 1]["fields"]]
    fields30 = [f["text"] for f in sections[last7 + 3]["fields"]]
    assert fields7[0].startswith("*Revenue*\n₹3,000")
    assert fields30[0].startswith("*Revenue*\n₹4,000")
    text = _texts(view)
    assert "Weekly digests* (1)" in text and "<#C2147483705> · Mon 09:00" in text
    assert "`roas < 1.5" in text and "· *OK*" in text
    assert "Asha Rao" in text  # the week's best
    assert '"new_alert"' in text and '"subscribe_channel"' in text
    assert "Data through" in text
    rule = next(b for b in blocks if b["type"] == "actions" and b["block_id"].startswith("rule_"))
    mute = next(e for e in rule["elements"] if e["action_id"] == "alert_mute")
    bot.send(block_action_body("alert_mute", mute["value"], "", in_view="home"))
    muted = _home(slack, count=2)
    assert "*OK · muted*" in _texts(muted)


def test_a_load_refreshes_the_home_tabs_that_were_opened(bot, slack):
    opened = len(slack.calls("views.publish")) + 1
    bot.send(app_home_opened_body(USER))
    slack.wait_for("views.publish", count=opened, timeout=30)
    yesterday = dt.date.today() - dt.timedelta(days=1)
    csv = (
        "tracking_id,source,influencer_id,brand,product,date,orders,revenue\n"
        f"H3,influencer,A,MuscleBlaze,Whey,{yesterday},1,500\n"
    )
    file = slack.add_file("tracking_more.csv", csv.encode(), filetype="csv")
    bot.send(file_share_event_body(file, ts="1741002000.000100"))

    def refreshed(call) -> bool:
        fields = [f["text"] for b in call.params["view"]["blocks"] for f in b.get("fields", [])]
        return bool(fields) and fields[0].startswith("*Revenue*\n₹3,500")

    [call] = slack.wait_for("views.publish", timeout=30, where=refreshed)
    assert call.params["user_id"] == USER
