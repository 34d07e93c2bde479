"""Block Kit builders: valid structure within Slack's limits, whatever the answer's size."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bot.slack import blocks
from bot.slack.download import DownloadError, allowed_host, fetch
from insights.results import Answer, Row, Totals
from storage.ingest.results import FileResult, RejectGroup, SheetResult


def _answer(rows: int, label: str = "Influencer") -> Answer:
    return Answer(
        command="roas",
        filters={"brand": ["MuscleBlaze"]},
        window_from=dt.date(2025, 3, 1),
        window_to=dt.date(2025, 3, 31),
        totals=Totals(revenue=5000.0, cost=2000.0, orders=8),
        rows=[Row(key=f"I{i}", label=f"{label} {i}", revenue=100.0 * i, cost=50.0)
              for i in range(rows)],
        notes=["no baseline data: incremental revenue is all revenue in the window"],
        by="influencer",
        title="ROAS by influencer",
    )  # fmt: skip


def _check_limits(message: list[dict]) -> None:
    assert 0 < len(message) <= blocks.MAX_BLOCKS
    for block in message:
        assert block["type"] in {"header", "section", "context", "actions"}
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text"
            assert len(block["text"]["text"]) <= blocks.MAX_HEADER
        if block["type"] == "section":
            if "text" in block:
                assert len(block["text"]["text"]) <= blocks.MAX_SECTION
            assert len(block.get("fields", [])) <= 10
            assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
        if block["type"] == "actions":
            assert len(block["elements"]) <= 25
            for button in block["elements"]:
                assert len(button["value"]) <= blocks.MAX_BUTTON_VALUE
                assert len(button["text"]["text"]) <= 75
        if block["type"] == "context":
            assert len(block["elements"]) <= 10


def test_answer_message_has_header_figures_table_context_and_buttons():
    text, message = blocks.answer_message(_answer(3), "roas brand=MuscleBlaze")
    _check_limits(message)
    assert [b["type"] for b in message] == ["header", "section", "section", "context", "actions"]
    assert message[0]["text"]["text"] == "ROAS by influencer · 01 Mar 2025 – 31 Mar 2025"
    fields = [f["text"] for f in message[1]["fields"]]
    assert fields[:3] == ["*Revenue*\n₹5,000", "*Cost*\n₹2,000", "*ROAS*\n2.50x"]
    assert message[2]["text"]["text"].startswith("```Influencer")
    assert "brand: MuscleBlaze" in message[3]["elements"][0]["text"]
    assert "no baseline data" in message[3]["elements"][0]["text"]
    ids = [e["action_id"] for e in message[4]["elements"]]
    assert ids == [
        "by_brand", "by_platform", "by_persona", "underperformers", "download_csv", "alert_me",
    ]  # fmt: skip
    assert json.loads(message[4]["elements"][0]["value"]) == {
        "q": "roas brand=MuscleBlaze", "by": "brand",
    }  # fmt: skip
    assert "ROAS 2.50x" in text and "₹5,000" in text


def test_a_huge_answer_is_shortened_to_fit_with_a_pointer_to_the_csv():
    _, message = blocks.answer_message(_answer(500, label="A very long influencer name " * 3),
                                       "roas")  # fmt: skip
    _check_limits(message)
    table = message[2]["text"]["text"]
    assert "more rows: Download CSV" in table


def test_a_huge_answer_as_a_native_table_keeps_slack_s_100_rows():
    _, message = blocks.answer_message(_answer(500), "roas", native=True)
    [table] = [b for b in message if b["type"] == "table"]
    assert len(table["rows"]) == 100 and all(len(r) <= 20 for r in table["rows"])
    assert table["rows"][0][0]["text"] == "Influencer"
    assert not [b for b in message if b["type"] == "data_visualization"]  # not a trend


def test_deltas_against_the_previous_window():
    previous = Totals(revenue=4000.0, cost=2000.0, orders=10)
    _, message = blocks.answer_message(_answer(1), "roas", previous=previous)
    fields = [f["text"] for f in message[1]["fields"]]
    assert fields[0] == "*Revenue*\n₹5,000  ▲ 25%"
    assert fields[1] == "*Cost*\n₹2,000  ■ 0%"
    assert fields[4] == "*Orders*\n8  ▼ 20%"
    assert blocks.delta(1.0, 0.0) == "" and blocks.delta(None, 1.0) == ""


def test_upload_message_lists_reasons_lines_and_what_changed():
    sheet = SheetResult(kind="tracking_data", sheet=None, rows_seen=3, inserted=2, rejected=1,
                        rejects=[RejectGroup("orders is negative", [3], ["'-1'"])])  # fmt: skip
    result = FileResult("t.csv", "partial", "tracking_data: 3 rows, 2 new", sheets=[sheet])
    text, message = blocks.upload_message(result, "ROAS last 30 days: 3.80x → 4.10x")
    _check_limits(message)
    assert "orders is negative — line 3 (e.g. '-1')" in text
    assert "3.80x → 4.10x" in text


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://files.slack.com/files-pri/T1-F1/download/a.csv", True),
        ("https://slack.com/files/a.csv", True),
        ("https://evil.example.com/a.csv", False),
        ("https://files.slack.com.evil.com/a.csv", False),
        ("http://files.slack.com/a.csv", False),  # never send the token in clear
        ("file:///etc/passwd", False),
    ],
)
def test_downloads_only_from_slack_hosts(url, ok):
    assert allowed_host(url, "https://slack.com/api/") is ok


def test_govslack_and_the_local_stand_in_are_slack_hosts():
    assert allowed_host("https://files.slack-gov.com/x.csv", "https://slack-gov.com/api/")
    assert allowed_host("http://127.0.0.1:5000/files/x.csv", "http://127.0.0.1:5000/api/")


def test_a_foreign_url_is_refused_before_any_request():
    with pytest.raises(DownloadError, match="not hosted by Slack"):
        fetch("https://attacker.example/x.csv", "xoxb-secret", "https://slack.com/api/", 10)


@pytest.mark.parametrize(
    ("url", "api", "ok"),
    [
        ("http://127.0.0.1:5000/files/x.csv", "http://127.0.0.1:5000/api/", True),
        ("http://127.0.0.1:6000/files/x.csv", "http://127.0.0.1:5000/api/", False),  # port
        ("https://evil.0.0.1/x.csv", "http://127.0.0.1:5000/api/", False),  # IP, no suffix
        ("https://files.slack.com:8443/x.csv", "https://slack.com/api/", False),
        ("https://files.slack.com\\@evil.example/x.csv", "https://slack.com/api/", False),
        ("https://user@files.slack.com/x.csv", "https://slack.com/api/", False),
        ("https://files.slack.com:99999/x.csv", "https://slack.com/api/", False),
    ],
)
def test_the_token_goes_only_to_the_api_host_or_slacks_https_hosts(url, api, ok):
    assert allowed_host(url, api) is ok


def test_a_question_in_words_shows_how_it_was_read_and_its_other_readings():
    from insights.language import Understood
    from insights.query import parse

    today = dt.date(2026, 12, 2)
    best = parse('roas product="SuperMilk Growth 3-5y"', today)
    other = parse('roas product="SuperMilk Height+ 6-9y"', today)
    understood = Understood(best, '/roas product="SuperMilk Growth 3-5y"', ("pls",),
                            (("product SuperMilk Height+ 6-9y", other),))  # fmt: skip
    _, message = blocks.answer_message(_answer(2), "roas", understood=understood)
    assert message[0]["elements"][0]["text"] == (
        "Understood as: `/roas product=\"SuperMilk Growth 3-5y\"` (not used: 'pls')"
    )
    [button] = message[1]["elements"]
    assert button["action_id"] == "other_reading"
    assert button["text"]["text"] == "Did you mean product SuperMilk Height+ 6-9y?"
    assert json.loads(button["value"]) == {"q": 'roas product="SuperMilk Height+ 6-9y"'}
    assert message[2]["type"] == "header"
