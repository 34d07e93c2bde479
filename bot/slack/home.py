"""Publishing the App Home tab (`views.publish`), for whoever opens it and again after a load.

Slack shows a Home tab per person, so it is published per user; the users who opened it since
the process started are remembered so that a load refreshes their tabs (after a restart, a tab
is published afresh when it is next opened).
"""

from __future__ import annotations

import logging
import threading

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.service import Service
from bot.slack import blocks

log = logging.getLogger(__name__)
_viewers: set[str] = set()
_lock = threading.Lock()


def publish(service: Service, client: WebClient, user: str) -> None:
    """Build `user`'s Home tab from the store and publish it."""
    with _lock:
        _viewers.add(user)
    view = blocks.home_view(service.home(service.caller(user, None)), service.settings.currency)
    try:
        client.views_publish(user_id=user, view=view)
    except SlackApiError as exc:
        log.warning("Home tab of %s not published: %s", user, exc.response.get("error"))


def refresh(service: Service, client: WebClient) -> None:
    """Republish the tab of everyone who opened it: the figures changed (a load)."""
    with _lock:
        users = sorted(_viewers)
    for user in users:
        publish(service, client, user)
