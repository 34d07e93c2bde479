"""The application: one object that the CLI, the console, Slack and the scheduler all call.

Built once from `Settings` and the store, it decides what every adapter would otherwise decide
for itself: what "today" is, which thresholds apply, how a command line is read and help is
answered, what an answer shows besides itself (the previous window's totals, the chart) and
when identical answers are shared, how digests are subscribed and alert rules kept, who may
change them, and how a load is reported. Adapters only move text in and render results out.

Commands arrive as text at the edges (`run`), are read once, and from then on travel typed
(`Query`, `Rule`); digests and alerts are delivered by `bot.notifications` through whichever
`Poster` the adapter gives.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Engine

from bot.answer_cache import AnswerCache, Prepared
from bot.errors import UserError
from bot.labels import roas_change
from bot.notifications import Notifications, Poster
from bot.settings import Settings
from insights.alerts import Check, Rule, parse_rule
from insights.catalogue import COMMAND
from insights.digest import Digest, last_full_week, week_of
from insights.engine import Thresholds, answer, totals
from insights.home import Home, RuleState
from insights.incremental import Baseline
from insights.language import (
    Calendar,
    NotAQuestion,
    Understood,
    Vocabulary,
    follow_up,
    looks_like_grammar,
    understand,
    vocabulary,
)
from insights.query import (
    EVERY_ROW,
    FILTER_KEYS,
    HELP,
    Query,
    QueryError,
    Window,
    parse,
    parse_filters,
)
from insights.results import Answer
from storage import schedules
from storage.claims import claim_slack_file, finish_slack_file
from storage.ingest import KINDS, BatchResult, Options, Origin, Upload, ingest_files
from storage.ingest.results import LoadProgress

__all__ = ["LoadProgress", "Service"]
from storage.schedules import DAYS, Subscription
from storage.summary import StoreSummary, data_version, summarise

OnProgress = Callable[[LoadProgress], None]  # rows done, percent and time left
FILE_KINDS = sorted(KINDS)  # what `--kind` may force a file to be
RECENT_DAYS = 30  # the window of "what a load changed"
DIGEST_HELP = (
    "Usage: `/digest subscribe [day=mon] [time=09:00] [tz=Asia/Kolkata] [brand=...]`, "
    "`/digest unsubscribe`, `/digest list`, `/digest now`"
)
ALERT_HELP = (
    "Usage: `/alert add roas < 1.5 brand=MuscleBlaze window=7d`, "
    "`/alert add revenue drop > 30% window=7d`, `/alert add roas < 1 each=influencer "
    "min_spend=10000`, `/alert add orders unusual brand=HKVitals direction=down`, "
    "`/alert list`, `/alert remove ID`, `/alert mute ID 1d`, `/alert check`, `/alert history ID`"
)
_CHANNEL = re.compile(r"^channel=(?:<#)?([CGD][A-Z0-9]{2,})(?:\|[^>]*)?>?$", re.IGNORECASE)


@dataclass(frozen=True)
class Caller:
    """Who asks, and from where: Slack gives a channel, the console does not."""

    user: str | None
    channel: str | None
    admin: bool


@dataclass(frozen=True)
class Said:
    """A reply for the person who asked (ephemeral in Slack)."""

    text: str


@dataclass(frozen=True)
class Later:
    """A reply now (`text`), and slow work for the adapter to run off its request thread;
    the work returns what to tell the person afterwards (None: nothing more to say)."""

    text: str
    work: Callable[[], str | None]


@dataclass(frozen=True)
class Help:
    text: str


@dataclass(frozen=True)
class Question:
    """A question read and checked; `Service.prepared(query)` answers it (slowly, so adapters
    acknowledge first). `understood` says how a question in words was read (None: grammar)."""

    query: Query
    understood: Understood | None = None


@dataclass(frozen=True)
class Checked:
    """Alert rules evaluated without acting on them (the console's `/alert check`)."""

    checks: list[Check]


Reply = Question | Said | Later | Help | Checked


HOME_DAYS = (7, 30)
HOME_RANKED = 3


@dataclass(frozen=True)
class Loaded:
    """A batch of files loaded, and what it changed in the recent ROAS (None: nothing loaded)."""

    result: BatchResult
    changed: str | None


def local_today(timezone: str, now: dt.datetime | None = None) -> dt.date:
    """Today in a time zone: `period=last_7d` at 01:00 IST is not yesterday's."""
    return (now or dt.datetime.now(dt.UTC)).astimezone(ZoneInfo(timezone)).date()


def thresholds_of(settings: Settings) -> Thresholds:
    return Thresholds(
        tier_bounds=tuple(settings.tier_boundaries),
        roas_target=settings.roas_target,
        underperformer_min_spend=settings.underperformer_min_spend,
        persona_min_influencers=settings.persona_min_influencers,
        persona_min_spend=settings.persona_min_spend,
        baseline=Baseline(
            days=settings.baseline_days,
            min_days=min(settings.baseline_min_days, settings.baseline_days),
            draws=settings.bootstrap_draws,
        ),
        concentration_share=settings.concentration_share / 100,
        reallocation_cap=settings.reallocation_cap / 100,
        holiday_country=settings.holiday_country,
    )


class Service:
    def __init__(
        self,
        settings: Settings,
        db: Engine,
        *,
        chart: Callable[[Answer], bytes | None] | None = None,
        poster: Poster | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.settings, self.db = settings, db
        self.thresholds = thresholds_of(settings)
        self.answers = AnswerCache(db, chart=chart or (lambda _answer: None))
        self.notifications = (
            Notifications(settings, db, poster, self.thresholds) if poster is not None else None
        )
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._vocabulary: tuple[int, Vocabulary] | None = None  # (data version, its values)

    # --- who and when -----------------------------------------------------------------------

    def now(self) -> dt.datetime:
        return self.clock()

    def today(self) -> dt.date:
        """Today in the team's time zone."""
        return local_today(self.settings.timezone, self.now())

    def caller(self, user: str | None, channel: str | None) -> Caller:
        admins = self.settings.admin_user_ids
        return Caller(user, channel, admin=not admins or user in admins)

    def console_caller(self) -> Caller:
        """The person at the console runs the installation: an admin, in no channel."""
        return Caller(None, None, admin=True)

    # --- questions ------------------------------------------------------------------------------

    def parse(self, text: str) -> Query:
        """A query command line read as of today; QueryError says what was wrong."""
        return parse(text, self.today())

    def vocabulary(self) -> Vocabulary:
        """The values a question in words may name: what the store holds now, read again only
        after a load (it reads every influencer: ~0.2 s at 20,000, for every question)."""
        version = data_version(self.db)
        if self._vocabulary is None or self._vocabulary[0] != version:
            self._vocabulary = (version, vocabulary(self.db, self.thresholds.tier_bounds))
        return self._vocabulary[1]

    def calendar(self) -> Calendar:
        settings = self.settings
        return Calendar(self.today(), settings.fiscal_year_start_month, settings.holiday_country)

    def understand(self, text: str) -> Question | Help:
        """A question in plain words ("how did Gritzo do last month by persona")."""
        return _asked(understand(text, self.vocabulary(), self.calendar()))

    def follow_up(self, base: Query, text: str) -> Question | Help:
        """A reply in the thread of the answer to `base`, read as a change to it."""
        return _asked(follow_up(base, text, self.vocabulary(), self.calendar()))

    def converse(
        self, text: str, caller: Caller, base: Query | None = None, *, quiet: bool = False
    ) -> Reply | None:
        """A message to the bot (a mention, a DM, a reply in an answer's thread): grammar or
        plain words, read against `base` when it replies to an answer. `quiet`: a message
        that reads as no question at all ("thanks!" in the thread) gets None, not a reply."""
        try:
            if base is not None and not looks_like_grammar(text):
                return self.follow_up(base, text)
            return self.run(text, caller)
        except NotAQuestion:
            if quiet:
                return None
            raise

    def run(self, text: str, caller: Caller) -> Reply:
        """Any command line: a question, help, or a /digest or /alert command; a question in
        plain words is read as one ("/roas how did Gritzo do last month")."""
        words = text.strip().lstrip("/").split(maxsplit=1)
        name, rest = (words[0].lower() if words else ""), (words[1] if len(words) > 1 else "")
        kind = COMMAND[name].kind if name in COMMAND else "query"
        if kind == "digest":
            return self.digest_command(rest, caller)
        if kind == "alert":
            return self.alert_command(rest, caller)
        try:
            query = self.parse(text)
        except QueryError:
            if looks_like_grammar(text):
                raise
            return self.understand(text)
        if query.command == "help":
            return Help(HELP)
        return Question(query)

    def prepared(self, query: Query) -> Prepared:
        """The answer with the previous window's totals and its chart, shared by identical
        queries until the data changes; raises QueryError or the store's errors."""
        return self.answers.prepared(query, self.thresholds)

    def every_row(self, query: Query) -> Answer:
        """The answer with all its rows (for the CSV export)."""
        return answer(self.db, replace(query, top=EVERY_ROW), self.thresholds, self.answers.sums)

    def recent_roas(self) -> float | None:
        """ROAS over the last RECENT_DAYS full days, all data."""
        end = self.today() - dt.timedelta(days=1)
        query = Query(window=Window(end - dt.timedelta(days=RECENT_DAYS - 1), end))
        return totals(self.db, query, self.thresholds, self.answers.sums).roas

    def summary(self) -> StoreSummary:
        return summarise(self.db)

    def home(self, caller: Caller) -> Home:
        """The Home tab of `caller`: the last 7 and 30 days against the days before, the
        week's best and worst influencers, every channel's digests and alert rules, and when
        data last came in."""
        end = self.today() - dt.timedelta(days=1)
        windows, week = [], None
        for days in HOME_DAYS:
            query = Query(window=Window(end - dt.timedelta(days=days - 1), end))
            prepared = self.prepared(query)
            windows.append((days, prepared.answer.totals, prepared.previous))
            week = week or query
        rows = [r for r in self.every_row(week).rows if r.roas is not None] if week else []
        ranked = sorted(rows, key=lambda r: (-(r.roas or 0), r.label))
        firing, now = schedules.firing_rule_ids(self.db), self.now()
        rules = [
            RuleState(r, Rule.of(r).describe(), r.id in firing, r.muted(now))
            for r in schedules.rules(self.db)
        ]
        summary = self.summary()
        return Home(
            user=caller.user,
            admin=caller.admin,
            windows=windows,
            top=ranked[:HOME_RANKED],
            bottom=list(reversed(ranked[-HOME_RANKED:])) if len(ranked) > HOME_RANKED else [],
            subscriptions=schedules.subscriptions(self.db),
            rules=rules,
            data_through=max((d.last for d in summary.datasets if d.last), default=None),
            last_load=summary.uploads[0] if summary.uploads else None,
        )

    # --- loading data ---------------------------------------------------------------------------

    def upload_refusal(self, caller: Caller) -> str | None:
        """Why `caller` may not load data here, or None when they may."""
        admins, channels = self.settings.admin_user_ids, self.settings.upload_channel_ids
        if not caller.admin:
            who = ", ".join(f"<@{a}>" for a in sorted(admins))
            return (
                f"Sorry <@{caller.user}>, only admins can load data here. Ask {who} to upload "
                "it, or to add you to ADMIN_USER_IDS."
            )
        if channels and caller.channel is not None and caller.channel not in channels:
            where = ", ".join(f"<#{c}>" for c in sorted(channels))
            return f"I load data only from {where}: please share the file there."
        return None

    def load_paths(
        self,
        paths: list[str],
        user: str | None,
        *,
        kind: str | None = None,
        on_progress: OnProgress | None = None,
    ) -> Loaded:
        """Local files (the command line): any size, kind detected unless given."""
        uploads = [Upload.from_path(p) for p in paths]
        options = self.settings.ingest_options(kind)
        return self._load(uploads, Origin("cli", user), options, on_progress)

    def load_file(
        self, path: str, name: str, caller: Caller, *, on_progress: OnProgress | None = None
    ) -> Loaded:
        """A file shared in Slack, already downloaded to `path` (never held in memory):
        MAX_UPLOAD_MB applies; `on_progress` is told rows done, percent and time left."""
        origin = Origin("slack", caller.user, caller.channel)
        upload = Upload.from_path(path, filename=name)
        options = self.settings.ingest_options()
        return self._load([upload], origin, options, on_progress)

    def _load(
        self,
        uploads: list[Upload],
        origin: Origin,
        options: Options,
        on_progress: OnProgress | None,
    ) -> Loaded:
        """Load files and say how the recent ROAS moved when anything loaded."""
        before = self.recent_roas()
        result = ingest_files(self.db, uploads, origin, options, on_progress=on_progress)
        if not any(f.status in ("loaded", "partial") for f in result.files):
            return Loaded(result, None)
        return Loaded(result, roas_change(before, self.recent_roas(), RECENT_DAYS))

    def claim_file(self, file_id: str, channel: str, user: str | None, name: str) -> bool:
        """True for the one delivery of a shared file that should load it."""
        return claim_slack_file(self.db, file_id, channel, user, name)

    def finish_file(self, file_id: str, status: str, upload_id: int | None = None) -> None:
        finish_slack_file(self.db, file_id, status, upload_id)

    # --- digests --------------------------------------------------------------------------------

    def digest_of(self, week: str | None = None, filters: str = "") -> Digest:
        """The digest of an ISO week (default: the last full one), without posting it."""
        try:
            start = week_of(week)[0] if week else last_full_week(self.today())[0]
        except ValueError as exc:
            raise UserError(str(exc)) from exc
        return self._notifications().build(start, filters)

    def _notifications(self) -> Notifications:
        if self.notifications is None:
            raise UserError("scheduled messages need a transport (Slack or the console)")
        return self.notifications

    def digest_command(self, text: str, caller: Caller) -> Reply:
        words = text.split()
        action = words[0].lower() if words else "list"
        options = words[1:]
        if action == "list":  # the caller's channel, or channel=; the console: every channel
            channel, _ = self._channel(options, caller, required=False)
            return Said(self._list_digests(channel))
        if action not in ("now", "subscribe", "unsubscribe"):
            return Said(DIGEST_HELP)
        if action == "now":  # the console may ask without a channel: all data, printed
            channel, _ = self._channel(options, caller, required=False)
            return Later("Building the digest for the last full week…", lambda: self._now(channel))
        channel, options = self._channel(options, caller)
        if action == "subscribe":
            return Said(self._subscribe(channel, caller, options))
        gone = schedules.unsubscribe(self.db, channel)
        return Said(
            "Unsubscribed: no more weekly digests here."
            if gone
            else "This channel has no digest subscription."
        )

    def _channel(
        self, words: list[str], caller: Caller, required: bool = True
    ) -> tuple[str, list[str]]:
        """The channel a command acts on: `channel=` when given, else the caller's ('' in the
        console when not `required`)."""
        named = [m[1].upper() for w in words if (m := _CHANNEL.match(w))]
        rest = [w for w in words if not _CHANNEL.match(w)]
        if named:
            if caller.channel not in (None, named[0]) and not caller.admin:
                raise UserError("only admins can act on another channel's rules and digests")
            return named[0], rest
        if caller.channel is None and not required:
            return "", rest
        if caller.channel is None:
            raise UserError(
                "which Slack channel? In the console, name it: `channel=C0123456789` "
                "(the channel's id, from its details in Slack)"
            )
        return caller.channel, rest

    def _now(self, channel: str) -> str | None:
        subs = schedules.subscriptions(self.db, channel) if channel else []
        sub = (
            subs[0]
            if subs
            else Subscription(0, channel, "mon", "09:00", self.settings.timezone, "")
        )
        outcome = self._notifications().run_digest(sub, self.now(), claim=False)
        return None if outcome == "posted" else f"digest {outcome}"

    def _subscribe(self, channel: str, caller: Caller, words: list[str]) -> str:
        options = {"day": "mon", "time": "09:00", "tz": self.settings.timezone}
        filters = []
        for word in words:
            key, _, value = word.partition("=")
            if key.lower() in options:
                options[key.lower()] = value
            elif key.lower() in FILTER_KEYS:
                filters.append(word)
            else:
                raise QueryError(f"'{word}' is not a digest option. {DIGEST_HELP}")
        day = options["day"].lower()[:3]
        if day not in DAYS:
            raise QueryError(f"day= takes {', '.join(DAYS)}")
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", options["time"]):
            raise QueryError("time= takes HH:MM, e.g. time=09:00")
        try:
            ZoneInfo(options["tz"])
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise QueryError(f"tz={options['tz']} is not a time zone (e.g. Asia/Kolkata)") from exc
        parse_filters(" ".join(filters), "a digest")
        schedules.subscribe(self.db, channel, day=day, time=options["time"],
                            timezone=options["tz"], filters=" ".join(filters),
                            user=caller.user)  # fmt: skip
        scope = f" for {' '.join(filters)}" if filters else ""
        return (
            f":calendar: <#{channel}> gets the weekly digest{scope} every {day.title()} at "
            f"{options['time']} ({options['tz']}). `/digest now` shows one right away."
        )

    def _list_digests(self, channel: str) -> str:
        subs = schedules.subscriptions(self.db, channel or None)
        if not subs:
            where = f"<#{channel}> does not get" if channel else "No channel gets"
            return f"{where} the weekly digest yet. " + DIGEST_HELP
        return "\n".join(
            f"• <#{s.channel}>: {s.day.title()} {s.time} {s.timezone}"
            + (f" · {s.filters}" if s.filters else "")
            for s in subs
        )

    # --- alerts ----------------------------------------------------------------------------------

    def alert_command(self, text: str, caller: Caller) -> Reply:
        """Rules act on the caller's channel, or on the one `channel=` names (admins only when
        it is another); the console, in no channel, sees every channel's."""
        action, _, rest = text.strip().partition(" ")
        action = action.lower() or "list"
        if action in ("add", "remove", "mute") and not caller.admin:
            return Said(f"Sorry <@{caller.user}>, only admins can {action} alert rules.")
        if action == "add":
            channel, words = self._channel(rest.split(), caller)
            return Said(self._add(channel, caller, " ".join(words)))
        channel, words = self._channel(rest.split(), caller, required=False)
        rest = " ".join(words)
        if action == "list":
            return Said(self._list_rules(channel))
        if action == "check":
            if caller.channel is None and not channel:  # the console: look, leave Slack alone
                return Checked(self._notifications().preview(self.now()))
            return Later("Checking the alert rules…", lambda: self._check(channel))
        if action not in ("remove", "mute", "history"):
            return Said(ALERT_HELP)
        rule_id = _rule_id(rest)
        if not schedules.rules(self.db, rule_id, channel or None, active=None):
            where = f" in <#{channel}>" if channel else ""
            return Said(f"There is no alert #{rule_id}{where}.")
        if action == "remove":
            schedules.deactivate_rule(self.db, rule_id)
            return Said(f"Alert #{rule_id} removed.")
        if action == "mute":
            return Said(self.mute(rule_id, _mute_until(rest, self.now())))
        return Said(self._history(rule_id))

    def _add(self, channel: str, caller: Caller, text: str) -> str:
        rule: Rule = parse_rule(text)
        rule_id = schedules.add_rule(
            self.db, channel, caller.user, metric=rule.metric, op=rule.op,
            threshold=rule.threshold, window_days=rule.window_days, each=rule.each,
            filters=rule.filters, min_spend=rule.min_spend, pending=rule.pending,
            direction=rule.direction, min_value=rule.min_value if rule.unusual else None,
        )  # fmt: skip
        watched = (
            " on the last complete day, against the same weekday of the 8 weeks before"
            if rule.unusual
            else ""
        )
        return (
            f":bell: Alert #{rule_id}: {rule.describe()}. Checked "
            f"{self.settings.alert_check_cron!r} ({self.settings.timezone}){watched}; it posts "
            f"in <#{channel}> once when it fires and once when it resolves."
        )

    def _list_rules(self, channel: str) -> str:
        stored = schedules.rules(self.db, channel=channel or None)
        if not stored:
            where = f" in <#{channel}>" if channel else ""
            return f"No alert rules{where} yet. " + ALERT_HELP
        firing, now = schedules.firing_rule_ids(self.db), self.now()
        return "\n".join(
            f"• #{r.id} <#{r.channel}> `{Rule.of(r).describe()}` · "
            f"{'FIRING' if r.id in firing else 'OK'}{' · muted' if r.muted(now) else ''}"
            for r in stored
        )

    def rule(self, rule_id: int) -> schedules.StoredRule | None:
        """One active alert rule (for a form that edits it)."""
        found = schedules.rules(self.db, rule_id)
        return found[0] if found else None

    def mute(self, rule_id: int, until: dt.datetime) -> str:
        if not schedules.mute_rule(self.db, rule_id, until):
            return f"There is no alert #{rule_id}."
        local = until.astimezone(ZoneInfo(self.settings.timezone))
        return (
            f"Alert #{rule_id} muted until {local:%d %b %H:%M}: it keeps evaluating and "
            "recording, without posting."
        )

    def _history(self, rule_id: int) -> str:
        rows = schedules.evaluations(self.db, rule_id)
        if not rows:
            return f"Alert #{rule_id} has not been evaluated yet."
        zone = ZoneInfo(self.settings.timezone)
        return f"Last evaluations of alert #{rule_id}:\n" + "\n".join(
            f"• {r.evaluated_at.astimezone(zone):%d %b %H:%M} {r.entity or 'scope'}: "
            f"{'n/a' if r.value is None else f'{r.value:.4g}'} {r.state}"
            f"{' (posted)' if r.posted else ''}{f' error: {r.error}' if r.error else ''}"
            for r in rows
        )

    def _check(self, channel: str) -> str:
        report = self._notifications().evaluate_alerts(
            self.now(), claim=False, channel=channel or None
        )
        return "\n".join(report) or "No alert rules here yet. " + ALERT_HELP

    def mute_from(self, caller: Caller, rule_id: int, days: int) -> str:
        """The Mute button: only the rule of the channel it was clicked in, for 1 to 30 days."""
        if not 1 <= days <= 30:
            raise UserError("that button is stale: mute with `/alert mute ID 1d`")
        if caller.channel and not schedules.rules(self.db, rule_id, caller.channel, active=None):
            return f"There is no alert #{rule_id} in <#{caller.channel}>."
        return self.mute(rule_id, self.now() + dt.timedelta(days=days))


def _asked(understood: Understood) -> Question | Help:
    if understood.query.command == "help":
        return Help(HELP)
    return Question(understood.query, understood)


def _rule_id(text: str) -> int:
    match = re.match(r"#?(\d+)", text.strip())
    if not match:
        raise QueryError("which rule? Give its number, e.g. `/alert remove 3`")
    return int(match[1])


def _mute_until(text: str, now: dt.datetime) -> dt.datetime:
    """`/alert mute 3 12h`: until when (default one day)."""
    after = text.strip().split(maxsplit=1)[1] if " " in text.strip() else "1d"
    span = re.search(r"(\d+)\s*([dh])", after)
    if not span:
        raise QueryError("mute for how long? e.g. `/alert mute 3 1d` or `12h`")
    amount = int(span[1])
    return now + (dt.timedelta(days=amount) if span[2] == "d" else dt.timedelta(hours=amount))
