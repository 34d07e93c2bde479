"""The sub-commands of `roasbot`: each reads settings, asks the service, prints through
`bot.text`, and returns the exit code."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import signal
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path

from bot import text
from bot.cli import context
from bot.cli.console import Console, ConsolePoster, enable_history
from bot.cli.context import CliError, safe_url
from bot.service import LoadProgress, Question, Service, local_today
from bot.settings import Settings
from insights.query import QueryError
from storage.db import create_store_engine, current_revision, upgrade


def db_upgrade(args: argparse.Namespace) -> int:
    settings = context.settings_of(args)
    engine = create_store_engine(settings.database_url)
    state = "upgraded to" if upgrade(engine) else "already at"
    print(f"{safe_url(settings.database_url)}: {state} {current_revision(engine)}")
    return 0


def status(args: argparse.Namespace) -> int:
    settings = context.settings_of(args)
    engine = context.store(settings)
    summary = context.service(settings, engine).summary()
    url = safe_url(settings.database_url)
    if args.json:
        print(json.dumps({"store": url, **json.loads(json.dumps(asdict(summary), default=str))}))
    else:
        print(text.store_summary(summary, url, current_revision(engine)))
    return 0


def ingest(args: argparse.Namespace) -> int:
    settings = context.settings_of(args)
    missing = [p for p in args.paths if not Path(p).is_file()]
    if missing:
        raise CliError(f"no such file: {missing[0]}")
    service = context.service(settings, context.store(settings))
    progress = _ProgressBar() if sys.stderr.isatty() and not args.json else None
    loaded = service.load_paths(args.paths, context.user(), kind=args.kind, on_progress=progress)
    if progress:
        progress.done()
    written = _write_rejects(loaded.result.files, Path(args.rejects_dir))
    if args.json:
        payload = loaded.result.to_dict()
        payload["rejected_files"] = written
        print(json.dumps(payload, default=str))
    else:
        for f in loaded.result.files:
            print(text.file_result(f))
        for path in written.values():
            print(f"rejected rows written to {path}")
        if loaded.changed:
            print(loaded.changed)
    return 0 if loaded.result.ok else 1


def _write_rejects(files, folder: Path) -> dict[str, str]:
    """Each sheet's rejected rows as NAME[.SHEET].rejected.csv in `folder`."""
    written: dict[str, str] = {}
    for f in files:
        for sheet in f.sheets:
            if sheet.rejected_csv:
                stem = Path(f.filename).stem + (f".{sheet.sheet}" if sheet.sheet else "")
                target = folder / f"{stem}.rejected.csv"
                folder.mkdir(parents=True, exist_ok=True)
                target.write_bytes(sheet.rejected_csv)
                written[f"{f.filename}:{sheet.sheet or ''}"] = str(target)
    return written


def sample_data(args: argparse.Namespace) -> int:
    settings = context.settings_of(args)
    service = context.service(settings, context.store(settings)) if args.load else None
    if service is not None and args.if_empty and not service.summary().is_empty:
        print("The store already has data; sample data not loaded (--if-empty).")
        return 0
    end = args.end_date or _yesterday(settings)
    out = Path(args.out) if args.out else None
    extra = {"id_prefix": args.extend, "attributed_only": True} if args.extend else {}
    ok = _sample_data(service, out, args.influencers, args.days, end, args.seed, **extra)
    return 0 if ok else 1


def _yesterday(settings: Settings) -> dt.date:
    return local_today(settings.timezone) - dt.timedelta(days=1)


def _sample_data(
    service: Service | None,
    out: Path | None,
    influencers: int,
    days: int,
    end: dt.date,
    seed: int,
    **extra: object,
) -> bool:
    """Generate sample data into `out` (or a temp dir) and load it when given a service."""
    from sample_data.generator import generate

    with tempfile.TemporaryDirectory() as tmp:
        paths = generate(
            out or Path(tmp), influencers=influencers, days=days, end_date=end, seed=seed,
            **extra,
        )  # fmt: skip
        if out:
            print(f"wrote {', '.join(str(p) for p in paths.values())}")
        if service is None:
            return True
        loaded = service.load_paths([str(p) for p in paths.values()], context.user())
        for f in loaded.result.files:
            print(text.file_result(f))
        return loaded.result.ok


def run(args: argparse.Namespace) -> int:
    """What `make run` starts: sample data if the store is empty, then Slack or the console."""
    settings = context.settings_of(args)
    engine = context.store(settings)
    service = context.service(settings, engine)
    if service.summary().is_empty:
        print("The store is empty: loading 90 days of sample data ending yesterday.")
        _sample_data(service, None, 60, 90, _yesterday(settings), 7)
    url = safe_url(settings.database_url)
    print(text.store_summary(service.summary(), url, current_revision(engine)))
    missing = settings.missing_slack_settings()
    if not missing:
        return serve(args)
    print(
        f"\nSlack is not set up ({' and '.join(missing)} missing in .env or the environment):"
        " opening the console instead. See README: Connect to Slack.\n"
    )
    return shell(args)


def ask(args: argparse.Namespace) -> int:
    settings = context.settings_of(args)
    service = _console_service(settings, context.store(settings), args.charts)
    console = Console(service, _charts(args, settings))
    try:
        reply = service.run(args.text, service.console_caller())
        if not args.json:
            output = console.render(reply)
        elif isinstance(reply, Question):
            prepared = service.prepared(reply.query)
            if args.charts:
                context.write_chart(prepared.answer, prepared.chart, Path(args.charts))
            data = prepared.answer.to_dict()
            if reply.understood is not None:
                data["understood"] = reply.understood.echo
            output = json.dumps(data, ensure_ascii=False)
        else:
            name = args.text.split()[0].lstrip("/") if args.text.split() else "help"
            output = json.dumps({"command": name, "text": console.render(reply)},
                                ensure_ascii=False)  # fmt: skip
    except QueryError as exc:  # a question that cannot be answered: exit status 2
        print(f"roasbot: {exc}", file=sys.stderr)
        return 2
    print(output)
    return 0


def _charts(args: argparse.Namespace, settings: Settings) -> Path:
    return Path(getattr(args, "charts", None) or settings.charts_dir)


def _console_service(settings: Settings, engine, charts: str | None) -> Service:
    """The service with the console as its transport (digests and alerts print)."""
    folder = Path(charts or settings.charts_dir)
    return context.service(settings, engine, ConsolePoster(settings, folder))


def shell(args: argparse.Namespace) -> int:
    """A console that answers commands as Slack would, for trying roasbot without Slack."""
    settings = context.settings_of(args)
    charts = _charts(args, settings)
    service = _console_service(settings, context.store(settings), str(charts))
    interactive = sys.stdin.isatty()
    if interactive:
        enable_history()
        print(f"roasbot shell on {safe_url(settings.database_url)} · charts go to {charts}/")
        print("Type /roas help for the commands, Ctrl-D to leave.")
    return Console(service, charts).loop(interactive)


def serve(args: argparse.Namespace) -> int:
    """Run the Slack app: Socket Mode with SLACK_APP_TOKEN, else HTTP mode on --host:--port."""
    settings = context.settings_of(args)
    missing = settings.missing_slack_settings()
    if missing:
        print(
            f"roasbot serve needs {' and '.join(missing)} (see README: Connect to Slack). "
            "Without Slack, try `roasbot shell`.",
            file=sys.stderr,
        )
        return 2
    engine = context.store(settings)
    from bot.slack.app import build_app, build_client, build_service, run_slack

    client = build_client(settings)
    service = build_service(settings, engine, client)
    app = build_app(settings, engine, client, service)
    scheduler = _scheduler(settings, service)
    scheduler.start()
    try:
        run_slack(app, settings, engine, args.host, args.port)
    finally:
        scheduler.shutdown()
    return 0


def _scheduler(settings: Settings, service: Service):
    from bot.scheduler import Scheduler

    assert service.notifications is not None
    return Scheduler(settings, service.notifications)


def scheduler(args: argparse.Namespace) -> int:
    """The scheduler alone, for deployments that run it apart from the Slack app."""
    settings = context.settings_of(args)
    if not settings.slack_bot_token:
        raise CliError("roasbot scheduler needs SLACK_BOT_TOKEN to post digests and alerts")
    engine = context.store(settings)
    from bot.slack.app import build_client, build_service

    running = _scheduler(settings, build_service(settings, engine, build_client(settings)))
    running.start()
    print("roasbot scheduler running (Ctrl-C to stop)", file=sys.stderr)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    running.shutdown()
    return 0


def digest(args: argparse.Namespace) -> int:
    """Build a weekly digest from the command line; post it with --channel, or --dry-run."""
    settings = context.settings_of(args)
    engine = context.store(settings)
    if args.dry_run or not args.channel:
        service = _console_service(settings, engine, args.charts)
        built = service.digest_of(args.week, args.filters or "")
        assert service.notifications is not None
        service.notifications.poster.digest("console", built)
        return 0
    from bot.slack.app import build_client, build_service

    service = build_service(settings, engine, build_client(settings))
    built = service.digest_of(args.week, args.filters or "")
    assert service.notifications is not None
    outcome, _ = service.notifications.deliver(args.channel, built)
    print(f"digest {built.week} to {args.channel}: {outcome}")
    return 0 if outcome == "posted" else 1


class _ProgressBar:
    """One line on stderr, redrawn with rows done, percent and time left, for loads long enough
    to wonder about (at most a few times a second)."""

    def __init__(self) -> None:
        self._shown = False
        self._last = 0.0

    def __call__(self, progress: LoadProgress) -> None:
        now = time.monotonic()
        if now - self._last < 0.25 and progress.fraction < 1:
            return
        self._last, self._shown = now, True
        sys.stderr.write(f"\r{progress.filename[:30]:<30} {progress.describe():<45}")
        sys.stderr.flush()

    def done(self) -> None:
        if self._shown:
            sys.stderr.write("\n")
