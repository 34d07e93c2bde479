"""The `roasbot` argument parser: every sub-command, its options and its help text."""

from __future__ import annotations

import argparse
import datetime as dt

from bot.cli import commands as sub
from bot.service import FILE_KINDS


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"'{value}' is not a date (YYYY-MM-DD)") from exc


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"'{value}' is not a whole number") from exc
    if number <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return number


def _server_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="HTTP mode address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=3000, help="HTTP mode port (default 3000)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="roasbot",
        description="roasbot: true ROAS for influencer marketing, in Slack and on the terminal.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.add_argument(
        "--database-url", metavar="URL", help="store to use (default: DATABASE_URL setting)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    db = commands.add_parser("db", help="manage the store's schema")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = db_commands.add_parser("upgrade", help="apply schema migrations (safe to run anytime)")
    up.set_defaults(func=sub.db_upgrade)

    ingest = commands.add_parser(
        "ingest",
        help="load CSV/XLSX files (influencers, posts, tracking data, payouts)",
        description="Load files into the store. The kind of each file is detected from its "
        "header; rows that fail validation are reported with line numbers and written to a "
        "*.rejected.csv. Exits 1 when anything was rejected or refused.",
    )
    ingest.add_argument("paths", nargs="+", metavar="PATH")
    ingest.add_argument("--kind", choices=FILE_KINDS, help="skip detection: files are KIND")
    ingest.add_argument("--json", action="store_true", help="print the result as JSON")
    ingest.add_argument(
        "--rejects-dir", default=".", metavar="DIR", help="where *.rejected.csv go (default: .)"
    )
    ingest.set_defaults(func=sub.ingest)

    ask = commands.add_parser(
        "ask",
        help='answer one command, e.g. roasbot ask "/roas brand=MuscleBlaze by=tier"',
        description="Answer one command of the query language (see `roasbot ask help`).",
    )
    ask.add_argument("text", metavar="TEXT", help="the command, leading slash optional")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--charts", metavar="DIR", help="write the answer's chart as PNG into DIR")
    ask.set_defaults(func=sub.ask)

    run = commands.add_parser(
        "run",
        help="what `make run` starts: sample data if empty, then Slack or the console",
        description="Load sample data when the store is empty, print a summary, then run the "
        "Slack app when SLACK_* settings are present, or the console (roasbot shell) otherwise.",
    )
    _server_arguments(run)
    run.add_argument("--charts", metavar="DIR", help="where the console writes charts")
    run.set_defaults(func=sub.run)

    serve = commands.add_parser(
        "serve",
        help="run the Slack app (Socket Mode with SLACK_APP_TOKEN, else HTTP)",
        description="Run the Slack app. With SLACK_APP_TOKEN it connects in Socket Mode (no "
        "public URL needed); otherwise it serves POST /slack/events and GET /healthz.",
    )
    _server_arguments(serve)
    serve.set_defaults(func=sub.serve)

    sched = commands.add_parser(
        "scheduler", help="run the digest and alert scheduler alone (no Slack listener)"
    )
    sched.set_defaults(func=sub.scheduler)

    digest = commands.add_parser(
        "digest",
        help="build the weekly digest: print it (--dry-run) or post it to --channel",
        description="Build the digest of the last full week (or --week 2025-W23).",
    )
    digest.add_argument("--channel", metavar="C", help="post to this Slack channel id")
    digest.add_argument("--week", metavar="YYYY-Www", help="which week (default: last full one)")
    digest.add_argument("--filters", metavar="TEXT", help="e.g. brand=MuscleBlaze")
    digest.add_argument("--dry-run", action="store_true", help="print the text, write the chart")
    digest.add_argument("--charts", metavar="DIR", help="where --dry-run writes the chart")
    digest.set_defaults(func=sub.digest)

    shell = commands.add_parser(
        "shell",
        help="interactive console that answers the same commands as Slack",
        description="An interactive console (with history). Fed from a pipe it answers each "
        "line and exits at the end of input.",
    )
    shell.add_argument("--charts", metavar="DIR", help="where charts go (default: CHARTS_DIR)")
    shell.set_defaults(func=sub.shell)

    status = commands.add_parser("status", help="what the store holds, and recent uploads")
    status.add_argument("--json", action="store_true", help="print as JSON")
    status.set_defaults(func=sub.status)

    sample = commands.add_parser(
        "sample-data",
        help="generate realistic sample data (and load it)",
        description="Generate deterministic, realistic HealthKart-like sample data: brands "
        "MuscleBlaze, HKVitals and Gritzo, influencers from nano to mega, posts, tracking data "
        "and payouts.",
    )
    sample.add_argument("--out", metavar="DIR", help="write the four CSVs to DIR")
    sample.add_argument("--influencers", type=_positive, default=60, metavar="N")
    sample.add_argument("--days", type=_positive, default=90, metavar="N")
    sample.add_argument(
        "--end-date", type=_date, metavar="YYYY-MM-DD", help="last day of data (default: yesterday)"
    )
    sample.add_argument("--seed", type=int, default=7, metavar="S")
    sample.add_argument(
        "--extend",
        metavar="PREFIX",
        help="a batch of new creators whose ids start with PREFIX, without the sales no "
        "creator made: it adds to a store holding other data and replaces nothing",
    )
    sample.add_argument("--load", action="store_true", help="load the data into the store")
    sample.add_argument(
        "--if-empty", action="store_true", help="with --load: only when the store has no data"
    )
    sample.set_defaults(func=sub.sample_data)
    return parser
