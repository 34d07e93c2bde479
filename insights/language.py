"""Questions in plain words, read into the same `Query` as the grammar.

    how did gritzo do last month by persona  ->  /roas brand=Gritzo period=last_month by=persona

Marketers should not have to learn `key=value`; LLM add-ons answer them, but need the network
and are not repeatable. This reader is deterministic and offline: words are matched against the
store's own values (brands, products, campaigns, platforms, categories, genders, tiers,
influencer names and ids) with rapidfuzz and a score cut-off, dates are read by our own rules
("last month", "past 2 weeks", "since March", "Q3", "FY25" with the fiscal year's first month,
"yesterday", "since Diwali" from the `holidays` package), and the result is written as grammar
and parsed by `insights.query.parse`. So a question in words can never mean anything the grammar
cannot say, and its echo (`Understood.echo`) is the command line that gives the same answer,
which teaches the grammar and lets people correct a reading.

A word close to a known value but not close enough is refused with "did you mean"; a word that
reads two or three ways gets its best reading answered and the others offered
(`Understood.alternatives`). A reply in an answer's thread is read as a change to that answer's
query (`follow_up`).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import holidays
from rapidfuzz import fuzz, process
from sqlalchemy import Engine

from insights.catalogue import EXPLAINABLE, TIERS
from insights.query import (
    FILTER_KEYS,
    PERSONA_ATTRIBUTES,
    SEGMENT_BREAKDOWNS,
    Query,
    QueryError,
    parse,
    period_window,
    to_text,
)
from insights.scope import canonical, load_influencers, normalise

MATCH_CUTOFF = 80  # rapidfuzz ratio (0-100) from which a word is read as a stored value
SUGGEST_CUTOFF = 70  # from here to MATCH_CUTOFF a word gets "did you mean"
TIE = 2  # readings within this many points of the best are offered as alternatives
MAX_ALTERNATIVES = 3
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS |= {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
_MONTHS["sept"] = 9
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
            "seven": 7, "eight": 8, "nine": 9, "ten": 10, "twelve": 12, "fourteen": 14}  # fmt: skip
_COUNT = r"(\d+|" + "|".join(_NUMBERS) + ")"
_NAMED_PERIODS = {7: "last_7d", 30: "last_30d", 90: "last_90d"}
_UNIT_DAYS = {
    "day": 1,
    "week": 7,
    "month": 30,
    "quarter": 90,
    "year": 365,
    "din": 1,
    "hafte": 7,
    "hafta": 7,
    "mahine": 30,
    "mahina": 30,
    "saal": 365,
}
_HOLIDAY_ALIASES = {
    "deepavali": "diwali", "divali": "diwali", "xmas": "christmas", "dusshera": "dussehra",
    "dasara": "dussehra", "dussera": "dussehra",
}  # fmt: skip

# Words of the breakdowns people ask for ("by platform", "brand-wise", "which creators").
_BREAKDOWN_WORDS = {
    "influencer": "influencer", "influencers": "influencer", "creator": "influencer",
    "creators": "influencer", "kol": "influencer", "kols": "influencer",
    "handle": "influencer", "handles": "influencer", "brand": "brand", "brands": "brand",
    "product": "product", "products": "product", "sku": "product", "skus": "product",
    "campaign": "campaign", "campaigns": "campaign", "platform": "platform",
    "platforms": "platform", "channel": "platform", "channels": "platform",
    "network": "platform", "networks": "platform", "category": "category",
    "categories": "category", "niche": "category", "niches": "category",
    "vertical": "category", "verticals": "category", "gender": "gender", "genders": "gender",
    "tier": "tier", "tiers": "tier", "size": "tier", "persona": "persona",
    "personas": "persona", "week": "week", "weeks": "week", "weekly": "week",
    "month": "month", "months": "month", "monthly": "month",
}  # fmt: skip
# Other ways people write stored values; each maps to (key, the value as normalised).
_ALIASES = {
    "insta": ("platform", "instagram"), "ig": ("platform", "instagram"),
    "yt": ("platform", "youtube"), "tweets": ("platform", "twitter"),
    "women": ("gender", "female"), "woman": ("gender", "female"),
    "ladies": ("gender", "female"), "girls": ("gender", "female"),
    "men": ("gender", "male"), "guys": ("gender", "male"), "boys": ("gender", "male"),
    "mb": ("brand", "muscleblaze"), "hkv": ("brand", "hkvitals"),
}  # fmt: skip
_METRIC_WORDS = {
    "roas": "roas", "return": "roas", "revenue": "revenue", "sales": "revenue",
    "cost": "cost", "spend": "cost", "orders": "orders", "cpa": "cpa", "posts": "posts",
    "engagement": "engagement_rate", "conversion": "conversion_rate",
    "conversions": "conversion_rate",
}  # fmt: skip
# Words that carry no value: never matched against the store, never "not understood".
_STOPWORD_TEXT = """
a an the and or of for in on at to from with by per is are was were be been being do does did
done doing how what whats which who whom show me us tell give get see list our my we i you it
its this that these those there here please pls plz can could would should will much many some
any all every each about across over under vs versus than then so up down go going went gone
perform performed performing performance performances result results number numbers figure
figures report stats statistics data doing done look looking looks like overall total totals
roas revenue sales cost costs spend spent orders order cpa return returns engagement conversion
conversions posts post influencer influencers creator creators kol kols brand brands product
products campaign campaigns platform platforms channel channels category categories persona
personas tier tiers breakdown split broken wise only just also instead again now same time
period range window dates date numbers bhai yaar kya kaisa kaise hai tha raha rahe kitna hua ka
ki ke ko se mein ne aur bata batao dikhao chahiye please thanks thank hi hey hello team best top
worst good bad well poorly better worse compare compared comparison against versus rate rates
margin money rupees inr mein wala wali wale sab kuch ok okay kindly quick quickly latest recent
recently current currently far till until since between through during ago been has have had day
days week weeks month months quarter quarters year years today yesterday previous prior last
past next first second third fourth q1 q2 q3 q4 fy so-far to-date date trend trends trending
weekly monthly why happened changed change changes drop dropped fall fell rise rose up increase
decreased decrease increased going went explain reason reasons what's underperformers
underperforming underperformer perform performers performer personas mode view plot chart graph
table
"""
_HINGLISH = "chal chala chalta gira giri gaya gayi pe par din hafte hafta mahine mahina saal wala"
_STOPWORDS = frozenset(
    {*_STOPWORD_TEXT.split(), *_HINGLISH.split(), *_BREAKDOWN_WORDS, "work", "works"}
)


class NotAQuestion(QueryError):
    """Nothing in the words could be read: in a thread, people talking to each other."""


@dataclass(frozen=True)
class Vocabulary:
    """The values a question may name, by filter key, as the store holds them."""

    values: Mapping[str, tuple[str, ...]]

    def entries(self) -> list[tuple[str, str, str]]:
        """(normalised spelling, key, stored value) for every value and its short forms."""
        out: list[tuple[str, str, str]] = []
        for key, stored in self.values.items():
            for value in stored:
                out.append((normalise(value), key, value))
        out += [(tier, "tier", tier) for tier in TIERS]
        return out + self._short_forms()

    def _short_forms(self) -> list[tuple[str, str, str]]:
        """A product's or an influencer's first word, where no other value shares it:
        "biozyme" for "Biozyme Performance Whey"; shared ones ("supermilk") read several ways."""
        short: list[tuple[str, str, str]] = []
        for key in ("product", "influencer"):
            for value in self.values.get(key, ()):
                first = value.split()[0] if " " in value else ""
                if len(first) >= 4 and normalise(first) not in _STOPWORDS:
                    short.append((normalise(first), key, value))
        return short


def vocabulary(db: Engine, tier_bounds: tuple[int, ...]) -> Vocabulary:
    """What the store holds today: brands, products and campaigns in their shown spellings,
    influencers' platforms, categories, genders, names and ids."""
    with db.connect() as conn:
        values = {key: tuple(sorted(set(canonical(conn, key).values())))
                  for key in ("brand", "product", "campaign")}  # fmt: skip
        frame = load_influencers(conn, tier_bounds)
    for key in ("platform", "category", "gender"):
        values[key] = tuple(sorted({str(v) for v in frame[key].dropna()}))
    values["influencer"] = tuple(sorted({str(v) for v in frame["name"].dropna()}))
    values["influencer_id"] = tuple(sorted(str(v) for v in frame["influencer_id"]))
    return Vocabulary(values)


@dataclass(frozen=True)
class Understood:
    """A question read: its query, the grammar that gives it, words left out, other readings."""

    query: Query
    echo: str  # `/roas brand=Gritzo period=last_month by=persona`
    ignored: tuple[str, ...] = ()
    alternatives: tuple[tuple[str, Query], ...] = ()  # (what differs, the query read so)


@dataclass
class _Reading:
    """What the words said, each part None (or empty) when they did not say it."""

    command: str | None = None
    filters: dict[str, list[str]] = field(default_factory=dict)
    period: str | None = None
    by: list[str] = field(default_factory=list)
    vs: str | None = None
    metric: str | None = None
    top: int | None = None
    threshold: float | None = None
    cleared: set[str] = field(default_factory=set)  # "all brands": filters to drop
    adding: bool = False  # "also HKVitals": add to the filter rather than replace it
    ignored: list[str] = field(default_factory=list)
    alternatives: list[tuple[str, str, str]] = field(default_factory=list)  # (key, old, new)

    def said_anything(self) -> bool:
        return bool(self.command or self.filters or self.period or self.by or self.vs
                    or self.metric or self.top or self.threshold or self.cleared)  # fmt: skip


@dataclass(frozen=True)
class Calendar:
    """How dates are read: today, the fiscal year's first month, the holidays' country."""

    today: dt.date
    fiscal_start: int = 4
    holiday_country: str = "IN"


def looks_like_grammar(text: str) -> bool:
    """A command line in the grammar (`brand=...`) is read by `insights.query` alone."""
    return "=" in text


def understand(text: str, vocab: Vocabulary, when: Calendar) -> Understood:
    """A question in words as a query; QueryError when a word is close to a value but not
    close enough ("did you mean"), or nothing in it could be read."""
    reading = _read(text, vocab, when)
    if not reading.said_anything():
        raise NotAQuestion(
            "I could not tell what you are asking. Try e.g. `how did MuscleBlaze do last month "
            "by platform`, `underperformers on Instagram`, `why did ROAS drop last week`, or "
            "`/roas help` for the commands."
        )
    return _understood(reading, _fresh(reading), when)


def follow_up(base: Query, text: str, vocab: Vocabulary, when: Calendar) -> Understood:
    """A reply in an answer's thread ("by platform", "only Instagram", "last quarter
    instead", "why?") as a change to that answer's query."""
    reading = _read(text, vocab, when)
    if not reading.said_anything():
        raise NotAQuestion(
            "I could not read that as a change to the answer above: try `by platform`, "
            "`only Instagram`, `last quarter instead`, `why?` or `show underperformers`."
        )
    return _understood(reading, _changed(base, reading), when)


def echo(query: Query) -> str:
    """The slash command that asks `query`: `/roas brand=Gritzo by=persona`."""
    words = to_text(query)
    return "/roas" + words.removeprefix("roas") if query.command == "roas" else f"/roas {words}"


# --- from a reading to a query -------------------------------------------------------------


def _understood(reading: _Reading, pairs: dict, when: Calendar) -> Understood:
    query = _query(pairs, when.today)
    alternatives = []
    for key, old, new in reading.alternatives[:MAX_ALTERNATIVES]:
        other = {**pairs, "filters": {**pairs["filters"]}}
        values = [new if v == old else v for v in other["filters"].get(key, [])]
        other["filters"][key] = values
        if other.get("subject") == old:
            other["subject"] = new
        try:
            alternatives.append((f"{key} {new}", _query(other, when.today)))
        except QueryError:
            continue
    return Understood(query, echo(query), tuple(reading.ignored), tuple(alternatives))


def _fresh(reading: _Reading) -> dict:
    command = reading.command or "roas"
    pairs: dict = {"command": command, "filters": dict(reading.filters), "subject": None}
    influencers = reading.filters.get("influencer", [])
    if (command == "roas" and not reading.by and len(influencers) == 1
            and len(reading.filters) == 1):  # fmt: skip
        pairs.update(command="influencer", subject=influencers[0], filters={})
    pairs.update(_options(reading, command))
    return pairs


def _options(reading: _Reading, command: str) -> dict:
    options: dict = {}
    if reading.period:
        options["period"] = reading.period
    by = _fitting_by(reading.by, command)
    if by:
        options["by"] = ",".join(by)
    if reading.vs and command in ("roas", "why"):
        options["vs"] = reading.vs
    if reading.metric and command == "why" and reading.metric != "roas":
        options["metric"] = reading.metric
    if reading.top:
        options["top"] = str(reading.top)
    if reading.threshold is not None and command == "underperformers":
        options["threshold"] = f"{reading.threshold:g}"
    return options


def _fitting_by(by: list[str], command: str) -> list[str]:
    if command == "personas":
        return [b for b in by if b in PERSONA_ATTRIBUTES]
    if command == "why":
        by = [b for b in by if b in SEGMENT_BREAKDOWNS]
    if command in ("underperformers", "trend", "influencer", "whatif"):
        return []
    return by[-1:]


def _pairs_of(query: Query) -> dict:
    """A query as the parts a reading changes (its command line, taken apart)."""
    options: dict = {}
    filters: dict[str, list[str]] = {}
    for word in _split(to_text(query))[1:]:
        key, sep, value = word.partition("=")
        if not sep:
            continue
        if key in FILTER_KEYS:
            filters[key] = value.split(",")
        else:
            options[key] = value
    return {"command": query.command, "filters": filters, "subject": query.subject, **options}


def _changed(base: Query, reading: _Reading) -> dict:
    pairs = _pairs_of(base)
    filters = pairs["filters"]
    for key in reading.cleared:
        filters.pop(key, None)
    for key, values in reading.filters.items():
        if reading.adding and key in filters:
            filters[key] = filters[key] + [v for v in values if v not in filters[key]]
        else:
            filters[key] = list(values)
    command = reading.command or pairs["command"]
    if command == "influencer" and pairs["command"] != "influencer":
        command = "roas"
    if command != pairs["command"]:
        if pairs["command"] == "influencer" and pairs["subject"]:
            filters.setdefault("influencer", [pairs["subject"]])
        pairs["subject"] = None
        kept_by = [b for b in pairs.pop("by", "").split(",") if b]
        pairs.pop("vs", None) if command not in ("roas", "why") else None
        pairs.pop("metric", None) if command != "why" else None
        pairs.pop("threshold", None) if command != "underperformers" else None
        if not reading.by and _fitting_by(kept_by, command):
            pairs["by"] = ",".join(_fitting_by(kept_by, command))
    if command == "influencer" and reading.by:
        filters.setdefault("influencer", [pairs["subject"]] if pairs["subject"] else [])
        pairs["subject"], command = None, "roas"
    pairs["command"] = command
    if reading.period:
        pairs.pop("from", None), pairs.pop("to", None)
    pairs.update(_options(reading, command))
    return pairs


def _query(pairs: dict, today: dt.date) -> Query:
    """The reading written as grammar and parsed by the grammar's own parser."""
    words = [pairs["command"]]
    if pairs.get("subject"):
        words.append(_quoted(pairs["subject"]))
    for key, values in pairs["filters"].items():
        if values:
            words.append(f"{key}={_quoted(','.join(values))}")
    for key, value in pairs.items():
        if key not in ("command", "filters", "subject") and value:
            words.append(f"{key}={_quoted(value)}")
    return parse(" ".join(words), today)


def _quoted(value: str) -> str:
    return f'"{value}"' if " " in value else value


def _split(text: str) -> list[str]:
    return [w.replace('"', "") for w in re.findall(r'(?:[^\s"]+|"[^"]*")+', text)]


# --- reading the words ------------------------------------------------------------------------


def _read(text: str, vocab: Vocabulary, when: Calendar) -> _Reading:
    reading = _Reading()
    s = " " + _spelled(_clean(text)) + " "
    s = _read_exact(s, reading, vocab)
    s = _read_comparison(s, reading, when)
    s = _read_dates(s, reading, when)
    s = _read_commands(s, reading)
    s = _read_breakdowns(s, reading)
    _read_values(s, reading, vocab)
    _compared_values(text, reading)
    return reading


def _read_exact(s: str, reading: _Reading, vocab: Vocabulary) -> str:
    """Campaigns and influencer ids as written (`MB-Nov-2026`, `INF0007`), before their
    parts are read as a brand and a month."""
    for key in ("campaign", "influencer_id"):
        for value in vocab.values.get(key, ()):
            match = re.search(rf"(?<![\w-]){re.escape(value.lower())}(?![\w-])", s)
            if match:
                _take(reading, [(100.0, "influencer" if key == "influencer_id" else key, value)])
                s = _cut(s, match)
    return s


def _compared_values(text: str, reading: _Reading) -> None:
    """ "Instagram vs YouTube": two values of one key compared, so broken down by that key."""
    if reading.by or not re.search(r"\b(?:vs|versus|compare|compared|against)\b", text.lower()):
        return
    for key, values in reading.filters.items():
        if len(values) > 1 and key != "influencer":
            reading.by.append(key)
            return


def _clean(text: str) -> str:
    text = re.sub(r"<@[A-Z0-9]+(?:\|[^>]*)?>", " ", text)  # a mention of the bot
    text = text.lower().replace("’", "'").replace("“", " ").replace("”", " ")
    text = re.sub(r"[?!,;:()\"*_`]", " ", text)
    text = re.sub(r"(?<![\d])\.(?!\d)|\.(?=\s|$)", " ", text)  # full stops, not 1.5 or ..
    return re.sub(r"\s+", " ", text).strip()


def _cut(s: str, match: re.Match) -> str:
    """Remove what a rule read, leaving a bar so that no later match spans the gap."""
    return s[: match.start()] + " | " + s[match.end() :]


def _read_comparison(s: str, reading: _Reading, when: Calendar) -> str:
    for vs, pattern in (
        ("last_year", r"\b(?:vs\.?|versus|compared (?:to|with)|against|over|from|than)\s+"
         r"(?:the\s+)?(?:same (?:time|period) )?last year\b|\byoy\b|\by-o-y\b"
         r"|\byear[- ](?:on|over)[- ]year\b"),
        ("previous", r"\b(?:vs\.?|versus|compared (?:to|with)|against)\s+(?:the\s+)?(?:previous"
         r"|prior|last|preceding|earlier|before)(?:\s+(?:period|one|window|days|weeks?|months?))?"
         r"\b"),
    ):  # fmt: skip
        match = re.search(pattern, s)
        if match:
            reading.vs = vs
            return _cut(s, match)
    dated = re.search(r"\b(?:vs\.?|versus|compared (?:to|with)|against)\s+(.+?)\s*(?=\||$)", s)
    if dated and _starts_with_date(dated[1], when):
        window = _date_expression(" " + dated[1] + " ", when)
        if window is not None:
            reading.vs = f"{window[0].isoformat()}..{window[1].isoformat()}"
            return _cut(s, dated)
    return s


def _read_dates(s: str, reading: _Reading, when: Calendar) -> str:
    """The first date expression found sets the window."""
    for pattern, read in _date_rules(when):
        match = re.search(pattern, s)
        if match is None:
            continue
        period = read(match)
        if period is None:
            continue
        reading.period = period
        return _cut(s, match)
    return s


def _starts_with_date(text: str, when: Calendar) -> bool:
    return any(re.match(pattern, " " + text) for pattern, _ in _date_rules(when))


def _date_expression(s: str, when: Calendar) -> tuple[dt.date, dt.date] | None:
    """A date expression as its first and last day (for `vs <dates>`)."""
    probe = _Reading()
    _read_dates(s, probe, when)
    if probe.period is None:
        return None
    window = period_window(probe.period, when.today)
    assert window.start is not None and window.end is not None
    return window.start, window.end


def _span(start: dt.date, end: dt.date, today: dt.date) -> str:
    end = min(end, today)
    start = min(start, end)
    return f"{start.isoformat()}..{end.isoformat()}"


def _date_rules(when: Calendar):
    today = when.today
    yesterday = today - dt.timedelta(days=1)
    day = r"(\d{4}-\d{2}-\d{2}|\d{1,2}(?:st|nd|rd|th)? (?:" + _MONTH + r")(?: \d{4})?|(?:"
    day += _MONTH + r") \d{1,2}(?:st|nd|rd|th)?(?: \d{4})?)"

    def since(m: re.Match) -> str | None:
        start = _day(m[1], today) or _month_start(m[1], today) or _holiday(m[1], when)
        return _span(start, today, today) if start else None

    def between(m: re.Match) -> str | None:
        year = re.search(r"\b\d{4}$", m[2])
        # "1 march to 10 march 2025": both in 2025
        m1 = f"{m[1]} {year[0]}" if year and not re.search(r"\d{4}", m[1]) else m[1]
        first, last = _day(m1, today), _day(m[2], today)
        if first is None or last is None:
            return None
        if last < first and not re.search(r"\d{4}", m[2]):
            last = last.replace(year=first.year) if last.replace(year=first.year) >= first else last
        return f"{first.isoformat()}..{last.isoformat()}" if first <= last else None

    def month_range(m: re.Match) -> str | None:
        first, last = _month_of(m[1], today), _month_of(m[2], today)
        if first is None or last is None:
            return None
        if last[0] < first[0]:
            first = (first[0].replace(year=first[0].year - 1), first[1])
        return _span(first[0], last[1], today)

    def recent(m: re.Match) -> str:
        count = int(m[1]) if m[1].isdigit() else _NUMBERS[m[1]]
        days = count * _UNIT_DAYS[m[2]]
        if days in _NAMED_PERIODS:
            return _NAMED_PERIODS[days]
        return _span(yesterday - dt.timedelta(days=days - 1), yesterday, today)

    def single(unit: str) -> str:
        return _NAMED_PERIODS.get(_UNIT_DAYS[unit]) or recent_days(_UNIT_DAYS[unit])

    def recent_days(days: int) -> str:
        return _span(yesterday - dt.timedelta(days=days - 1), yesterday, today)

    def quarter(m: re.Match) -> str | None:
        return _quarter(int(m[1]), m[2], m[3], today, when.fiscal_start)

    def fiscal(m: re.Match) -> str:
        return _fiscal_year(m[1], today, when.fiscal_start)

    def in_month(m: re.Match) -> str | None:
        month = _month_of(m[1], today)
        return _span(*month, today) if month else None

    def around_holiday(m: re.Match) -> str | None:
        date = _holiday(m[1], when)
        if date is None:
            return None
        return _span(date - dt.timedelta(days=3), date + dt.timedelta(days=3), today)

    def on_holiday(m: re.Match) -> str | None:
        date = _holiday(m[1], when)
        return _span(date, date, today) if date else None

    last_quarter_start = _quarter_start(today, 1) - dt.timedelta(days=1)
    q_start = _quarter_start(last_quarter_start, 1)
    return (
        (r"\bfrom (\d{4}-\d{2}-\d{2}) (?:to|till|until|-) (\d{4}-\d{2}-\d{2})\b", between),
        (r"\b(\d{4}-\d{2}-\d{2}) ?(?:\.\.|to|till|until|-|and) ?(\d{4}-\d{2}-\d{2})\b", between),
        (rf"\b(?:from|between) {day} (?:to|till|until|and|-) {day}", between),
        (rf"\b(?:from|between) ({_MONTH})(?: \d{{4}})? (?:to|till|until|and|-) ({_MONTH})\b",
         month_range),
        (rf"\b(?:since|from|after) (?:the )?(?:start of |beginning of )?{day}", since),
        (rf"\b(?:since|from|after) (?:the )?(?:start of |beginning of )?((?:{_MONTH})"
         r"(?: \d{4})?)\b", since),
        (r"\b(?:since|from|after) ([a-z][a-z' .-]+?)(?= \||$| by | per | on | vs | for | in "
         r"| and | with | compared)", since),
        (r"\b(?:the )?day before yesterday\b",
         lambda m: _span(today - dt.timedelta(days=2), today - dt.timedelta(days=2), today)),
        (r"\byesterday\b|\bkal\b", lambda m: _span(yesterday, yesterday, today)),
        (r"\btoday\b|\baaj\b", lambda m: _span(today, today, today)),
        (rf"\b(?:last|past|previous|prev|recent|trailing|pichle|pichhle) {_COUNT} "
         r"(day|week|month|quarter|year|din|hafte|hafta|mahine|mahina|saal)s?\b", recent),
        (rf"\b{_COUNT} (day|week|month)s? (?:ago|back)\b", lambda m: None),
        (r"\b(?:this|current) (?:calendar )?week\b|\bwtd\b|\bweek to date\b|\bis hafte\b",
         lambda m: "this_week"),
        (r"\b(?:last|previous|prev|prior|pichle|pichhle) (?:calendar )?week\b"
         r"|\bpichla hafta\b|\bpichh?le hafte\b",
         lambda m: "last_week"),
        (r"\b(?:this|current) month\b|\bmtd\b|\bmonth to date\b|\bmonth so far\b|"
         r"\bis mahine\b", lambda m: "this_month"),
        (r"\b(?:last|previous|prev|prior) month\b|\bpichle mahine\b|\bpichla mahina\b",
         lambda m: "last_month"),
        (r"\b(?:this|current) quarter\b|\bqtd\b|\bquarter to date\b", lambda m: "qtd"),
        (r"\b(?:last|previous|prev|prior) quarter\b",
         lambda m: _span(q_start, last_quarter_start, today)),
        (r"\bq([1-4])(?: ?(?:of )?(?:fy ?'?(\d{2}(?:\d{2})?)|(\d{4})))?\b", quarter),
        (r"\b(?:fy|fiscal year|financial year) ?'?(\d{2}(?:\d{2})?(?:-\d{2})?)?\b", fiscal),
        (r"\b(?:this|current) year\b|\bytd\b|\byear to date\b|\bis saal\b", lambda m: "ytd"),
        (r"\b(?:last|previous|prev|prior) (?:calendar )?year\b|\bpichle saal\b",
         lambda m: _span(dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31), today)),
        (r"\b(?:last|past) (week|month|quarter|year)\b", lambda m: single(m[1])),
        (rf"\b(?:in|during|for|of|on)? ?((?:{_MONTH})(?: \d{{4}})?)\b", in_month),
        (r"\b([a-z][a-z']+) (?:week|season|sale)\b", around_holiday),
        (r"\b(?:on|during|around|for|at) ([a-z][a-z' ]+?)(?= \||$| by | per | vs | for | in "
         r"| and )", on_holiday),
    )  # fmt: skip


def _day(text: str, today: dt.date) -> dt.date | None:
    """`2026-03-01`, `1 march`, `march 1st 2026`: a date (without a year: the last one that
    is not after today)."""
    text = text.strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    m = re.fullmatch(rf"(\d{{1,2}})(?:st|nd|rd|th)? ({_MONTH})(?: (\d{{4}}))?", text) or None
    if m:
        number, month, year = int(m[1]), _MONTHS[m[2]], m[3]
    else:
        m = re.fullmatch(rf"({_MONTH}) (\d{{1,2}})(?:st|nd|rd|th)?(?: (\d{{4}}))?", text)
        if not m:
            return None
        number, month, year = int(m[2]), _MONTHS[m[1]], m[3]
    try:
        if year:
            return dt.date(int(year), month, number)
        day = dt.date(today.year, month, number)
        return day if day <= today else dt.date(today.year - 1, month, number)
    except ValueError:
        return None


def _month_of(text: str, today: dt.date) -> tuple[dt.date, dt.date] | None:
    """`march`, `march 2025`: its first and last day (without a year: the last March that
    began on or before today)."""
    m = re.fullmatch(rf"({_MONTH})(?: (\d{{4}}))?", text.strip())
    if not m:
        return None
    month = _MONTHS[m[1]]
    year = int(m[2]) if m[2] else (today.year if month <= today.month else today.year - 1)
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def _month_start(text: str, today: dt.date) -> dt.date | None:
    month = _month_of(text, today)
    return month[0] if month else None


def _quarter_start(day: dt.date, fiscal_start: int) -> dt.date:
    """The first day of the three-month quarter `day` is in (quarters from `fiscal_start`)."""
    offset = (day.month - fiscal_start) % 3
    month = day.month - offset
    year = day.year
    if month < 1:
        month, year = month + 12, year - 1
    return dt.date(year, month, 1)


def _fiscal_start_of(fy_end_year: int, fiscal_start: int) -> dt.date:
    """FY26 with an April start runs from April 2025 to March 2026 (named by its end)."""
    return dt.date(fy_end_year - 1 if fiscal_start > 1 else fy_end_year, fiscal_start, 1)


def _fiscal_year_of(day: dt.date, fiscal_start: int) -> int:
    return day.year + 1 if fiscal_start > 1 and day.month >= fiscal_start else day.year


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _year(text: str) -> int:
    """`25`, `2025`, `2025-26`, `25-26`: the year a fiscal year ends in."""
    first, _, second = text.partition("-")
    if second:
        return _year(second) if len(second) == 4 else (_year(first) // 100) * 100 + int(second)
    return int(first) if len(first) == 4 else 2000 + int(first)


def _quarter(
    number: int, fy: str | None, calendar_year: str | None, today: dt.date, fiscal_start: int
) -> str:
    """Q1-Q4 of a fiscal year (`Q3 FY26`), of a calendar year (`Q3 2025`), or the latest
    one that has begun (`Q3`: of the fiscal year)."""
    if calendar_year is not None:
        start = dt.date(int(calendar_year), 3 * (number - 1) + 1, 1)
    elif fy is not None:
        start = _add_months(_fiscal_start_of(_year(fy), fiscal_start), 3 * (number - 1))
    else:
        start = _add_months(_fiscal_start_of(_fiscal_year_of(today, fiscal_start),
                                              fiscal_start), 3 * (number - 1))  # fmt: skip
        if start > today:
            start = _add_months(start, -12)
    end = _add_months(start, 3) - dt.timedelta(days=1)
    return _span(start, end, today)


def _fiscal_year(text: str | None, today: dt.date, fiscal_start: int) -> str:
    year = _year(text) if text else _fiscal_year_of(today, fiscal_start)
    start = _fiscal_start_of(year, fiscal_start)
    return _span(start, _add_months(start, 12) - dt.timedelta(days=1), today)


def _holiday(name: str, when: Calendar) -> dt.date | None:
    """The last date on or before today of a public holiday named `name` (`diwali`)."""
    wanted = normalise(_HOLIDAY_ALIASES.get(name.strip(), name.strip()))
    if len(wanted) < 4:
        return None
    try:
        days = holidays.country_holidays(
            when.holiday_country, years=range(when.today.year - 2, when.today.year + 1)
        )
    except NotImplementedError:
        return None
    found = [
        day for day, names in days.items() if day <= when.today
        and any(normalise(re.sub(r"\(.*?\)", "", n)) == wanted for n in names.split("; "))
    ]  # fmt: skip
    return max(found) if found else None


_COMMAND_WORDS = ("underperformers", "underperforming", "personas", "persona", "trend",
                  "weekly", "monthly", "platform", "influencers", "yesterday")  # fmt: skip


def _spelled(s: str) -> str:
    """Misspelt command words ("underperfromers", "yesterdy") as they are spelt."""

    def fix(match: re.Match) -> str:
        word = match[0]
        if len(word) < 6 or word in _STOPWORDS:
            return word
        near = process.extractOne(word, _COMMAND_WORDS, scorer=fuzz.ratio, score_cutoff=85)
        return near[0] if near else word

    return re.sub(r"[a-z]+", fix, s)


def _read_commands(s: str, reading: _Reading) -> str:
    top = re.search(r"\b(top|best|bottom|worst|first) (\d{1,3})\b", s)
    if top:
        reading.top = int(top[2])
        if top[1] in ("bottom", "worst"):
            reading.command = "underperformers"
        s = _cut(s, top)
    rules = (
        ("help", r"^\s*(?:help|commands|what can you do)\s*$"),
        ("why", r"\bwhy\b|\bwhat (?:changed|happened)\b|\bexplain\w*\b|\breasons?\b|\bkyun\b"),
        (
            "underperformers",
            r"\bunder[- ]?perform\w*|\bworst\b|\blosing money\b|\blaggards?\b"
            r"|\bbelow (?:the )?target\b|\bnot performing\b|\bpoor(?:ly)? perform\w*|\bbottom\b"
            r"|\bflop\w*\b|\bwasted? (?:spend|money)\b",
        ),
        (
            "personas",
            r"(?<!by )(?<!per )(?<!each )\b(?:top |best |which |winning )?personas?\b"
            r"(?! ?wise)|\bcreator types\b|\bkinds? of (?:influencers|creators)\b",
        ),
        ("trend", r"\btrend\w*\b|\bover time\b|\bweek (?:on|over|by) week\b|\bwow\b"),
    )
    for command, pattern in rules:
        match = re.search(pattern, s)
        if match and reading.command is None:
            reading.command = command
            s = _cut(s, match)
    threshold = re.search(r"\b(?:below|under|less than|lower than|<) ?(\d+(?:\.\d+)?) ?x?\b", s)
    if threshold:
        reading.threshold = float(threshold[1])
        if reading.command is None:
            reading.command = "underperformers"
        s = _cut(s, threshold)
    if reading.command == "why":
        for word, name in _METRIC_WORDS.items():
            if re.search(rf"\b{word}\b", s) and name in EXPLAINABLE:
                reading.metric = name
                break
    if re.search(r"\b(?:also|plus|add|and also)\b", s):
        reading.adding = True
    for key in ("brand", "platform", "product", "campaign", "category", "tier", "gender"):
        cleared = re.search(rf"\b(?:all|any|every|remove|drop|without) (?:the )?{key}s?"
                            r"(?: filter)?\b", s)  # fmt: skip
        if cleared:
            reading.cleared.add(key)
            s = _cut(s, cleared)
    return s


def _read_breakdowns(s: str, reading: _Reading) -> str:
    words = "|".join(sorted(_BREAKDOWN_WORDS, key=len, reverse=True))
    both = re.search(rf"\b(?:by|per) ({words})((?:(?: and| &|,) (?:{words}))+)\b", s)
    if both:
        for word in [both[1], *re.findall(rf"\b({words})\b", both[2])]:
            if _BREAKDOWN_WORDS[word] not in reading.by:
                reading.by.append(_BREAKDOWN_WORDS[word])
        s = _cut(s, both)
    patterns = (
        rf"\b(?:by|per|each|every|across|split by|broken down by|breakdown by|break down by|"
        rf"grouped by|for each|which|what|top|best|compare|vs|har) (?:the )?(?:top )?({words})\b",
        rf"\b({words})[- ]?wise\b",
        rf"\b(?:by|per) ({words})\b",
        r"\b(weekly|monthly|week by week|month by month|month on month)\b",
    )
    for pattern in patterns:
        while (match := re.search(pattern, s)) is not None:
            name = _BREAKDOWN_WORDS.get(match[1].split()[0], "week")
            if name not in reading.by:
                reading.by.append(name)
            s = _cut(s, match)
    if reading.command == "trend":
        reading.by = [b for b in reading.by if b != "week"]
    return s


def _tokens(s: str) -> list[list[str]]:
    """Runs of words between the bars that rules left."""
    runs = []
    for part in s.split("|"):
        words = re.findall(r"[a-z0-9][a-z0-9+'&.-]*[a-z0-9+]|[a-z0-9]", part)
        runs.append([w.removesuffix("'s") for w in words])
    return runs


def _read_values(s: str, reading: _Reading, vocab: Vocabulary) -> None:
    entries = vocab.entries()
    choices = [e[0] for e in entries]
    for run in _tokens(s):
        used = [False] * len(run)
        candidates = []  # (score, words, start, hits): the best readings are taken first
        for n in (4, 3, 2, 1):
            for i in range(len(run) - n + 1):
                words = run[i : i + n]
                if words[0] in _STOPWORDS or words[-1] in _STOPWORDS:
                    continue
                hits = _matches(words, entries, choices)
                if hits:
                    candidates.append((hits[0][0], n, i, hits))
        taken = []
        for _, n, i, hits in sorted(candidates, key=lambda c: (-c[0], -c[1], c[2])):
            if not any(used[i : i + n]):
                used[i : i + n] = [True] * n
                taken.append((i, hits))
        for _, hits in sorted(taken, key=lambda t: t[0]):
            _take(reading, hits)
        for i, word in enumerate(run):
            if used[i] or word in _STOPWORDS or len(word) < 3 or word.isdigit():
                continue
            near = process.extractOne(normalise(word), choices, scorer=fuzz.ratio,
                                      score_cutoff=SUGGEST_CUTOFF)  # fmt: skip
            if near and len(word) >= 4:
                _, key, value = entries[near[2]]
                raise QueryError(f"I don't know '{word}' — did you mean {_shown(key)} {value}?")
            reading.ignored.append(word)


def _shown(key: str) -> str:
    return "influencer" if key == "influencer_id" else key


def _matches(words: list[str], entries, choices) -> list[tuple[float, str, str]]:
    """(score, key, value) of every stored value these words may mean, best first."""
    joined = normalise("".join(words))
    if len(words) == 1 and joined in _ALIASES:
        key, target = _ALIASES[joined]
        return [(100.0, k, v) for c, k, v in entries if k == key and c == target][:1]
    if len(joined) < 3:
        return []
    cutoff = 100 if len(joined) < 5 else MATCH_CUTOFF
    found = process.extract(joined, choices, scorer=fuzz.ratio, score_cutoff=cutoff, limit=8)
    hits: dict[tuple[str, str], float] = {}
    for _, score, index in found:
        _, key, value = entries[index]
        key = "influencer" if key == "influencer_id" else key
        hits[(key, value)] = max(score, hits.get((key, value), 0))
    return sorted(((s, k, v) for (k, v), s in hits.items()), key=lambda h: (-h[0], h[1], h[2]))


def _take(reading: _Reading, hits: list[tuple[float, str, str]]) -> None:
    best, key, value = hits[0]
    values = reading.filters.setdefault(key, [])
    if value not in values:
        values.append(value)
    for score, other_key, other in hits[1:]:
        if best - score <= TIE and other_key == key and other != value:
            reading.alternatives.append((key, value, other))
