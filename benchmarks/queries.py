"""How fast the Slack commands answer on a year of data, next to one hand-written SQL query each.

    python -m benchmarks.queries [--influencers 2000 --days 365] [--keep] [--reuse-schema NAME]
                                 [--repeat 5]

A slash command has about 3 s before Slack shows the user an error, so the figure that matters
is the end-to-end time of `answer(engine, parse(text, today), Thresholds())` as the bot calls it:
parsing, the engine's several SQL round trips and its pandas work. Alone that number says little,
so each command also has one hand-written SQL statement (`benchmarks/sql/<name>.sql`) computing
the same figures with the same rules (docs/metrics.md): what the database itself can do.

1. generates the sample data (by default 2,000 influencers x 365 days: ~1.08 M tracking rows,
   ~150 k posts, ~28 k payouts; `--influencers 20000` makes ~10.9 M) and loads it with
   `ingest_files` into a fresh PostgreSQL schema, then ANALYZEs it (autovacuum would, a little
   later); or reuses a schema a `--keep` run (or `benchmarks.slack_load --keep`) left behind;
2. for `/roas`, `/roas by=brand`, `/underperformers` and `/personas`, each without a window and
   with `period=last_30d`, and for `/roas by=week period=last_90d` and `/roas trend` (today =
   the day after the data ends), times our path in this process (engine open, pool warm, one
   untimed warm-up run) and the SQL baseline through `psql -f` in a subprocess, minus the
   median time psql takes to run `select 1` (printed apart);
3. checks that both give the same totals (revenue, cost, ROAS and iROAS to 2 decimals) and the
   same top rows: the baseline is only a fair yardstick if it does the same work;
4. prints a table; exits 1 on a mismatch;
5. times `/roas period=last_30d` and `/roas period=last_30d by=brand` with the 90% interval
   (500 bootstrap draws, as answered) and without (0 draws), alternating run by run, and prints
   the ratio (issue 11's goal: at most 1.3x).

The machine is shared, so before each command is timed the script waits (up to 10 minutes,
polling every 10 s) for other benchmarks (`harness.py`, `benchmarks.ingest`) to finish, and says
so in the table when it had to time under load anyway. Other work (tests, builds) is not
waited for; the table's `load` column (1-minute load average) shows how busy the 2 cores were.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
SQL_DIR = Path(__file__).with_name("sql")
DEFAULT_PG = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
# Fixed data: the same rows on every run, so runs compare; "today" is the day after the data
# ends, whichever day a reused schema was made.
INFLUENCERS, DAYS, SEED = 2000, 365, 7
END_DATE = dt.date(2026, 11, 20)
OTHER_BENCHMARKS = "harness.py|benchmarks.ingest"
QUIET_WAIT_S, QUIET_POLL_S = 600, 10
SLOW_RATIO, SLOW_MS = 1.5, 2000.0
# Columns of every baseline's output row, in order (see the header of each .sql file).
SQL_COLUMNS = ("kind", "key", "label", "revenue", "orders", "cost", "roas", "iroas", "extra")
SEP = "\x1f"  # psql field separator: a character no name or label contains


@dataclass(frozen=True)
class Command:
    """One slash command as typed, and the baseline file that answers it."""

    text: str
    sql: str  # file name under benchmarks/sql/


COMMANDS = [
    Command(text, sql)
    for base, sql in (
        ("/roas", "roas.sql"),
        ("/roas by=brand", "roas_by_brand.sql"),
        ("/underperformers", "underperformers.sql"),
        ("/personas", "personas.sql"),
    )
    for text in (base, f"{base} period=last_30d")
] + [Command("/roas by=week period=last_90d", "roas_by_week.sql"),
     Command("/roas trend", "roas_by_week.sql")]  # fmt: skip


@dataclass
class Figures:
    """What both paths must agree on: the totals and the ranked rows (key -> figures)."""

    revenue: float
    cost: float
    roas: float | None
    iroas: float | None
    rows: list[tuple[str, float, float]]  # (key, revenue, cost), in the answer's order


@dataclass
class Timed:
    """One command's timings (ms) on both paths and whether their figures agree."""

    command: Command
    ours_ms: list[float]
    baseline_ms: list[float]
    problems: list[str] = field(default_factory=list)
    under_load: bool = False
    load_average: float = 0.0  # 1-minute load average when the timings ended

    @property
    def ratio(self) -> float:
        return statistics.median(self.ours_ms) / max(statistics.median(self.baseline_ms), 1e-9)


def main(argv: list[str] | None = None) -> int:
    """Load (or reuse) the data, time every command on both paths, print the table."""
    args = _parse_args(argv)
    if args.reuse_schema and not re.fullmatch(r"[a-z_][a-z0-9_]*", args.reuse_schema):
        raise SystemExit(f"not a schema name: {args.reuse_schema!r}")
    schema = args.reuse_schema or f"benchq_{uuid.uuid4().hex[:10]}"
    admin = create_engine(_sqlalchemy_url(args.pg_url))
    engine: Engine | None = None
    try:
        if args.reuse_schema:
            print(f"reusing schema {schema}")
        else:
            with admin.begin() as conn:
                conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
            print(f"created schema {schema}")
            load_sample(
                _sqlalchemy_url(args.pg_url, schema), args.influencers, args.days, args.end_date
            )
        print(_machine(admin))
        from storage.db import open_store

        started = time.perf_counter()
        engine = open_store(_sqlalchemy_url(args.pg_url, schema))
        print(f"store opened (upgraded if needed) in {time.perf_counter() - started:.1f} s")
        rows, last = _tracking_rows(engine)
        if rows == 0:
            raise SystemExit(f"schema {schema} holds no tracking rows")
        today = last + dt.timedelta(days=1)
        print(f"tracking rows: {rows:,}; today = {today}; {args.repeat} timed runs of ours, "
              f"{args.baseline_repeat} of the SQL")  # fmt: skip
        launch_under_load = _wait_for_quiet()
        launch = _time_psql_launch(args.pg_url, schema, args.repeat)
        print(
            f"psql launch (a trivial query), subtracted from every baseline: median "
            f"{statistics.median(launch):.0f} ms, min {min(launch):.0f} ms"
            f"{' (under load)' if launch_under_load else ''}"
        )
        results = [
            _measure(
                engine,
                args.pg_url,
                schema,
                c,
                (args.repeat, args.baseline_repeat),
                statistics.median(launch),
                today,
            )
            for c in COMMANDS
        ]
        _print_table(results)
        _print_interval_cost(engine, today, args.repeat)
        problems = [f"{r.command.text}: {p}" for r in results for p in r.problems]
        for problem in problems:
            print(f"MISMATCH {problem}", file=sys.stderr)
        return 1 if problems else 0
    finally:
        if engine is not None:
            engine.dispose()
        if args.keep:
            print(f"kept schema {schema}: add --reuse-schema {schema} --keep to skip the load")
        elif not schema.startswith("benchq_"):
            print(f"left schema {schema} alone: only benchq_* schemas are ever dropped")
        else:
            with admin.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            print(f"dropped schema {schema} (--keep keeps it for --reuse-schema)")
        admin.dispose()


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.queries",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the schema (new or reused) for --reuse-schema"
    )
    parser.add_argument(
        "--reuse-schema",
        metavar="NAME",
        help="time a schema a --keep run left; dropped at the end unless --keep",
    )
    parser.add_argument("--repeat", type=int, default=5, metavar="N", help="timed runs per path")
    parser.add_argument(
        "--baseline-repeat",
        type=int,
        metavar="N",
        help="timed runs of the hand-written SQL (default: --repeat; it takes a minute a run "
        "at 10 M rows)",
    )
    parser.add_argument(
        "--influencers", type=int, default=INFLUENCERS, metavar="N", help="size of new data"
    )
    parser.add_argument("--days", type=int, default=DAYS, metavar="N", help="days of new data")
    parser.add_argument(
        "--end-date",
        type=dt.date.fromisoformat,
        default=END_DATE,
        metavar="YYYY-MM-DD",
        help=f"last day of new data (default {END_DATE}; yesterday for benchmarks.slack_load)",
    )
    parser.add_argument(
        "--pg-url",
        default=DEFAULT_PG,
        help="libpq URL of the database (a schema of our own is made in it); env BENCH_PG_URL",
    )
    args = parser.parse_args(argv)
    if args.baseline_repeat is None:
        args.baseline_repeat = args.repeat
    if args.repeat < 1 or args.baseline_repeat < 1:
        parser.error("--repeat and --baseline-repeat must be at least 1")
    return args


def _sqlalchemy_url(pg_url: str, schema: str | None = None) -> str:
    """The libpq URL psql takes, as the SQLAlchemy URL `open_store` takes, scoped to `schema`."""
    url = make_url(pg_url).set(drivername="postgresql+psycopg2")
    if schema is not None:
        url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


# --- the data -------------------------------------------------------------------------------


def load_sample(url: str, influencers: int, days: int, end_date: dt.date) -> None:
    """Generate sample data of that size and load it the way `roasbot ingest` does into the
    (empty) store at `url`, then ANALYZE.

    ANALYZE because a freshly loaded table has no statistics until autovacuum gets to it, and
    plans made without them would time the planner's guesses, not the queries.
    """
    from sample_data.generator import generate
    from storage.db import open_store
    from storage.ingest import Options, Upload, ingest_files

    workdir = Path(tempfile.mkdtemp(prefix="roasbot-bench-"))
    try:
        started = time.perf_counter()
        paths = generate(workdir, influencers=influencers, days=days, end_date=end_date, seed=SEED)
        print(f"generated {influencers:,} influencers x {days} days in "
              f"{time.perf_counter() - started:.1f} s ({workdir})")  # fmt: skip
        engine = open_store(url)
        try:
            started = time.perf_counter()
            uploads = [Upload.from_path(p) for p in paths.values()]
            result = ingest_files(engine, uploads, options=Options(max_upload_mb=1 << 16))
            for f in result.files:
                if f.status != "loaded":
                    raise SystemExit(f"{f.filename} did not load: {f.message}")
            print(f"loaded in {time.perf_counter() - started:.1f} s")
            with engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        finally:
            engine.dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _tracking_rows(engine: Engine) -> tuple[int, dt.date]:
    """How many tracking rows the store holds, and the last day of data."""
    with engine.connect() as conn:
        rows, last = conn.exec_driver_sql("SELECT count(*), max(date) FROM tracking").one()
        return int(rows), last


def _machine(admin: Engine) -> str:
    """The facts a reader needs to weigh the figures: cores, memory, server, load, date."""
    with admin.connect() as conn:
        server = conn.exec_driver_sql("SHOW server_version").scalar_one()
        jit = conn.exec_driver_sql("SHOW jit").scalar_one()
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    client = subprocess.run(["psql", "-V"], capture_output=True, text=True).stdout.strip()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"machine: {os.cpu_count()} cores, {memory_gb:.0f} GB RAM, PostgreSQL {server} "
        f"(jit={jit}), {client}, load average {load}, {dt.datetime.now(dt.UTC):%Y-%m-%d}"
    )


# --- timing ---------------------------------------------------------------------------------


def _wait_for_quiet() -> bool:
    """Wait for other benchmarks on this shared machine; True if we gave up and time under load."""
    deadline = time.monotonic() + QUIET_WAIT_S
    announced = False
    while True:
        found = subprocess.run(
            ["pgrep", "-f", OTHER_BENCHMARKS], capture_output=True, text=True
        ).stdout.split()
        if not found:
            return False
        if time.monotonic() >= deadline:
            print(
                f"  still busy after {QUIET_WAIT_S} s (pids {' '.join(found)}): timing under load"
            )
            return True
        if not announced:
            print(f"  waiting for other benchmarks to finish (pids {' '.join(found)})...")
            announced = True
        time.sleep(QUIET_POLL_S)


def _measure(
    engine: Engine,
    pg_url: str,
    schema: str,
    command: Command,
    repeat: tuple[int, int],
    launch_ms: float,
    today: dt.date,
) -> Timed:
    """Warm up, then time both paths `repeat` (ours, SQL) times, and compare what they
    computed."""
    print(f"{command.text}:")
    under_load = _wait_for_quiet()
    ours = _ours(engine, command.text, today)
    run_sql = _baseline(pg_url, schema, command, today)
    ours_figures, baseline_figures = ours(), run_sql()  # warm-up runs, and what each computes
    ours_ms = _timed(ours, repeat[0])
    baseline_ms = [ms - launch_ms for ms in _timed(run_sql, repeat[1])]
    under_load = under_load or bool(
        subprocess.run(["pgrep", "-f", OTHER_BENCHMARKS], capture_output=True).stdout
    )
    problems = _compare(ours_figures, baseline_figures)
    print(
        f"  ours {statistics.median(ours_ms):.0f} ms, baseline {statistics.median(baseline_ms):.0f}"
        f" ms, {'OK' if not problems else 'MISMATCH'}"
    )
    return Timed(command, ours_ms, baseline_ms, problems, under_load, os.getloadavg()[0])


def _timed(run: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return times


def _ours(engine: Engine, text: str, today: dt.date) -> Callable[[], Figures]:
    """Our path exactly as the Slack app calls it; the Answer is reduced to Figures afterwards
    only for the check (outside the timed call, which is `answer` itself)."""
    from insights.engine import Thresholds, answer
    from insights.query import parse

    def run() -> Figures:
        result = answer(engine, parse(text, today), Thresholds())
        t = result.totals
        rows = [(r.key, r.revenue, r.cost) for r in result.rows]
        return Figures(t.revenue, t.cost, t.roas, t.incremental_roas, rows)

    return run


def _print_interval_cost(engine: Engine, today: dt.date, repeat: int) -> None:
    """What the interval adds to an answer: the same answer with and without its draws, run in
    turns so that both see the same load."""
    from insights.engine import Thresholds, answer
    from insights.incremental import Baseline
    from insights.query import parse

    for text in ("/roas period=last_30d", "/roas period=last_30d by=brand"):
        query = parse(text, today)
        variants = {"with": Thresholds(), "without": Thresholds(baseline=Baseline(draws=0))}
        times: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(repeat):
            for name, th in variants.items():
                times[name] += _timed(lambda q=query, th=th: answer(engine, q, th), 1)
        with_, without = (statistics.median(times[n]) for n in ("with", "without"))
        print(f"{text}: with the interval {with_:.0f} ms, without {without:.0f} ms: "
              f"{with_ / without:.2f}x (goal at most 1.3x)")  # fmt: skip


def _variables(text: str, today: dt.date) -> list[str]:
    """What the baseline gets as psql variables: the parser's window ('' when open) and how
    many rows the answer shows (a trend shows every week)."""
    from insights.query import parse

    query = parse(text, today)
    window = query.window
    top = 10**6 if query.command == "trend" else query.top
    values = {
        "from": window.start.isoformat() if window.start else "",
        "to": window.end.isoformat() if window.end else "",
        "top": str(top),
    }
    return [arg for name, value in values.items() for arg in ("-v", f"{name}={value}")]


def _psql(pg_url: str, schema: str, *args: str) -> str:
    env = {**os.environ, "PGOPTIONS": f"-c search_path={schema}"}
    command = ["psql", "-X", "-q", "-A", "-t", "-F", SEP, "-v", "ON_ERROR_STOP=1", *args, pg_url]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"psql {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def _baseline(pg_url: str, schema: str, command: Command, today: dt.date) -> Callable[[], Figures]:
    """The hand-written query through psql, window dates as psql variables."""
    variables = _variables(command.text, today)
    path = SQL_DIR / command.sql

    def run() -> Figures:
        out = _psql(pg_url, schema, *variables, "-f", str(path))
        return _parse_baseline(out)

    return run


def _time_psql_launch(pg_url: str, schema: str, repeat: int) -> list[float]:
    """What starting psql and connecting costs, so the baseline times the query, not psql."""
    _psql(pg_url, schema, "-c", "select 1")
    return _timed(lambda: _psql(pg_url, schema, "-c", "select 1"), max(repeat, 5))


def _parse_baseline(out: str) -> Figures:
    rows = [dict(zip(SQL_COLUMNS, line.split(SEP), strict=True)) for line in out.splitlines()]
    total = next(r for r in rows if r["kind"] == "total")
    return Figures(
        revenue=_num(total["revenue"]) or 0.0,
        cost=_num(total["cost"]) or 0.0,
        roas=_num(total["roas"]),
        iroas=_num(total["iroas"]),
        rows=[
            (r["key"], _num(r["revenue"]) or 0.0, _num(r["cost"]) or 0.0)
            for r in rows
            if r["kind"] == "row"
        ],
    )


def _num(value: str) -> float | None:
    return float(value) if value != "" else None


# --- checking and reporting -----------------------------------------------------------------


def _same(a: float | None, b: float | None, places: int = 2) -> bool:
    """Equal to `places` decimals. The baseline prints its figures rounded, and float sums in
    another order differ in the last bits (relatively ~1e-15: at 1.2 billion of cost a
    few millionths), so a value within half a unit of the last place of the other, give or take
    that relative noise, counts as equal (1239671067.8749962 and a printed .88 are the same
    .875 boundary)."""
    if a is None or b is None:
        return a is None and b is None
    noise = 1e-12 * max(abs(a), abs(b))
    return round(a, places) == round(b, places) or abs(a - b) <= 0.5 * 10**-places + noise


def _compare(ours: Figures, baseline: Figures) -> list[str]:
    """Every difference between the two answers, as lines for the report."""
    problems = [
        f"{name}: ours {a} vs baseline {b}"
        for name, a, b in (
            ("revenue", ours.revenue, baseline.revenue),
            ("cost", ours.cost, baseline.cost),
            ("ROAS", ours.roas, baseline.roas),
            ("iROAS", ours.iroas, baseline.iroas),
        )
        if not _same(a, b)
    ]
    our_keys = [key for key, _, _ in ours.rows]
    their_keys = [key for key, _, _ in baseline.rows]
    if our_keys != their_keys:
        problems.append(f"rows: ours {our_keys} vs baseline {their_keys}")
    for (key, rev_a, cost_a), (_, rev_b, cost_b) in zip(ours.rows, baseline.rows, strict=False):
        if not (_same(rev_a, rev_b) and _same(cost_a, cost_b)):
            problems.append(f"row {key}: ours {rev_a}/{cost_a} vs baseline {rev_b}/{cost_b}")
    return problems


def _print_table(results: list[Timed]) -> None:
    print()
    print(
        f"{'command':<32} {'ours ms (med/min)':>19} {'baseline ms (med/min)':>22} "
        f"{'ratio':>7} {'load':>5}  check"
    )
    for r in results:
        flags = []
        if r.ratio > SLOW_RATIO:
            flags.append(f">{SLOW_RATIO:g}x")
        if statistics.median(r.ours_ms) > SLOW_MS:
            flags.append(f">{SLOW_MS / 1000:g} s")
        if r.under_load:
            flags.append("under load")
        print(
            f"{r.command.text:<32} {_med_min(r.ours_ms):>19} {_med_min(r.baseline_ms):>22} "
            f"{r.ratio:>6.1f}x {r.load_average:>5.1f}  {'OK' if not r.problems else 'MISMATCH'}"
            f"{'  (' + ', '.join(flags) + ')' if flags else ''}"
        )


def _med_min(values: list[float]) -> str:
    return f"{statistics.median(values):.0f} / {min(values):.0f}"


if __name__ == "__main__":
    sys.exit(main())
