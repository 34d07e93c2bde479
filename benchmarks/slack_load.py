"""50 slash commands at once against `roasbot serve` over HTTP, on a year of data in PostgreSQL.

    python -m benchmarks.slack_load [--influencers 2000 --days 365] [--reuse-schema NAME] [--keep]
                                    [--commands 50]

Slack shows the user an error when a slash command is not acknowledged within 3 s, and people
give up on an answer that takes much longer. So this measures, per command:

- ack latency: from sending the signed request until the HTTP 200 comes back;
- time to chart: from sending until the chart upload in the answer's thread completes
  (`files.completeUploadExternal` reaching the Slack stand-in).

The bot runs as a real `roasbot serve` process (waitress, HTTP mode) with SLACK_API_URL pointing
at the stand-in from `tests/slack_standin.py`, on 127.0.0.1 only. The commands are a mix of
distinct queries (by influencer, brand, tier, persona, underperformers, over several windows), so
answers cannot all come from one computation. Goals: every ack under 3 s with p99 under 300 ms;
chart posted p95 under 3 s.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from benchmarks.queries import DAYS, INFLUENCERS, load_sample
from tests.slack_standin import SlackStandIn, post, sign, slash_command_body

PG = os.environ.get("BENCH_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
SECRET, TOKEN = "bench-signing-secret", "xoxb-bench-token"
CHART_WAIT_S = 600
WARM_UP = "period=ytd by=platform"  # not one of QUERIES: it must not fill the answer cache
QUERIES = [
    ("/roas", "period=last_30d"),
    ("/roas", "period=last_30d by=brand"),
    ("/roas", "period=last_7d by=tier"),
    ("/roas", "period=last_90d by=persona"),
    ("/underperformers", "period=last_30d"),
    ("/personas", "period=last_90d"),
    ("/roas", "brand=MuscleBlaze period=last_30d"),
    ("/roas", "brand=HKVitals period=this_month by=product"),
    ("/roas", "platform=Instagram period=last_30d by=category"),
    ("/roas", "trend period=last_90d"),
]


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _schema_url(schema: str) -> str:
    url = make_url(PG).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.slack_load")
    parser.add_argument("--commands", type=int, default=50)
    parser.add_argument("--reuse-schema", metavar="NAME", help="a schema a --keep run left")
    parser.add_argument("--keep", action="store_true", help="keep the schema for --reuse-schema")
    parser.add_argument("--influencers", type=int, default=INFLUENCERS, metavar="N")
    parser.add_argument("--days", type=int, default=DAYS, metavar="N")
    args = parser.parse_args(argv)
    schema = args.reuse_schema or f"benchs_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG, isolation_level="AUTOCOMMIT")
    if not args.reuse_schema:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        started = time.monotonic()
        # Ending yesterday: the commands' periods are relative to the bot's today.
        yesterday = dt.date.today() - dt.timedelta(days=1)
        load_sample(_schema_url(schema), args.influencers, args.days, yesterday)
        print(f"loaded sample data into {schema} in {time.monotonic() - started:.0f} s")
    try:
        return _run(schema, args.commands)
    finally:
        if args.keep or args.reuse_schema:
            print(f"schema {schema} kept: --reuse-schema {schema}")
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def _run(schema: str, commands: int) -> int:
    with SlackStandIn(bot_token=TOKEN) as slack:
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
        env.update(
            DATABASE_URL=_schema_url(schema),
            SLACK_BOT_TOKEN=TOKEN,
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=slack.api_url,
            # Every answer's chart as the PNG in its thread, trends included (natively they are
            # in the message itself, with no upload to time).
            CHART_STYLE="png",
        )
        bot = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            _wait_up(port, bot)
            _warm_up(slack, port)
            return _fire(slack, port, commands)
        finally:
            bot.terminate()
            bot.wait(timeout=20)


def _wait_up(port: int, bot: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if bot.poll() is not None:
            raise SystemExit(f"roasbot serve exited: {bot.stderr.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("roasbot serve did not come up")


def _warm_up(slack: SlackStandIn, port: int) -> None:
    """One command that is not among the measured ones, answered before the burst.

    A bot in service has answered something since it started; the first answer of a process
    also pays for imports, matplotlib's font cache and the connection pool (~1-2 s), which is
    not what 50 people at once cost. The warm-up's own time is printed, not counted.
    """
    url = f"http://127.0.0.1:{port}/slack/events"
    body = slash_command_body("/roas", WARM_UP, slack.response_url(), channel_id="CWARMUP")
    started = time.monotonic()
    post(url, body, sign(SECRET, body), timeout=30)
    slack.wait_for("files.completeUploadExternal", count=1, timeout=CHART_WAIT_S)
    print(f"warm-up command (/roas {WARM_UP}) answered in {time.monotonic() - started:.1f} s")


def _fire(slack: SlackStandIn, port: int, n: int) -> int:
    url = f"http://127.0.0.1:{port}/slack/events"
    requests = []
    for i in range(n):
        command, text_ = QUERIES[i % len(QUERIES)]
        channel = f"CLOAD{i:03d}"
        body = slash_command_body(command, text_, slack.response_url(), channel_id=channel)
        requests.append((channel, body))
    sent: dict[str, float] = {}
    acks: list[float] = []

    def send(item: tuple[str, bytes]) -> int:
        channel, body = item
        sent[channel] = time.monotonic()
        status, _, _ = post(url, body, sign(SECRET, body), timeout=30)
        acks.append(time.monotonic() - sent[channel])
        return status

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
        statuses = list(pool.map(send, requests))
    ack_ms = [a * 1000 for a in acks]
    print(f"{n} concurrent slash commands ({len(QUERIES)} distinct queries)")
    print(f"  HTTP statuses: {sorted(set(statuses))}")
    print(
        f"  ack latency ms   p50 {statistics.median(ack_ms):7.0f}   p99 "
        f"{_percentile(ack_ms, 99):7.0f}   max {max(ack_ms):7.0f}"
    )
    try:
        charts = slack.wait_for(
            "files.completeUploadExternal",
            count=n,
            timeout=CHART_WAIT_S,
            where=lambda c: c.params.get("channel_id") in sent,
        )
    except AssertionError:
        charts = slack.calls("files.completeUploadExternal")
        print(f"  only {len(charts)} of {n} charts posted within {CHART_WAIT_S} s")
    chart_times = [
        c.time - sent[c.params["channel_id"]] for c in charts if c.params.get("channel_id") in sent
    ]
    print(f"  all done in {time.monotonic() - started:.1f} s")
    if chart_times:
        print(
            f"  chart posted s   p50 {statistics.median(chart_times):7.2f}   p95 "
            f"{_percentile(chart_times, 95):7.2f}   max {max(chart_times):7.2f}"
            f"   ({len(chart_times)} charts)"
        )
    met = (
        max(ack_ms) < 3000,
        _percentile(ack_ms, 99) < 300,
        len(chart_times) == n and _percentile(chart_times, 95) < 3,
    )
    print(
        f"  goals: every ack < 3 s {_word(met[0])}; ack p99 < 300 ms {_word(met[1])}; "
        f"chart p95 < 3 s {_word(met[2])}"
    )
    return 0 if statuses == [200] * n else 1


def _word(met: bool) -> str:
    return "met" if met else "MISSED"


if __name__ == "__main__":
    sys.exit(main())
