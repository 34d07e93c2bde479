"""The console answers `/digest` and `/alert` as Slack does, fed from a file; both stores."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import select

from storage import models
from storage.ingest import Upload, ingest_files
from tests.conftest import FIXTURES

SESSION = """\
/alert add roas < 3 window=3650d channel=CALERT
/alert add roas < 3
/alert list
/alert check
/digest subscribe channel=CDIG day=tue brand=MuscleBlaze
/digest subscribe day=tue
/digest list
/digest now
/alert history 1
/alert mute 1 12h
/alert remove 1
/alert list
/digest unsubscribe channel=CDIG
/digest list
"""


@pytest.fixture
def env(cli_env, store):
    paths = sorted((FIXTURES / "metrics").glob("*.csv"))
    assert ingest_files(store, [Upload.from_path(p) for p in paths]).ok
    return cli_env


def test_digest_and_alert_commands_from_a_file(env, store, tmp_path):
    script = tmp_path / "session.txt"
    script.write_text(SESSION)
    with script.open() as stdin:
        out = subprocess.run(
            [sys.executable, "-m", "bot.cli", "shell", "--charts", str(tmp_path / "c")],
            stdin=stdin, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
        )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    said = out.stdout
    # Rules and subscriptions belong to a Slack channel: the console names it, or is told how.
    assert "Alert #1: roas < 3 window=3650d" in said and "posts in #CALERT" in said
    assert said.count("which Slack channel? In the console, name it: `channel=C") == 2
    assert "#1 #CALERT `roas < 3 window=3650d` · OK" in said
    # /alert check looks without acting: 1-10 March is in the 3650 days, ROAS 2.22x < 3.
    assert "#1 roas < 3 window=3650d · scope: 2.22x (breaches; state OK)" in said
    assert "#CDIG gets the weekly digest for brand=MuscleBlaze every Tue at 09:00" in said
    assert "• #CDIG: Tue 09:00 Asia/Kolkata · brand=MuscleBlaze" in said
    assert "Building the digest for the last full week…" in said
    assert "nothing was tracked or paid that week" in said  # the fixture is from 2025
    assert "Alert #1 has not been evaluated yet." in said  # check changed nothing
    assert "Alert #1 muted until" in said and "Alert #1 removed." in said
    assert "Unsubscribed: no more weekly digests here." in said
    assert said.rstrip().splitlines()[-1].startswith("No channel gets the weekly digest yet.")
    with store.connect() as conn:
        assert list(conn.execute(select(models.alert_states))) == []
        [rule] = list(conn.execute(select(models.alert_rules)))
    assert (rule.channel, rule.active, rule.muted_until is not None) == ("CALERT", False, True)
