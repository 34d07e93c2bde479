"""What every sub-command shares: settings, the store, the service, charts on disk, and the
one-line form of any error."""

from __future__ import annotations

import argparse
import getpass
import re
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bot.charts import render_chart
from bot.errors import UserError, is_users, user_message
from bot.notifications import Poster
from bot.service import Service
from bot.settings import Settings, get_settings
from insights.results import Answer
from storage.db import open_store


class CliError(UserError):
    """An error to show the user as one line, with exit code 1."""


def settings_of(args: argparse.Namespace) -> Settings:
    settings = get_settings()
    if getattr(args, "database_url", None):
        settings = settings.model_copy(update={"database_url": args.database_url})
    return settings


def safe_url(url: str) -> str:
    """The store's URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def store(settings: Settings) -> Engine:
    try:
        return open_store(settings.database_url)
    except OperationalError as exc:
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else "no answer"
        raise CliError(f"cannot open the store {safe_url(settings.database_url)}: {first}") from exc


def service(settings: Settings, engine: Engine, poster: Poster | None = None) -> Service:
    """The application for the command line: charts for answers, and `poster` (the console's,
    or Slack's for `roasbot digest --channel`) for digests and alerts."""

    def chart(result: Answer) -> bytes | None:
        return render_chart(result, currency=settings.currency, target=settings.roas_target)

    return Service(settings, engine, chart=chart, poster=poster)


def user() -> str | None:
    """Who runs the command, for the uploads record."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def write_chart(result: Answer, png: bytes | None, folder: Path) -> Path | None:
    """Write an answer's chart into `folder` and list it on the answer (None: no chart)."""
    if png is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    stem = "-".join([result.command, result.by or "", *_slug(result.filters)]).strip("-")
    path = folder / f"{stem}.png"
    path.write_bytes(png)
    result.charts.append(str(path))
    return path


def _slug(filters: dict[str, list[str]]) -> list[str]:
    return [re.sub(r"[^A-Za-z0-9]+", "_", f"{k}_{'_'.join(v)}")[:40] for k, v in filters.items()]


def one_line(exc: BaseException) -> str:
    """Any error as one line of our words: settings by name, the store's failure, or ours."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        return f"setting {name}: {first['msg'].removeprefix('Value error, ')}"
    if is_users(exc):
        return str(exc)
    return f"{user_message(exc)} (run with --debug for details)"
