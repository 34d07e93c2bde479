"""How long a chart takes to render, warm, for each kind of answer the bot draws.

    python -m benchmarks.charts [--n 20]

The goal is under 150 ms a chart, so a Slack reply never waits on its picture. The answers are
built once from the sample data (fixed end date, seed 7, in a temp SQLite) and are not timed:
only `render_chart` is. The first render of each answer is a warm-up, excluded, because it pays
for font loading and glyph caches that a running bot pays once per process, not per command.

Each render is timed twice over: wall clock, which is what a user waits, and the thread's CPU
time, which is what the chart costs. On a shared machine the two part ways (other processes
take the CPU between our instructions), so the load average is printed before and after: trust
the wall figures only when it is well under the core count.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import matplotlib

from bot.charts import render_chart
from insights.engine import Thresholds, answer
from insights.query import parse
from insights.results import Answer
from sample_data.generator import generate
from storage.db import open_store
from storage.ingest import Upload, ingest_files

END_DATE = dt.date(2026, 11, 20)
TARGET = 2.0
GOAL_MS = 150.0
CASES = {
    "roas by brand": "/roas by=brand",
    "roas by influencer (10)": "/roas",
    "roas by influencer (30)": "/roas top=30",
    "underperformers": "/underperformers",
    "personas": "/personas min_influencers=1",
    "trend (weekly)": "/trend",
    "influencer (weekly)": "/influencer INF0001",
    "roas by month": "/roas by=month",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="timed renders per chart (default 20)")
    args = parser.parse_args(argv)
    answers = _answers()
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    print(
        f"machine: {os.cpu_count()} cores, {memory_gb:.0f} GB RAM, "
        f"Python {platform.python_version()}, matplotlib {matplotlib.__version__}; "
        f"{args.n} warm renders each"
    )
    print(f"load average before: {_load()}")
    print(f"{'':<25}{'wall ms':^24}{'CPU ms':^24}")
    print(f"{'chart':<25}" + f"{'min':>8}{'median':>8}{'p95':>8}" * 2 + f"{'KiB':>6}  size")
    slow = []
    for name, result in answers.items():
        png = render_chart(result, target=TARGET)  # warm-up
        if png is None:
            raise SystemExit(f"{name}: no chart rendered")
        wall, cpu = [], []
        for _ in range(args.n):
            start, start_cpu = time.perf_counter(), time.thread_time()
            render_chart(result, target=TARGET)
            cpu.append((time.thread_time() - start_cpu) * 1000)
            wall.append((time.perf_counter() - start) * 1000)
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        print(f"{name:<25}{_stats(wall)}{_stats(cpu)}{len(png) / 1024:>6.0f}  {width}x{height}")
        if _p95(wall) > GOAL_MS:
            slow.append(name)
    print(f"load average after: {_load()}")
    verdict = f"missed by {', '.join(slow)}" if slow else "met"
    print(f"goal: wall p95 under {GOAL_MS:.0f} ms — {verdict}")
    return 0


def _p95(times: list[float]) -> float:
    """Nearest rank: with 20 samples, the second slowest."""
    return sorted(times)[math.ceil(0.95 * len(times)) - 1]


def _stats(times: list[float]) -> str:
    return f"{min(times):>8.1f}{statistics.median(times):>8.1f}{_p95(times):>8.1f}"


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def _answers() -> dict[str, Answer]:
    with tempfile.TemporaryDirectory() as tmp:
        paths = generate(Path(tmp) / "csv", end_date=END_DATE, seed=7)
        db = open_store(f"sqlite:///{tmp}/bench.db")
        ingest_files(db, [Upload.from_path(p) for p in paths.values()])
        today = END_DATE + dt.timedelta(days=1)
        thresholds = Thresholds(roas_target=TARGET)
        answers = {name: answer(db, parse(q, today), thresholds) for name, q in CASES.items()}
        db.dispose()
    return answers


if __name__ == "__main__":
    raise SystemExit(main())
