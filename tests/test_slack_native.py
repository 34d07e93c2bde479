"""End to end: native tables and charts, through the real `roasbot serve` and the stand-in
(which refuses, as Slack does, a table or chart block outside the documented limits), both
stores. A breakdown goes out as a table block with its PNG chart in the thread; a trend as
chart blocks, without a PNG; when Slack answers invalid_blocks the answer is sent again
without them and the PNG in the thread carries the chart.
"""

from __future__ import annotations

import json
import time

from tests import test_slack_e2e as e2e
from tests.slack_standin import slash_command_body

slack, bot = e2e.slack, e2e.bot  # the stand-in and `roasbot serve` of each store (fixtures)
MARCH = "from=2025-03-01 to=2025-03-31"


def _posted(slack, title: str, marker: str = ""):
    def match(call) -> bool:
        return (
            call.response.get("ok")
            and e2e.headed(title)(call)
            and marker in json.dumps(call.params)
        )

    [message] = slack.wait_for("chat.postMessage", timeout=30, where=match)
    return message


def _of(message, kind: str) -> list[dict]:
    return [b for b in message.params["blocks"] if b["type"] == kind]


def test_a_breakdown_is_a_table_block_within_limits_with_its_png(bot, slack):
    bot.send(slash_command_body("/roas", f"{MARCH} by=brand", slack.response_url()))
    message = _posted(slack, "ROAS by brand")
    [table] = _of(message, "table")
    header, *rows = table["rows"]
    assert [c["text"] for c in header][:4] == ["Brand", "Revenue", "Cost", "ROAS"]
    assert {"MuscleBlaze", "HKVitals"} <= {r[0]["text"] for r in rows}
    assert len(table["rows"]) <= 100 and all(len(r) <= 20 for r in table["rows"])
    actions = json.dumps(_of(message, "actions"))
    assert '"download_csv"' in actions and '"alert_me"' in actions
    chart = e2e.chart_in_thread(slack, message.response["ts"])
    assert chart.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_trend_is_chart_blocks_and_no_png(bot, slack):
    bot.send(slash_command_body("/roas", f"trend {MARCH}", slack.response_url()))
    message = _posted(slack, "Weekly trend")
    charts = _of(message, "data_visualization")
    assert [c["chart"]["type"] for c in charts] == ["line", "bar"]
    line = charts[0]["chart"]
    assert line["series"][0]["name"] == "ROAS"
    assert [p["label"] for p in line["series"][0]["data"]] == line["axis_config"]["categories"]
    assert all(len(c["title"]) <= 50 for c in charts)
    ts = message.response["ts"]
    time.sleep(1.5)  # time for an upload that should not come
    assert not [u for u in slack.uploads() if u.thread_ts == ts]


def test_invalid_blocks_falls_back_to_text_and_the_png(bot, slack):
    slack.refuse_blocks("table", "data_visualization")
    try:
        bot.send(slash_command_body("/roas", f"trend {MARCH} top=20", slack.response_url()))
        message = _posted(slack, "Weekly trend", "top=20")
        refused = [
            c for c in slack.calls("chat.postMessage")
            if c.response.get("error") == "invalid_blocks" and "top=20" in json.dumps(c.params)
        ]  # fmt: skip
        assert refused and _of(refused[0], "data_visualization")
        assert not _of(message, "table") and not _of(message, "data_visualization")
        assert "```Week" in json.dumps(message.params["blocks"])
        chart = e2e.chart_in_thread(slack, message.response["ts"])
        assert chart.content[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        slack.refuse_blocks()
