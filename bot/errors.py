"""The application's errors, and the one mapping from any exception to words for a user.

People running roasbot are marketers and ops folks: no traceback, exception name, library
message or SQL reaches them. Errors whose message is written for the person who caused it
(`UserError`, `insights.query.QueryError`) are shown as they are; the store failing is one
sentence; a transport failing says which code it gave; anything else is logged by the caller
and reported as our fault.
"""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from insights.query import QueryError

STORE_DOWN = "The data store is not answering, try again shortly."
OUR_FAULT = "Something went wrong on our side; it has been logged."


class UserError(Exception):
    """An error whose message is written for the person who caused it."""


class DeliveryError(Exception):
    """A transport could not deliver a message now (after its own retries); `code` says why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Undeliverable(DeliveryError):
    """A transport refused for a reason retrying cannot fix (e.g. channel_not_found)."""


def is_users(exc: BaseException) -> bool:
    """Whether `exc` is the user's to fix (a bad query, a bad file): nothing to log."""
    return isinstance(exc, UserError | QueryError)


def user_message(exc: BaseException) -> str:
    """What to tell a user about `exc`, in one line of our own words."""
    if is_users(exc):
        return str(exc)
    if isinstance(exc, SQLAlchemyError):
        return STORE_DOWN
    if isinstance(exc, DeliveryError):
        return f"Slack did not take the message ({exc.code})"
    return OUR_FAULT
