"""Shared fixtures: every store test runs once on SQLite and once on PostgreSQL."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from bot.slack import workers
from storage.db import open_store
from storage.ingest import Upload, ingest_files
from tests import postgres

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).with_name("fixtures")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    with postgres.test_server() as url:
        yield url


def _schema_url(server: str, schema: str) -> str:
    url = make_url(server).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A URL whose connections live in a fresh, empty schema of the test server."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _schema_url(pg_server, schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty store, SQLite or PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'roasbot.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(store_url: str) -> Iterator[Engine]:
    """An engine on an empty store at the newest schema. A test's Slack app may still be
    working on it when the test ends (recording a load's outcome after the reply it waited
    for), so that work is finished before the store goes."""
    engine = open_store(store_url)
    try:
        yield engine
    finally:
        assert workers.drain(timeout=60), "background work still running 60 s after the test"
        engine.dispose()


@pytest.fixture
def cli_env(store_url: str, tmp_path: Path) -> dict[str, str]:
    """Environment for running `roasbot` as a subprocess against the test store."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "SLACK_"))}
    env["DATABASE_URL"] = store_url
    env["HOME"] = str(tmp_path)
    return env


def roasbot_executable() -> str:
    found = shutil.which("roasbot", path=str(Path(os.sys.executable).parent))
    assert found, "the roasbot console script is not installed next to this Python"
    return found


def load_fixture(url: str) -> None:
    engine = open_store(url)
    paths = sorted((FIXTURES / "metrics").glob("*.csv"))
    assert ingest_files(engine, [Upload.from_path(p) for p in paths]).ok
    engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_store(request, tmp_path_factory) -> Iterator[str]:
    """A store with the metrics fixture loaded, shared by a module's tests (a bot process per
    module serves it): SQLite, then PostgreSQL in a schema of its own."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'roasbot.db'}"
        load_fixture(url)
        yield url
        return
    server = request.getfixturevalue("pg_server")
    schema = f"e2e_{os.getpid()}_{int(time.time() * 1000) % 10**8}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = _schema_url(server, schema)
    load_fixture(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()
