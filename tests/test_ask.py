"""`roasbot ask` and `roasbot shell` as real processes on the hand-built dataset, both stores."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from storage.ingest import Upload, ingest_files
from tests.conftest import FIXTURES


@pytest.fixture
def env(cli_env, store):
    paths = sorted((FIXTURES / "metrics").glob("*.csv"))
    assert ingest_files(store, [Upload.from_path(p) for p in paths]).ok
    return cli_env


def run(*args: str, env: dict, stdin: str | None = None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True, text=True, env=env, input=stdin, cwd=cwd, timeout=300,
    )  # fmt: skip


def test_ask_json_is_one_object_with_the_documented_shape(env):
    out = run("ask", "--json", "roas from=2025-03-01 to=2025-03-10 by=tier", env=env)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)  # exactly one JSON document, nothing else
    assert set(result) >= {"command", "filters", "window", "totals", "rows", "notes", "charts"}
    assert result["command"] == "roas"
    assert result["window"] == {"from": "2025-03-01", "to": "2025-03-10"}
    totals = result["totals"]
    for name in ("revenue", "cost", "roas", "incremental_roas", "orders", "cpa",
                 "engagement_rate", "influencers", "baseline_revenue"):  # fmt: skip
        assert name in totals
    assert (totals["revenue"], totals["cost"], totals["roas"]) == (5000.0, 2250.0, 2.2222)
    assert [r["key"] for r in result["rows"]] == ["macro", "micro", "nano", "mega"]
    row = result["rows"][0]
    assert {"key", "label", "revenue", "cost", "roas", "incremental_roas", "orders",
            "engagement_rate"} <= set(row)  # fmt: skip


def test_ask_json_uses_null_for_undefined_figures(env):
    out = run("ask", "--json", "/roas from=2025-03-02 to=2025-03-03", env=env)
    rows = {r["key"]: r for r in json.loads(out.stdout)["rows"]}
    assert rows["A"]["roas"] is None and rows["A"]["cost"] == 0.0


def test_ask_text_and_a_bad_query(env):
    out = run("ask", "underperformers from=2025-03-01 to=2025-03-10", env=env)
    assert out.returncode == 0, out.stderr
    assert "Underperformers (ROAS < 1)" in out.stdout
    assert "Kabir Shah" in out.stdout and "₹400" in out.stdout
    bad = run("ask", "/roas brand=MuslceBlaze", env=env)
    assert bad.returncode != 0
    assert bad.stderr.strip() == "roasbot: no brand 'MuslceBlaze' — did you mean MuscleBlaze?"
    assert bad.stdout == ""


def test_ask_help(env):
    out = run("ask", "help", env=env)
    assert out.returncode == 0 and "/underperformers" in out.stdout and "period=" in out.stdout


def test_ask_writes_the_chart(env, tmp_path):
    out = run("ask", "--json", "--charts", str(tmp_path / "c"), "/roas by=brand", env=env)
    assert out.returncode == 0, out.stderr
    [chart] = json.loads(out.stdout)["charts"]
    assert chart.startswith(str(tmp_path / "c")) and chart.endswith(".png")
    with open(chart, "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"


def test_shell_from_a_pipe_answers_each_line_and_exits(env, tmp_path):
    lines = "/roas\n\n/personas by=platform\n/roas brand=Nope\n/trend\n"
    out = run("shell", "--charts", str(tmp_path / "charts"), env=env, stdin=lines, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("ROAS by influencer") == 1
    assert "Personas by platform" in out.stdout
    assert "! no brand 'Nope'" in out.stdout  # an error does not end the session
    assert "Weekly trend" in out.stdout
    assert len(list((tmp_path / "charts").glob("*.png"))) >= 3


def test_ask_and_the_shell_take_plain_words(env):
    out = run("ask", "--json", "muscle blaze on insta from 1 march to 10 march 2025", env=env)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["understood"] == (
        "/roas brand=MuscleBlaze platform=Instagram period=2025-03-01..2025-03-10"
    )
    assert data["filters"]["brand"] == ["MuscleBlaze"]
    shell = run("shell", env=env, stdin="how did hkvitals do from 1 march to 10 march 2025\n")
    assert shell.returncode == 0, shell.stderr
    assert "Understood as: /roas brand=HKVitals period=2025-03-01..2025-03-10" in shell.stdout
    bad = run("ask", "how did muscleblst do", env=env)
    assert bad.returncode == 2 and "did you mean brand MuscleBlaze" in bad.stderr


def test_changes_against_a_window_without_data_say_so(env):
    out = run("ask", "roas from=2025-03-01 to=2025-03-10 vs=last_year", env=env)
    assert out.returncode == 0, out.stderr
    assert "No changes shown: the store has no sales or cost in the same dates a year earlier." in (
        out.stdout
    )
    assert "▲" not in out.stdout and "Changes are against" not in out.stdout
    previous = run("ask", "roas from=2025-03-05 to=2025-03-10", env=env)  # 27 Feb - 4 Mar
    assert "Changes are against the previous period of the same length." in previous.stdout
