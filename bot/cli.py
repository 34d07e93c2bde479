"""The `roasbot` command line.

Each sub-command is a small function that reads settings, calls `storage`/`sample_data`, and
prints through `bot.text`. Errors come out as one line (`--debug` shows the traceback), because
the people running this are marketers and ops folks, not the authors.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from bot import queries, text
from bot.settings import Settings, get_settings
from insights.query import QueryError
from storage.db import current_revision, open_store, upgrade
from storage.ingest import KINDS, Options, Origin, Upload, ingest_files
from storage.summary import summarise


class CliError(Exception):
    """An error to show the user as one line, with exit code 1."""


def _settings(args: argparse.Namespace) -> Settings:
    settings = get_settings()
    if getattr(args, "database_url", None):
        settings = settings.model_copy(update={"database_url": args.database_url})
    return settings


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _store(settings: Settings) -> Engine:
    try:
        return open_store(settings.database_url)
    except OperationalError as exc:
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise CliError(
            f"cannot open the store {_safe_url(settings.database_url)}: {first}"
        ) from exc


def _yesterday(settings: Settings) -> dt.date:
    return queries.today(settings) - dt.timedelta(days=1)


# --- commands -------------------------------------------------------------------------------


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    settings = _settings(args)
    from storage.db import create_store_engine

    engine = create_store_engine(settings.database_url)
    ran = upgrade(engine)
    state = "upgraded to" if ran else "already at"
    print(f"{_safe_url(settings.database_url)}: {state} {current_revision(engine)}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    settings = _settings(args)
    engine = _store(settings)
    summary = summarise(engine)
    if args.json:
        print(json.dumps({"store": _safe_url(settings.database_url), **_jsonable(summary)}))
    else:
        url = _safe_url(settings.database_url)
        print(text.store_summary(summary, url, current_revision(engine)))
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    settings = _settings(args)
    missing = [p for p in args.paths if not Path(p).is_file()]
    if missing:
        raise CliError(f"no such file: {missing[0]}")
    engine = _store(settings)
    options = Options(
        kind=args.kind, max_upload_mb=settings.max_upload_mb, date_order=settings.date_order
    )
    progress = _ProgressBar() if sys.stderr.isatty() and not args.json else None
    result = ingest_files(
        engine,
        [Upload.from_path(p) for p in args.paths],
        Origin("cli", _user()),
        options,
        progress,
    )
    if progress:
        progress.done()
    rejects_dir = Path(args.rejects_dir)
    written: dict[str, str] = {}
    for f in result.files:
        for sheet in f.sheets:
            if sheet.rejected_csv:
                stem = Path(f.filename).stem + (f".{sheet.sheet}" if sheet.sheet else "")
                target = rejects_dir / f"{stem}.rejected.csv"
                rejects_dir.mkdir(parents=True, exist_ok=True)
                target.write_bytes(sheet.rejected_csv)
                written[f"{f.filename}:{sheet.sheet or ''}"] = str(target)
    if args.json:
        payload = result.to_dict()
        payload["rejected_files"] = written
        print(json.dumps(payload, default=str))
    else:
        for f in result.files:
            print(text.file_result(f))
        for path in written.values():
            print(f"rejected rows written to {path}")
    return 0 if result.ok else 1


def cmd_sample_data(args: argparse.Namespace) -> int:
    settings = _settings(args)
    end = args.end_date or _yesterday(settings)
    engine = _store(settings) if args.load else None
    if engine is not None and args.if_empty and not summarise(engine, 0).is_empty:
        print("The store already has data; sample data not loaded (--if-empty).")
        return 0
    out = Path(args.out) if args.out else None
    ok = _sample_data(settings, engine, out, args.influencers, args.days, end, args.seed)
    return 0 if ok else 1


def _sample_data(
    settings: Settings,
    engine: Engine | None,
    out: Path | None,
    influencers: int,
    days: int,
    end: dt.date,
    seed: int,
) -> bool:
    """Generate sample data into `out` (or a temp dir) and load it when given a store."""
    from sample_data.generator import generate

    with tempfile.TemporaryDirectory() as tmp:
        paths = generate(
            out or Path(tmp), influencers=influencers, days=days, end_date=end, seed=seed
        )
        if out:
            print(f"wrote {', '.join(str(p) for p in paths.values())}")
        if engine is None:
            return True
        options = Options(max_upload_mb=max(settings.max_upload_mb, 4096))
        result = ingest_files(
            engine, [Upload.from_path(p) for p in paths.values()], Origin("cli", _user()), options
        )
        for f in result.files:
            print(text.file_result(f))
        return result.ok


def cmd_run(args: argparse.Namespace) -> int:
    """What `make run` starts: sample data if the store is empty, then Slack or the console."""
    settings = _settings(args)
    engine = _store(settings)
    if summarise(engine, 0).is_empty:
        print("The store is empty: loading 90 days of sample data ending yesterday.")
        _sample_data(settings, engine, None, 60, 90, _yesterday(settings), 7)
    print(
        text.store_summary(
            summarise(engine), _safe_url(settings.database_url), current_revision(engine)
        )
    )
    missing = settings.missing_slack_settings()
    if not missing:
        return cmd_serve(args)
    print(
        f"\nSlack is not set up ({' and '.join(missing)} missing in .env or the environment):"
        " opening the console instead. See README: Connect to Slack.\n"
    )
    return cmd_shell(args)


def cmd_ask(args: argparse.Namespace) -> int:
    settings = _settings(args)
    engine = _store(settings)
    try:
        result = queries.run(engine, args.text, settings)
    except QueryError as exc:
        print(f"roasbot: {exc}", file=sys.stderr)
        return 2
    if args.charts:
        _write_chart(result, Path(args.charts), settings)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        print(text.answer_text(result, settings.currency))
    return 0


def _write_chart(result, folder: Path, settings: Settings) -> None:
    """Render the answer's chart (if one suits it) into `folder` and list it on the answer."""
    from bot.charts import render_chart

    png = render_chart(result, currency=settings.currency, target=settings.roas_target)
    if png is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    stem = "-".join([result.command, result.by or "", *_slug(result.filters)]).strip("-")
    path = folder / f"{stem}.png"
    path.write_bytes(png)
    result.charts.append(str(path))


def _slug(filters: dict[str, list[str]]) -> list[str]:
    import re

    return [re.sub(r"[^A-Za-z0-9]+", "_", f"{k}_{'_'.join(v)}")[:40] for k, v in filters.items()]


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the Slack app: Socket Mode with SLACK_APP_TOKEN, else HTTP mode on --host:--port."""
    settings = _settings(args)
    missing = settings.missing_slack_settings()
    if missing:
        print(
            f"roasbot serve needs {' and '.join(missing)} (see README: Connect to Slack). "
            "Without Slack, try `roasbot shell`.",
            file=sys.stderr,
        )
        return 2
    engine = _store(settings)
    from slack_bolt.error import BoltError

    from bot.slack.app import build_app

    try:
        app = build_app(settings, engine)
    except BoltError as exc:
        raise CliError(f"Slack refused the bot token: {_one_line(exc)}") from exc
    scheduler = _scheduler(settings, engine, app.client)
    scheduler.start()
    try:
        if settings.slack_app_token is not None:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            print("roasbot: connecting to Slack in Socket Mode", file=sys.stderr)
            SocketModeHandler(app, settings.slack_app_token.get_secret_value()).start()
            return 0
        from bot.slack.http import serve

        serve(app, engine, args.host, args.port)
        return 0
    finally:
        scheduler.shutdown()


def _scheduler(settings: Settings, engine: Engine, client):
    from bot.scheduler import Scheduler
    from bot.slack.scheduled import ScheduledWork

    return Scheduler(settings, engine, ScheduledWork(settings, engine, client))


def cmd_scheduler(args: argparse.Namespace) -> int:
    """The scheduler alone, for deployments that run it apart from the Slack app."""
    import signal
    import threading

    settings = _settings(args)
    if not settings.slack_bot_token:
        raise CliError("roasbot scheduler needs SLACK_BOT_TOKEN to post digests and alerts")
    engine = _store(settings)
    from bot.slack.app import build_client

    scheduler = _scheduler(settings, engine, build_client(settings))
    scheduler.start()
    print("roasbot scheduler running (Ctrl-C to stop)", file=sys.stderr)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    scheduler.shutdown()
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    """Build a weekly digest from the command line; post it with --channel, or --dry-run."""
    from insights.digest import build_digest, last_full_week, week_of

    settings = _settings(args)
    engine = _store(settings)
    try:
        start = week_of(args.week)[0] if args.week else last_full_week(queries.today(settings))[0]
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    try:
        digest = build_digest(
            engine,
            start,
            filters=args.filters or "",
            thresholds=queries.thresholds(settings),
            currency=settings.currency,
        )
    except QueryError as exc:
        raise CliError(str(exc)) from exc
    if args.dry_run or not args.channel:
        print(text.digest_text(digest, settings.currency))
        if digest.has_data:
            folder = Path(args.charts or settings.charts_dir)
            from insights.results import Answer

            trend = Answer(
                "trend",
                digest.filters,
                digest.trend[0].key and digest.start,
                digest.end,
                digest.totals,
                rows=digest.trend,
                by="week",
                title="Weekly trend",
            )
            _write_chart(trend, folder, settings)
            print(f"Chart: {trend.charts[0]}" if trend.charts else "")
        return 0
    from bot.slack.app import build_client
    from bot.slack.scheduled import ScheduledWork, Subscription

    sub = Subscription(0, args.channel, "mon", "09:00", settings.timezone, args.filters or "")
    work = ScheduledWork(settings, engine, build_client(settings))
    now = dt.datetime.combine(start + dt.timedelta(days=7), dt.time(9), dt.UTC)
    outcome = work.run_digest(sub, now, claim=False)
    print(f"digest {digest.week} to {args.channel}: {outcome}")
    return 0 if outcome == "posted" else 1


def cmd_shell(args: argparse.Namespace) -> int:
    """A console that answers commands as Slack would, for trying roasbot without Slack."""
    settings = _settings(args)
    engine = _store(settings)
    charts = Path(args.charts or settings.charts_dir)
    interactive = sys.stdin.isatty()
    if interactive:
        _enable_history()
        print(f"roasbot shell on {_safe_url(settings.database_url)} · charts go to {charts}/")
        print("Type /roas help for the commands, Ctrl-D to leave.")
    while True:
        try:
            line = input("roas> " if interactive else "")
        except EOFError:
            if interactive:
                print()
            return 0
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line in ("exit", "quit", "/exit", "/quit"):
            return 0
        try:
            result = queries.run(engine, line, settings)
            _write_chart(result, charts, settings)
            print(text.answer_text(result, settings.currency))
        except QueryError as exc:
            print(f"! {exc}")
        except SQLAlchemyError as exc:
            print(f"! {_one_line(exc)}")
        print()


def _enable_history() -> None:
    try:
        import atexit
        import readline
    except ImportError:  # not every Python has readline; the shell works without history
        return
    history = Path.home() / ".roasbot_history"
    with contextlib.suppress(OSError):
        readline.read_history_file(history)
    atexit.register(_save_history, readline, history)


def _save_history(readline, history: Path) -> None:
    with contextlib.suppress(OSError):
        readline.write_history_file(history)


# --- plumbing -------------------------------------------------------------------------------


class _ProgressBar:
    """A one-line progress bar on stderr, for loads long enough to wonder about."""

    def __init__(self) -> None:
        self._last = -1

    def __call__(self, name: str, done: int, total: int) -> None:
        percent = int(done * 100 / total) if total else 100
        if percent == self._last:
            return
        self._last = percent
        bar = "#" * (percent // 4) + "." * (25 - percent // 4)
        sys.stderr.write(f"\r{name[:30]:<30} [{bar}] {percent:3d}% of {total / 1048576:.1f} MB")
        sys.stderr.flush()

    def done(self) -> None:
        if self._last >= 0:
            sys.stderr.write("\n")


def _user() -> str | None:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def _jsonable(summary) -> dict:
    from dataclasses import asdict

    return json.loads(json.dumps(asdict(summary), default=str))


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
    up.set_defaults(func=cmd_db_upgrade)

    ingest = commands.add_parser(
        "ingest",
        help="load CSV/XLSX files (influencers, posts, tracking data, payouts)",
        description="Load files into the store. The kind of each file is detected from its "
        "header; rows that fail validation are reported with line numbers and written to a "
        "*.rejected.csv. Exits 1 when anything was rejected or refused.",
    )
    ingest.add_argument("paths", nargs="+", metavar="PATH")
    ingest.add_argument("--kind", choices=sorted(KINDS), help="skip detection: files are KIND")
    ingest.add_argument("--json", action="store_true", help="print the result as JSON")
    ingest.add_argument(
        "--rejects-dir", default=".", metavar="DIR", help="where *.rejected.csv go (default: .)"
    )
    ingest.set_defaults(func=cmd_ingest)

    ask = commands.add_parser(
        "ask",
        help='answer one command, e.g. roasbot ask "/roas brand=MuscleBlaze by=tier"',
        description="Answer one command of the query language (see `roasbot ask help`).",
    )
    ask.add_argument("text", metavar="TEXT", help="the command, leading slash optional")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--charts", metavar="DIR", help="write the answer's chart as PNG into DIR")
    ask.set_defaults(func=cmd_ask)

    run = commands.add_parser(
        "run",
        help="what `make run` starts: sample data if empty, then Slack or the console",
        description="Load sample data when the store is empty, print a summary, then run the "
        "Slack app when SLACK_* settings are present, or the console (roasbot shell) otherwise.",
    )
    _server_arguments(run)
    run.add_argument("--charts", metavar="DIR", help="where the console writes charts")
    run.set_defaults(func=cmd_run)

    serve = commands.add_parser(
        "serve",
        help="run the Slack app (Socket Mode with SLACK_APP_TOKEN, else HTTP)",
        description="Run the Slack app. With SLACK_APP_TOKEN it connects in Socket Mode (no "
        "public URL needed); otherwise it serves POST /slack/events and GET /healthz.",
    )
    _server_arguments(serve)
    serve.set_defaults(func=cmd_serve)

    sched = commands.add_parser(
        "scheduler", help="run the digest and alert scheduler alone (no Slack listener)"
    )
    sched.set_defaults(func=cmd_scheduler)

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
    digest.set_defaults(func=cmd_digest)

    shell = commands.add_parser(
        "shell",
        help="interactive console that answers the same commands as Slack",
        description="An interactive console (with history). Fed from a pipe it answers each "
        "line and exits at the end of input.",
    )
    shell.add_argument("--charts", metavar="DIR", help="where charts go (default: CHARTS_DIR)")
    shell.set_defaults(func=cmd_shell)

    status = commands.add_parser("status", help="what the store holds, and recent uploads")
    status.add_argument("--json", action="store_true", help="print as JSON")
    status.set_defaults(func=cmd_status)

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
    sample.add_argument("--load", action="store_true", help="load the data into the store")
    sample.add_argument(
        "--if-empty", action="store_true", help="with --load: only when the store has no data"
    )
    sample.set_defaults(func=cmd_sample_data)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except KeyboardInterrupt:
        print("roasbot: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line for the user; the traceback with --debug
        if args.debug:
            raise
        print(f"roasbot: error: {_one_line(exc)}", file=sys.stderr)
        return 1


def _one_line(exc: Exception) -> str:
    if isinstance(exc, CliError):
        return str(exc)
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        return f"setting {name}: {first['msg'].removeprefix('Value error, ')}"
    if isinstance(exc, SQLAlchemyError):
        orig = getattr(exc, "orig", None)
        detail = str(orig or exc).strip().splitlines()[0]
        return f"the data store failed: {detail}"
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())
