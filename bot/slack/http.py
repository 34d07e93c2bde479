"""HTTP mode: Slack's requests on POST /slack/events, a health check on GET /healthz.

Served by waitress, a production WSGI server (threads, no debug reloader), not Bolt's
development server. It listens on 127.0.0.1 unless told otherwise: put a TLS proxy in front.
"""

from __future__ import annotations

import json
import logging

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)


def wsgi_app(app: App, db: Engine):
    slack = SlackRequestHandler(app, path="/slack/events")

    def application(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/healthz" and environ.get("REQUEST_METHOD") == "GET":
            body = json.dumps({"status": "ok", "store": _store_status(db)}).encode()
            start_response(
                "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            )
            return [body]
        return slack(environ, start_response)

    return application


def _store_status(db: Engine) -> str:
    try:
        with db.connect() as conn:
            conn.execute(text("SELECT 1"))
        return "ok"
    except SQLAlchemyError:
        log.warning("health check: the store is not answering")
        return "unavailable"


def serve(app: App, db: Engine, host: str, port: int, threads: int = 16) -> None:
    from waitress import serve as waitress_serve

    log.warning("roasbot listening on http://%s:%s/slack/events", host, port)
    waitress_serve(wsgi_app(app, db), host=host, port=port, threads=threads, ident="roasbot")
