"""The query language shared by Slack, the console and the CLI.

    /roas brand=MuscleBlaze platform=Instagram from=2025-01-01 to=2025-03-31 by=influencer

Parsing is pure: text (and today's date) in, a `Query` out, or a `QueryError` whose message says
what was wrong and what would be right. Matching filter values against what the store holds is a
separate step (`insights.resolve`), because only it can say "did you mean MuscleBlaze?".
"""

from __future__ import annotations

import datetime as dt
import difflib
import shlex
from dataclasses import dataclass, field, replace

from insights.catalogue import BREAKDOWNS as BREAKDOWN_SPECS
from insights.catalogue import COMMAND, EXPLAINABLE, QUERY_COMMANDS, TIERS, TIME_BREAKDOWNS
from insights.catalogue import COMMANDS as COMMAND_SPECS

COMMANDS = (*QUERY_COMMANDS, "help")  # what `parse` reads; digests and alerts are not queries
FILTER_KEYS = (
    "brand",
    "product",
    "campaign",
    "platform",
    "category",
    "gender",
    "tier",
    "influencer",
)
BREAKDOWNS = tuple(b.name for b in BREAKDOWN_SPECS)
PERSONA_ATTRIBUTES = ("tier", "category", "gender", "platform")
PERIODS = (
    "last_7d", "last_30d", "last_90d", "this_week", "last_week", "this_month", "last_month",
    "qtd", "ytd",
)  # fmt: skip
OPTION_KEYS = (
    "from", "to", "period", "by", "top", "threshold", "min_spend", "min_influencers", "vs",
    "metric", "move", "control",
)  # fmt: skip
KEYS = FILTER_KEYS + OPTION_KEYS
EVERY_ROW = 1_000_000  # `top=` for internal callers that need every row of a breakdown
COMPARISONS = ("previous", "last_year")  # `vs=` keywords; FROM..TO names dates
SEGMENT_BREAKDOWNS = tuple(b.name for b in BREAKDOWN_SPECS if b.name not in TIME_BREAKDOWNS)
# Options of some commands only: `vs=` sets what an answer's changes are against.
_ONLY = {"vs": ("roas", "why"), "metric": ("why",), "move": ("whatif",)}


class QueryError(ValueError):
    """A query that cannot run; the message is written for the person who typed it."""


@dataclass(frozen=True)
class Window:
    """An inclusive date range; None at either end means "from the first/to the last data"."""

    start: dt.date | None = None
    end: dt.date | None = None

    @property
    def days(self) -> int | None:
        if self.start is None or self.end is None:
            return None
        return (self.end - self.start).days + 1

    def previous(self) -> Window:
        """The window of equal length right before this one (for deltas and baselines)."""
        if self.start is None or self.days is None:
            raise ValueError("an open window has no previous window")
        end = self.start - dt.timedelta(days=1)
        return Window(end - dt.timedelta(days=self.days - 1), end)


@dataclass(frozen=True)
class Segment:
    """One row of a breakdown, as `whatif` names it: `persona:"macro · Fitness"`."""

    by: str
    value: str

    def __str__(self) -> str:
        return f"{self.by}:{_quoted(self.value)}"


@dataclass(frozen=True)
class Query:
    command: str = "roas"
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    window: Window = field(default_factory=Window)
    period: str | None = None
    by: tuple[str, ...] = ("influencer",)
    top: int = 10
    threshold: float | None = None
    min_spend: float | None = None
    min_influencers: int | None = None
    subject: str | None = None  # the influencer id or name for `influencer`
    vs: str | None = None  # `why`: previous, last_year or "YYYY-MM-DD..YYYY-MM-DD"
    metric: str | None = None  # `why`: the catalogue metric whose change is split
    move: float | None = None  # `whatif`: the spend moved from `source` to `destination`
    source: Segment | None = None
    destination: Segment | None = None
    control: str | None = None  # a brand or product whose revenue is the baseline (iROAS)

    def with_changes(self, **changes) -> Query:
        return replace(self, **changes)


def parse(text: str, today: dt.date) -> Query:
    """Parse one command line; `today` is the date in the team's time zone."""
    try:
        words = _words(text)
    except ValueError as exc:
        raise QueryError(f"could not read the command: {exc} (check the quotes)") from exc
    words = _command_words(words)
    command = "roas"
    if words and "=" not in words[0]:
        command = _command(words.pop(0))
        if command == "roas" and words and "=" not in words[0] and words[0].lower() in COMMANDS:
            command = _command(words.pop(0))  # "/roas underperformers ..."
    subject_words: list[str] = []
    pairs: list[tuple[str, str]] = []
    for word in words:
        key, sep, value = word.partition("=")
        if not sep:
            if command == "influencer":
                subject_words.append(word)
                continue
            raise QueryError(
                f"I don't understand '{word}': write filters as key=value, e.g. brand=MuscleBlaze"
            )
        pairs.append((_key(key), value.strip()))
    query = _build(command, pairs, today)
    if command == "influencer":
        subject = " ".join(subject_words) or ",".join(query.filters.get("influencer", ()))
        if not subject:
            raise QueryError("which influencer? e.g. `/roas influencer INF0007` or a name")
        query = query.with_changes(subject=subject)
    return query


def _words(text: str) -> list[str]:
    """Split on spaces; only double quotes (straight or curly) group words.

    Apostrophes are text, not quotes: people filter on "Women's Health" and L'Oreal.
    """
    lexer = shlex.shlex(text.strip().replace("“", '"').replace("”", '"'), posix=True)
    lexer.whitespace_split = True
    lexer.quotes = '"'
    lexer.escape = ""
    lexer.commenters = ""
    return list(lexer)


def _command_words(words: list[str]) -> list[str]:
    if words and words[0].startswith("/"):
        words[0] = words[0][1:]
    return words


def _command(word: str) -> str:
    name = word.lower()
    if name in COMMANDS:
        return name
    hint = _closest(name, COMMANDS)
    raise QueryError(f"no command '{word}'{hint}\nCommands: {', '.join(COMMANDS)}")


def _key(raw: str) -> str:
    key = raw.strip().lower()
    if key in KEYS:
        return key
    raise QueryError(f"no filter '{raw}'{_closest(key, KEYS)}\nKeys: {', '.join(KEYS)}")


def _closest(word: str, choices) -> str:
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" — did you mean {match[0]}?" if match else ""


def _build(command: str, pairs: list[tuple[str, str]], today: dt.date) -> Query:
    filters: dict[str, tuple[str, ...]] = {}
    options: dict = {}
    seen: set[str] = set()
    for key, value in pairs:
        if key in seen:
            raise QueryError(f"{key}= is given twice; list several values as {key}=a,b")
        seen.add(key)
        if not value:
            raise QueryError(f"{key}= needs a value")
        if key in _ONLY and command not in _ONLY[key]:
            owners = " and ".join(f"`/roas {c}`".replace("roas roas", "roas") for c in _ONLY[key])
            raise QueryError(f"{key}= belongs to {owners}")
        if command == "whatif" and key in ("from", "to"):
            options["source" if key == "from" else "destination"] = _segment(key, value)
        elif key in FILTER_KEYS:
            filters[key] = _filter_values(key, value)
        elif key in ("from", "to"):
            options[key] = _iso_date(key, value)
        elif key == "period":
            options["period"] = _period(value)
        elif key == "by":
            options["by"] = _by(command, value)
        elif key in ("top", "min_influencers"):
            options[key] = _whole(key, value)
        elif key == "vs":
            options["vs"] = _comparison(value)
        elif key == "metric":
            options["metric"] = _explainable(value)
        elif key == "control":
            options["control"] = value.strip()
        else:
            options[key] = _number(key, value)
    if "period" in options and ("from" in options or "to" in options):
        raise QueryError("use either period= or from=/to=, not both")
    window = Window(options.get("from"), options.get("to"))
    default_period = COMMAND[command].default_period if command in COMMAND else None
    if not ({"period", "from", "to"} & set(options)) and default_period:
        options["period"] = default_period
    if "period" in options:
        window = period_window(options["period"], today)
    if command == "whatif":
        _whatif_options(options)
    if window.start and window.end and window.start > window.end:
        raise QueryError(f"from={window.start} is after to={window.end}")
    default_by = _default_by(command)
    return Query(
        command=command,
        filters=filters,
        window=window,
        period=options.get("period"),
        by=options.get("by", default_by),
        top=options.get("top", 10),
        threshold=options.get("threshold"),
        min_spend=options.get("min_spend"),
        min_influencers=options.get("min_influencers"),
        vs=options.get("vs"),
        metric=options.get("metric"),
        move=options.get("move"),
        source=options.get("source"),
        destination=options.get("destination"),
        control=options.get("control"),
    )


def _comparison(value: str) -> str:
    """`vs=`: previous, last_year, or FROM..TO (two ISO dates)."""
    word = value.strip().lower()
    if word in COMPARISONS:
        return word
    start, sep, end = word.partition("..")
    if not sep:
        raise QueryError(
            f"vs={value}: write vs=previous, vs=last_year or vs=2025-01-01..2025-01-31"
            f"{_closest(word, COMPARISONS)}"
        )
    first, last = _iso_date("vs", start), _iso_date("vs", end)
    if first > last:
        raise QueryError(f"vs={value}: {first} is after {last}")
    return f"{first.isoformat()}..{last.isoformat()}"


def comparison_window(vs: str | None, window: Window) -> Window:
    """The window `why` compares `window` (as answered) with: the one of equal length before
    it, the same dates a year earlier (29 Feb: the 28th), or the dates `vs` names."""
    if vs is None or vs == "previous":
        return window.previous()
    if vs == "last_year":
        if window.start is None or window.end is None:
            raise ValueError("an open window has no last year")
        return Window(_year_before(window.start), _year_before(window.end))
    start, _, end = vs.partition("..")
    return Window(dt.date.fromisoformat(start), dt.date.fromisoformat(end))


def _year_before(day: dt.date) -> dt.date:
    return day.replace(year=day.year - 1, day=min(day.day, 28) if day.month == 2 else day.day)


def _explainable(value: str) -> str:
    name = value.strip().lower()
    if name not in EXPLAINABLE:
        raise QueryError(
            f"no metric '{value}' to explain{_closest(name, EXPLAINABLE)}\n"
            f"metric= takes {', '.join(EXPLAINABLE)}"
        )
    return name


def _segment(key: str, value: str) -> Segment:
    by, sep, name = value.partition(":")
    by = by.strip().lower()
    if not sep or not name.strip():
        raise QueryError(f'{key}= takes BY:VALUE, e.g. {key}=persona:"macro · Fitness"')
    if by not in SEGMENT_BREAKDOWNS:
        raise QueryError(
            f"{key}={value}: no breakdown '{by}'{_closest(by, SEGMENT_BREAKDOWNS)}\n"
            f"Segments are {', '.join(SEGMENT_BREAKDOWNS)}"
        )
    return Segment(by, name.strip())


def _whatif_options(options: dict) -> None:
    missing = [k for k, o in (("move", "move"), ("from", "source"), ("to", "destination"))
               if o not in options]  # fmt: skip
    if missing:
        raise QueryError(
            f"whatif needs {'= '.join(missing)}=: e.g. `/roas whatif move=200000 "
            'from=persona:"macro · Fitness" to=persona:"micro · Nutrition"`'
        )
    if options["move"] <= 0:
        raise QueryError("move= takes an amount above 0")
    if options["source"] == options["destination"]:
        raise QueryError("from= and to= name the same segment")


def _filter_values(key: str, value: str) -> tuple[str, ...]:
    values = tuple(v.strip() for v in value.split(",") if v.strip())
    return tuple(_tier(v) for v in values) if key == "tier" else values


def parse_filters(text: str, owner: str = "this") -> dict[str, tuple[str, ...]]:
    """Filter text as stored with a digest subscription or an alert rule
    (`brand=MuscleBlaze platform=Instagram`) as a query's filters; anything else is a
    QueryError naming `owner`. Read once where the text enters, so that internal queries are
    built typed rather than written as text and parsed back."""
    try:
        words = _words(text)
    except ValueError as exc:
        raise QueryError(f"could not read the filters: {exc} (check the quotes)") from exc
    pairs = []
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or key.strip().lower() not in FILTER_KEYS:
            raise QueryError(
                f"{owner} takes only filters ({' '.join(f'{k}=' for k in FILTER_KEYS)}), "
                f"not '{text}'"
            )
        pairs.append((key.strip().lower(), value.strip()))
    return _build("roas", pairs, dt.date.min).filters


def _default_by(command: str) -> tuple[str, ...]:
    spec = COMMAND.get(command)
    return spec.default_by if spec is not None else ("influencer",)


def _tier(value: str) -> str:
    tier = value.lower()
    if tier not in TIERS:
        raise QueryError(f"no tier '{value}'{_closest(tier, TIERS)}\nTiers: {', '.join(TIERS)}")
    return tier


def _iso_date(key: str, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise QueryError(f"{key}={value} is not a date: use YYYY-MM-DD, e.g. 2025-03-31") from exc


def _period(value: str) -> str:
    period = value.lower()
    if ".." in period:  # FROM..TO: dates where from=/to= are taken (whatif's segments)
        start, _, end = period.partition("..")
        first, last = _iso_date("period", start), _iso_date("period", end)
        return f"{first.isoformat()}..{last.isoformat()}"
    if period not in PERIODS:
        raise QueryError(
            f"no period '{value}'{_closest(period, PERIODS)}\nPeriods: {', '.join(PERIODS)}"
        )
    return period


def _by(command: str, value: str) -> tuple[str, ...]:
    parts = tuple(p.strip().lower() for p in value.split(",") if p.strip())
    allowed = PERSONA_ATTRIBUTES if command == "personas" else BREAKDOWNS
    for part in parts:
        if part not in allowed:
            raise QueryError(
                f"can't break down by '{part}'{_closest(part, allowed)}\n"
                f"by= takes {', '.join(allowed)}"
            )
    if command != "personas" and len(parts) != 1:
        raise QueryError("by= takes one breakdown here, e.g. by=brand")
    return parts


def _whole(key: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise QueryError(f"{key}={value} is not a whole number") from exc
    if number < 1:
        raise QueryError(f"{key}= must be at least 1")
    return number


def _number(key: str, value: str) -> float:
    cleaned = value.replace(",", "").replace("₹", "").removesuffix("x")
    try:
        number = float(cleaned)
    except ValueError as exc:
        raise QueryError(f"{key}={value} is not a number") from exc
    if number < 0:
        raise QueryError(f"{key}= cannot be negative")
    return number


def period_window(period: str, today: dt.date) -> Window:
    """The dates a period keyword covers, counted in the team's time zone.

    `last_Nd` is the N full days ending yesterday: today is not over, and a partial day makes
    every comparison look like a drop. The calendar periods run to today; FROM..TO is its dates.
    """
    if ".." in period:
        start, _, end = period.partition("..")
        return Window(dt.date.fromisoformat(start), dt.date.fromisoformat(end))
    if period.startswith("last_") and period.endswith("d"):
        days = int(period[5:-1])
        end = today - dt.timedelta(days=1)
        return Window(end - dt.timedelta(days=days - 1), end)
    monday = today - dt.timedelta(days=today.weekday())
    first_of_month = today.replace(day=1)
    if period == "this_week":
        return Window(monday, today)
    if period == "last_week":
        return Window(monday - dt.timedelta(days=7), monday - dt.timedelta(days=1))
    if period == "this_month":
        return Window(first_of_month, today)
    if period == "last_month":
        end = first_of_month - dt.timedelta(days=1)
        return Window(end.replace(day=1), end)
    if period == "qtd":
        return Window(today.replace(month=3 * ((today.month - 1) // 3) + 1, day=1), today)
    if period == "ytd":
        return Window(today.replace(month=1, day=1), today)
    raise QueryError(f"no period '{period}'")


def _help() -> str:
    """The help text, from the catalogue's commands and this module's keys."""
    width = max(len(c.usage) for c in COMMAND_SPECS) + 2
    lines = ["Commands (the leading slash is optional; /roas SUBCOMMAND works too):"]
    lines += [f"  {c.usage:<{width}}{c.help}" for c in COMMAND_SPECS]
    return "\n".join([
        *lines,
        f"Filters: {' '.join(f'{k}=' for k in FILTER_KEYS)}",
        '  several values comma-separated (brand=MuscleBlaze,Gritzo); quote spaces '
        '(brand="HK Vitals")',
        "Window: from=YYYY-MM-DD to=YYYY-MM-DD, or period= " + " ".join(PERIODS[:4]),
        f"  {' '.join(PERIODS[4:])} FROM..TO (no window: all data)",
        f"Options: by= {' '.join(BREAKDOWNS)}",
        "  top=N  threshold=ROAS  min_spend=AMOUNT  min_influencers=N",
        "  control=BRAND|PRODUCT: its revenue, not the weekday means, is iROAS's baseline",
        "  why: vs=previous|last_year|FROM..TO  metric= " + " ".join(EXPLAINABLE),
        f"  whatif: move=AMOUNT from=BY:VALUE to=BY:VALUE (BY: {' '.join(SEGMENT_BREAKDOWNS)})",
        "Example: /roas brand=MuscleBlaze platform=Instagram period=last_30d by=tier",
        "Or ask in words (also @roasbot, a DM, a reply in an answer's thread):",
        "  /roas how did MuscleBlaze do on Instagram since Diwali vs last year",
    ])  # fmt: skip


HELP = _help()


def to_text(query: Query) -> str:
    """The command line that parses back to `query` (buttons re-run a query with a change)."""
    words = [query.command]
    if query.command == "influencer" and query.subject:
        words.append(_quoted(query.subject))
    for key in FILTER_KEYS:
        if key in query.filters and not (query.command == "influencer" and key == "influencer"):
            words.append(f"{key}={_quoted(','.join(query.filters[key]))}")
    if query.command == "whatif" and query.move is not None:
        words.append(f"move={query.move:.15g}")
        words += [f"{k}={s}" for k, s in (("from", query.source), ("to", query.destination)) if s]
    default_period = COMMAND[query.command].default_period if query.command in COMMAND else None
    if query.period:  # the command's own default parses back without being written
        words += [f"period={query.period}"] if query.period != default_period else []
    else:
        if query.window.start:
            words.append(f"from={query.window.start.isoformat()}")
        if query.window.end:
            words.append(f"to={query.window.end.isoformat()}")
    if query.by != _default_by(query.command):
        words.append(f"by={','.join(query.by)}")
    if query.top != 10:
        words.append(f"top={query.top}")
    for key in ("threshold", "min_spend", "min_influencers"):
        value = getattr(query, key)
        if value is not None:
            words.append(f"{key}={value:g}")
    words += [f"{key}={getattr(query, key)}" for key in ("vs", "metric") if getattr(query, key)]
    if query.control:
        words.append(f"control={_quoted(query.control)}")
    return " ".join(words)


def _quoted(value: str) -> str:
    return f'"{value}"' if " " in value else value
