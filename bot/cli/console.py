"""The console: the same commands as Slack, answered on the terminal, charts written to disk.

It is a transport like Slack: `/digest now` and scheduled-style messages print through
`ConsolePoster`. What needs a Slack channel (subscribing one, adding an alert to one) takes
`channel=C...`; `/alert check` evaluates the rules without changing their state or posting, so
trying roasbot here never swallows an alert a Slack channel is waiting for.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from bot import text
from bot.charts import render_chart
from bot.cli.context import write_chart
from bot.errors import is_users, user_message
from bot.service import Checked, Help, Later, Question, Reply, Said, Service
from bot.settings import Settings
from insights.alerts import Notice
from insights.digest import Digest

log = logging.getLogger(__name__)
PROMPT = "roas> "


class ConsolePoster:
    """Scheduled messages printed on the terminal (the console's `Poster`)."""

    def __init__(self, settings: Settings, charts: Path, out: TextIO = sys.stdout) -> None:
        self.settings, self.charts, self.out = settings, charts, out

    def digest(self, channel: str, digest: Digest, key: str | None = None) -> str | None:
        print(text.digest_text(digest, self.settings.currency), file=self.out)
        if digest.has_data:
            trend = digest.trend_answer()
            png = render_chart(trend, currency=self.settings.currency,
                               target=self.settings.roas_target)  # fmt: skip
            path = write_chart(trend, png, self.charts)
            if path:
                print(f"Chart: {path}", file=self.out)
        return None

    def alert(self, channel: str, notice: Notice) -> str | None:
        print(text.alert_text(notice, self.settings.currency), file=self.out)
        return None

    def tell_admins(self, message: str) -> None:
        print(f"(to the admins) {message}", file=self.out)


class Console:
    """Answers command lines as Slack would, as text."""

    def __init__(self, service: Service, charts: Path) -> None:
        self.service, self.charts = service, charts
        self.caller = service.console_caller()

    def answer(self, line: str) -> str:
        """The text answer to one command line; raises what the service raises."""
        return self.render(self.service.run(line, self.caller))

    def render(self, reply: Reply) -> str:
        """A reply of the service as text, answering questions and running slow work."""
        currency = self.service.settings.currency
        if isinstance(reply, Help):
            return reply.text
        if isinstance(reply, Said):
            return text.plain(reply.text)
        if isinstance(reply, Checked):
            return text.checks_text(reply.checks, currency)
        if isinstance(reply, Later):
            print(text.plain(reply.text))
            return text.plain(reply.work() or "")
        assert isinstance(reply, Question)
        prepared = self.service.prepared(reply.query)
        result = prepared.answer
        write_chart(result, prepared.chart, self.charts)
        return text.answer_text(
            result, currency, prepared.previous, vs=reply.query.vs, understood=reply.understood
        )

    def loop(self, interactive: bool, say: Callable[[str], None] = print) -> int:
        """Answer each line of standard input until its end (or `exit`)."""
        while True:
            try:
                line = input(PROMPT if interactive else "")
            except EOFError:
                if interactive:
                    say("")
                return 0
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line in ("exit", "quit", "/exit", "/quit"):
                return 0
            try:
                shown = self.answer(line)
                if shown:
                    say(shown)
            except Exception as exc:
                if not is_users(exc):
                    log.error("console command failed: %s", line, exc_info=exc)
                say(f"! {user_message(exc)}")
            say("")


def enable_history() -> None:
    """Readline history in ~/.roasbot_history, when this Python has readline."""
    try:
        import readline
    except ImportError:  # not every Python has readline; the console works without history
        return
    history = Path.home() / ".roasbot_history"
    with contextlib.suppress(OSError):
        readline.read_history_file(history)
    atexit.register(_save_history, readline, history)


def _save_history(readline, history: Path) -> None:
    with contextlib.suppress(OSError):
        readline.write_history_file(history)
