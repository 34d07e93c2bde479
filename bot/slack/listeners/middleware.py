"""Listener middleware: who may use a listener, decided before it runs.

The rule is the service's (`Service.caller(...).admin`: ADMIN_USER_IDS, everyone when empty),
so Slack, the console and any later surface agree on it; this is how Slack listeners apply it.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.service import Service


def admins_only(service: Service, what: str) -> Callable[..., None]:
    """Middleware letting only admins through; others are acknowledged and told why."""

    def middleware(ack, body: dict, respond, next) -> None:
        user = (body.get("user") or {}).get("id") or body.get("user_id")
        channel = (body.get("channel") or {}).get("id") or body.get("channel_id")
        if service.caller(user, channel).admin:
            next()
            return
        ack()
        if body.get("response_url") or body.get("response_urls"):  # not from the Home tab
            respond(response_type="ephemeral", replace_original=False,
                    text=f"Only admins can {what}.")  # fmt: skip

    return middleware
