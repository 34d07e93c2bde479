"""Real-world exports and hostile files (issue 14), on both stores, built at test time."""

from __future__ import annotations

import subprocess
import sys
import time

from tests.conftest import ROOT
from tests.helpers import INFLUENCERS_CSV, TRACKING_CSV, counts, load, write

# Holds a write transaction open on the store for a while, as a second process would.
_HOLD_WRITE = """
import pathlib, sys, time
from sqlalchemy import insert
from storage import models
from storage.db import open_store

engine = open_store(sys.argv[1])
with engine.begin() as conn:
    conn.execute(insert(models.influencers).values(
        influencer_id="W1", name="Writer", category="Fitness", gender="Female",
        follower_count=1, platform="Instagram"))
    pathlib.Path(sys.argv[2]).touch()
    time.sleep(float(sys.argv[3]))
"""


def test_a_load_waits_for_a_write_in_another_process_instead_of_failing(store, store_url, tmp_path):
    assert load(store, write(tmp_path, "i.csv", INFLUENCERS_CSV)).ok
    ready = tmp_path / "ready"
    writer = subprocess.Popen(
        [sys.executable, "-c", _HOLD_WRITE, store_url, str(ready), "2"], cwd=ROOT
    )
    deadline = time.monotonic() + 60
    while not ready.exists() and writer.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ready.exists(), "the writer process did not start its transaction"
    file = load(store, write(tmp_path, "t.csv", TRACKING_CSV)).files[0]
    assert writer.wait(timeout=60) == 0
    assert file.status == "loaded", file.message
    assert counts(store) == {"influencers": 4, "posts": 0, "tracking": 3, "payouts": 0}
