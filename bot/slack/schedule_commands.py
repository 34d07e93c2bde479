"""`/digest` and `/alert`: subscriptions and rules, managed from the channel they post to.

Creating, removing and muting alert rules is for ADMIN_USER_IDS (everyone when empty). Replies
about the subscription or rule itself are ephemeral; digests and alerts post in the channel.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from bot import queries
from bot.settings import Settings
from bot.slack.handlers import STORE_DOWN, in_background
from bot.slack.scheduled import DAYS, ScheduledWork, Subscription, subscriptions
from insights.alerts import Rule, parse_rule
from insights.query import FILTER_KEYS, QueryError, parse
from storage import models

DIGEST_HELP = (
    "Usage: `/digest subscribe [day=mon] [time=09:00] [tz=Asia/Kolkata] [brand=...]`, "
    "`/digest unsubscribe`, `/digest list`, `/digest now`"
)
ALERT_HELP = (
    "Usage: `/alert add roas < 1.5 brand=MuscleBlaze window=7d`, "
    "`/alert add revenue drop > 30% window=7d`, `/alert add roas < 1 each=influencer "
    "min_spend=10000`, `/alert list`, `/alert remove ID`, `/alert mute ID 1d`, "
    "`/alert check`, `/alert history ID`"
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ScheduleCommands:
    def __init__(self, settings: Settings, db: Engine) -> None:
        self.settings, self.db = settings, db

    def _admin(self, user: str) -> bool:
        return not self.settings.admin_user_ids or user in self.settings.admin_user_ids

    # --- /digest -------------------------------------------------------------------------------

    def on_digest(self, ack, command: dict, client: WebClient, respond) -> None:
        words = command.get("text", "").split()
        action = words[0].lower() if words else "list"
        channel, user = command["channel_id"], command["user_id"]
        try:
            if action == "subscribe":
                ack(self._subscribe(channel, user, words[1:]))
            elif action == "unsubscribe":
                ack(self._unsubscribe(channel))
            elif action == "list":
                ack(self._list_digests())
            elif action == "now":
                ack("Building the digest for the last full week…")
                in_background(self._digest_now, channel, client, respond)
            else:
                ack(DIGEST_HELP)
        except QueryError as exc:
            ack(f":warning: {exc}")
        except SQLAlchemyError:
            ack(f":warning: {STORE_DOWN}")

    def _digest_now(self, channel: str, client: WebClient, respond) -> None:
        subs = subscriptions(self.db, channel)
        sub = subs[0] if subs else self._adhoc(channel)
        outcome = ScheduledWork(self.settings, self.db, client).run_digest(sub, _now(), claim=False)
        if outcome != "posted":
            respond(response_type="ephemeral", text=f":warning: digest {outcome}")

    def _check_alerts(self, client: WebClient, respond) -> None:
        report = ScheduledWork(self.settings, self.db, client).evaluate_alerts(_now(), claim=False)
        respond(
            response_type="ephemeral", text="\n".join(report) or "No alert rules yet. " + ALERT_HELP
        )

    def _adhoc(self, channel: str) -> Subscription:
        """`/digest now` in a channel without a subscription: all data, the team's zone."""
        return Subscription(0, channel, "mon", "09:00", self.settings.timezone, "")

    def _subscribe(self, channel: str, user: str, words: list[str]) -> str:
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
        parse(" ".join(["roas", *filters]), queries.today(self.settings))
        table = models.digest_subscriptions
        values = {
            "day": day,
            "time": options["time"],
            "timezone": options["tz"],
            "filters": " ".join(filters),
            "created_by": user,
            "created_at": _now(),
            "active": True,
            "disabled_reason": None,
        }
        with self.db.begin() as conn:
            if conn.execute(select(table.c.id).where(table.c.channel == channel)).first():
                conn.execute(update(table).where(table.c.channel == channel).values(**values))
            else:
                conn.execute(insert(table).values(channel=channel, **values))
        scope = f" for {' '.join(filters)}" if filters else ""
        return (
            f":calendar: This channel gets the weekly digest{scope} every {day.title()} at "
            f"{options['time']} ({options['tz']}). `/digest now` shows one right away."
        )

    def _unsubscribe(self, channel: str) -> str:
        table = models.digest_subscriptions
        with self.db.begin() as conn:
            gone = conn.execute(delete(table).where(table.c.channel == channel)).rowcount
        return (
            "Unsubscribed: no more weekly digests here."
            if gone
            else "This channel has no digest subscription."
        )

    def _list_digests(self) -> str:
        subs = subscriptions(self.db)
        if not subs:
            return "No channel gets the weekly digest yet. " + DIGEST_HELP
        return "\n".join(
            f"• <#{s.channel}>: {s.day.title()} {s.time} {s.timezone}"
            + (f" · {s.filters}" if s.filters else "")
            for s in subs
        )

    # --- /alert ---------------------------------------------------------------------------------

    def on_alert(self, ack, command: dict, client: WebClient, respond) -> None:
        text = command.get("text", "").strip()
        action, _, rest = text.partition(" ")
        action = action.lower() or "list"
        channel, user = command["channel_id"], command["user_id"]
        if action in ("add", "remove", "mute") and not self._admin(user):
            ack(f"Sorry <@{user}>, only admins can {action} alert rules.")
            return
        try:
            if action == "add":
                ack(self._add(channel, user, rest))
            elif action == "list":
                ack(self._list_rules(channel))
            elif action == "remove":
                ack(self._remove(rest))
            elif action == "mute":
                ack(self._mute(rest))
            elif action == "history":
                ack(self._history(rest))
            elif action == "check":
                ack("Checking the alert rules…")
                in_background(self._check_alerts, client, respond)
            else:
                ack(ALERT_HELP)
        except QueryError as exc:
            ack(f":warning: {exc}")
        except SQLAlchemyError:
            ack(f":warning: {STORE_DOWN}")

    def _add(self, channel: str, user: str, text: str) -> str:
        rule: Rule = parse_rule(text, queries.today(self.settings))
        with self.db.begin() as conn:
            rule_id = conn.execute(
                insert(models.alert_rules)
                .values(
                    channel=channel,
                    created_by=user,
                    metric=rule.metric,
                    op=rule.op,
                    threshold=rule.threshold,
                    window_days=rule.window_days,
                    each=rule.each,
                    filters=rule.filters,
                    min_spend=rule.min_spend,
                    pending=rule.pending,
                    active=True,
                    created_at=_now(),
                )
                .returning(models.alert_rules.c.id)
            ).scalar_one()
        return (
            f":bell: Alert #{rule_id}: {rule.describe()}. Checked "
            f"{self.settings.alert_check_cron!r} ({self.settings.timezone}); it posts here "
            "once when it fires and once when it resolves."
        )

    def _rule_id(self, text: str) -> int:
        match = re.match(r"#?(\d+)", text.strip())
        if not match:
            raise QueryError("which rule? Give its number, e.g. `/alert remove 3`")
        return int(match[1])

    def _list_rules(self, channel: str) -> str:
        t, s = models.alert_rules, models.alert_states
        with self.db.connect() as conn:
            rules = list(conn.execute(select(t).where(t.c.active.is_(True)).order_by(t.c.id)))
            firing = {
                r.rule_id for r in conn.execute(select(s.c.rule_id).where(s.c.state == "FIRING"))
            }
        if not rules:
            return "No alert rules yet. " + ALERT_HELP
        lines = []
        for r in rules:
            rule = Rule(
                r.metric,
                r.op,
                r.threshold,
                r.window_days,
                r.each,
                r.filters,
                r.min_spend,
                r.pending,
            )
            state = "FIRING" if r.id in firing else "OK"
            muted = " · muted" if r.muted_until and r.muted_until > _now() else ""
            lines.append(f"• #{r.id} <#{r.channel}> `{rule.describe()}` · {state}{muted}")
        return "\n".join(lines)

    def _remove(self, text: str) -> str:
        rule_id = self._rule_id(text)
        with self.db.begin() as conn:
            done = conn.execute(
                update(models.alert_rules)
                .where(models.alert_rules.c.id == rule_id)
                .values(active=False)
            ).rowcount
        return f"Alert #{rule_id} removed." if done else f"There is no alert #{rule_id}."

    def _mute(self, text: str) -> str:
        rule_id = self._rule_id(text)
        span = re.search(r"(\d+)\s*([dh])", text.split(maxsplit=1)[1] if " " in text else "1d")
        if not span:
            raise QueryError("mute for how long? e.g. `/alert mute 3 1d` or `12h`")
        amount = int(span[1])
        until = _now() + (
            dt.timedelta(days=amount) if span[2] == "d" else dt.timedelta(hours=amount)
        )
        return self.mute(rule_id, until)

    def mute(self, rule_id: int, until: dt.datetime) -> str:
        with self.db.begin() as conn:
            done = conn.execute(
                update(models.alert_rules)
                .where(models.alert_rules.c.id == rule_id)
                .values(muted_until=until)
            ).rowcount
        zone = ZoneInfo(self.settings.timezone)
        return (
            f"Alert #{rule_id} muted until {until.astimezone(zone):%d %b %H:%M}: it keeps "
            "evaluating and recording, without posting."
            if done
            else f"There is no alert #{rule_id}."
        )

    def _history(self, text: str) -> str:
        rule_id = self._rule_id(text)
        e = models.alert_evaluations
        with self.db.connect() as conn:
            rows = list(
                conn.execute(
                    select(e).where(e.c.rule_id == rule_id).order_by(e.c.id.desc()).limit(15)
                )
            )
        if not rows:
            return f"Alert #{rule_id} has not been evaluated yet."
        zone = ZoneInfo(self.settings.timezone)
        return f"Last evaluations of alert #{rule_id}:\n" + "\n".join(
            f"• {r.evaluated_at.astimezone(zone):%d %b %H:%M} {r.entity or 'scope'}: "
            f"{'n/a' if r.value is None else f'{r.value:.4g}'} {r.state}"
            f"{' (posted)' if r.posted else ''}{f' error: {r.error}' if r.error else ''}"
            for r in rows
        )

    def on_mute_button(self, ack, body: dict, action: dict, respond) -> None:
        ack()
        user = body["user"]["id"]
        if not self._admin(user):
            respond(response_type="ephemeral", text="Only admins can mute alert rules.")
            return
        value = json.loads(action.get("value") or "{}")
        days = int(value.get("days", 1))
        text = self.mute(int(value["rule"]), _now() + dt.timedelta(days=days))
        respond(response_type="ephemeral", replace_original=False, text=text)
