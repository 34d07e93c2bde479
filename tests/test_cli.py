"""The `roasbot` command line, run as a real process against both stores."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.helpers import INFLUENCERS_CSV, TRACKING_CSV, counts, write


def roasbot(*args: str, env: dict[str, str] | None = None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=300,
    )  # fmt: skip


def test_help_lists_every_command_and_each_has_its_own_help(capsys):
    """In this process (the installed script is run once, below): a new Python per --help cost
    ~40 s of the suite on a busy machine."""
    from bot.cli import main

    def help_of(*args: str) -> str:
        with pytest.raises(SystemExit) as done:
            main([*args, "--help"])
        assert done.value.code == 0
        return capsys.readouterr().out

    top = help_of()
    for command in ("db", "ingest", "ask", "run", "serve", "digest", "status", "sample-data"):
        assert command in top
        assert f"usage: roasbot {command}" in help_of(command)
    assert "usage: roasbot db upgrade" in help_of("db", "upgrade")


def test_console_script_is_installed():
    from tests.conftest import roasbot_executable

    out = subprocess.run([roasbot_executable(), "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "ingest" in out.stdout


def test_ingest_prints_a_summary_writes_rejects_and_exits_nonzero(cli_env, tmp_path):
    people = write(tmp_path, "people.csv", INFLUENCERS_CSV)
    bad = TRACKING_CSV + "influencer,INF1,MuscleBlaze,Whey,2025-01-09,-2,100,\n"
    tracking = write(tmp_path, "tracking.csv", bad)
    out = roasbot("ingest", str(tracking), str(people), env=cli_env, cwd=tmp_path)
    assert out.returncode == 1, out.stderr
    assert "people.csv: loaded — influencers: 3 rows, 3 new" in out.stdout
    assert "rejected 1 row: orders is negative — line 5 (e.g. '-2')" in out.stdout
    rejects = tmp_path / "tracking.rejected.csv"
    assert rejects.is_file() and "orders is negative" in rejects.read_text("utf-8-sig")
    again = roasbot("ingest", str(people), env=cli_env, cwd=tmp_path)
    assert again.returncode == 0
    assert "already loaded on" in again.stdout


def test_ingest_json(cli_env, tmp_path):
    people = write(tmp_path, "people.csv", INFLUENCERS_CSV)
    out = roasbot("ingest", "--json", str(people), env=cli_env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["ok"] is True
    [file] = result["files"]
    assert (file["status"], file["inserted"], file["sheets"][0]["kind"]) == (
        "loaded", 3, "influencers",
    )  # fmt: skip


def test_errors_are_one_line_and_debug_shows_the_traceback(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    env["DATABASE_URL"] = "postgresql+psycopg2://nobody:s3cret@127.0.0.1:1/none"
    path = write(tmp_path, "p.csv", INFLUENCERS_CSV)
    out = roasbot("ingest", str(path), env=env)
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("roasbot: error: cannot open")
    assert "s3cret" not in out.stderr  # the password never reaches a message
    assert "Traceback" not in out.stderr
    debug = roasbot("--debug", "ingest", str(path), env=env)
    assert "Traceback" in debug.stderr
    missing = roasbot("ingest", str(tmp_path / "nope.csv"), env=env)
    assert missing.stderr.strip() == f"roasbot: error: no such file: {tmp_path / 'nope.csv'}"


def test_sample_data_writes_and_loads_and_status_describes_it(cli_env, tmp_path, store_url):
    out = roasbot(
        "sample-data", "--influencers", "12", "--days", "20", "--end-date", "2025-03-31",
        "--load", "--out", str(tmp_path / "s"), env=cli_env,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr + out.stdout
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == [
        "influencers.csv", "payouts.csv", "posts.csv", "tracking_data.csv",
    ]  # fmt: skip
    status = roasbot("status", "--json", env=cli_env)
    data = json.loads(status.stdout)
    by_name = {d["name"]: d for d in data["datasets"]}
    assert by_name["influencers"]["rows"] == 12
    assert by_name["tracking_data"]["last"] == "2025-03-31"
    assert data["brands"] == ["Gritzo", "HKVitals", "MuscleBlaze"]
    again = roasbot("sample-data", "--load", "--if-empty", env=cli_env)
    assert "already has data" in again.stdout
    text = roasbot("status", env=cli_env).stdout
    assert "tracking_data" in text and "Recent uploads:" in text


@pytest.mark.parametrize("bad", [["--days", "0"], ["--end-date", "31/03/2025"]])
def test_sample_data_rejects_bad_arguments_with_a_usage_error(bad):
    out = roasbot("sample-data", *bad)
    assert out.returncode == 2 and "Traceback" not in out.stderr


def test_db_upgrade_reports_the_revision(cli_env, store):
    out = roasbot("db", "upgrade", env=cli_env)
    assert out.returncode == 0, out.stderr
    from storage.db import head_revision

    assert f"already at {head_revision()}" in out.stdout
    assert counts(store)["influencers"] == 0


def test_run_loads_sample_data_into_an_empty_store_then_opens_the_console(cli_env, tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run", "--charts", str(tmp_path / "charts")],
        input="/roas by=brand\n", capture_output=True, text=True, env=cli_env, cwd=tmp_path,
        timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "loading 90 days of sample data" in out.stdout
    assert "Slack is not set up (SLACK_BOT_TOKEN" in out.stdout
    assert "ROAS by brand" in out.stdout and "MuscleBlaze" in out.stdout
    again = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"], input="", capture_output=True, text=True,
        env=cli_env, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert "loading 90 days" not in again.stdout  # the store has data now


def test_serve_without_tokens_says_what_is_missing(cli_env):
    out = roasbot("serve", env=cli_env)
    assert out.returncode == 2
    assert "SLACK_BOT_TOKEN" in out.stderr and "roasbot shell" in out.stderr


def test_digest_dry_run_prints_the_week_and_writes_the_chart(cli_env, store, tmp_path):
    from storage.ingest import Upload, ingest_files
    from tests.conftest import FIXTURES

    paths = sorted((FIXTURES / "digest").glob("*.csv"))
    assert ingest_files(store, [Upload.from_path(p) for p in paths]).ok
    out = roasbot(
        "digest", "--week", "2025-W23", "--dry-run", "--charts", str(tmp_path / "c"), env=cli_env
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Weekly digest 2025-W23")
    assert "Recommendations" in out.stdout
    assert list((tmp_path / "c").glob("*.png"))
    bad = roasbot("digest", "--week", "2025-23", "--dry-run", env=cli_env)
    assert bad.returncode == 1 and "YYYY-Www" in bad.stderr
