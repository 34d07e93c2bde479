"""Opening the store: engine creation and bringing the schema to the newest migration.

Every command that touches the store goes through `open_store`, so a new database is usable
without a separate set-up step. On PostgreSQL several processes (two `roasbot serve`, a deploy
running `roasbot db upgrade`) may start at once; the upgrade runs under a transaction-scoped
advisory lock so exactly one of them migrates and the others wait, then find nothing to do.

On SQLite, a transaction that begins deferred (plain `BEGIN`) and writes after reading cannot
wait for another writer: when that writer commits, its snapshot is stale and SQLite answers
"database is locked" at once, whatever the busy timeout. So every `engine.begin()` (which is
how roasbot writes) starts `BEGIN IMMEDIATE`, taking the write lock first and waiting up to
`SQLITE_BUSY_TIMEOUT_S` for it; `engine.connect()` (how roasbot reads) stays deferred, so
queries keep reading their WAL snapshot during a long load instead of queueing behind it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from storage import derived

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# The newest migration that adds or changes a derived table (storage.derived). A store upgraded
# across it gets every derived row rebuilt once the schema is at head, in the same transaction:
# the rebuild is today's code, so it must run on today's schema, never inside an old migration.
DERIVED_TABLES_REVISION = "0006"
# Arbitrary constants that name roasbot's advisory locks: the schema upgrade, and the loads.
_UPGRADE_LOCK_ID = 0x524F4153  # "ROAS"
LOAD_LOCK_ID = 0x524F4154
# How long a SQLite writer waits for another one to commit: longer than a big file's load (a
# million tracking rows take about 25 s), so a write during a load waits instead of failing.
SQLITE_BUSY_TIMEOUT_S = 300
_WRITER = "roasbot_writer"  # execution option marking a connection opened by engine.begin()


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The newest migration this code knows."""
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


PG_CONNECT_TIMEOUT_S = 5


def create_store_engine(url: str) -> Engine:
    """An engine for `url` with the per-dialect settings roasbot relies on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        engine.begin = _writer_begin(engine)  # type: ignore[method-assign]
        return engine
    # A server that does not answer fails in seconds, not after the kernel's TCP timeout.
    return create_engine(
        parsed, pool_pre_ping=True, connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_S}
    )


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # pysqlite's own transaction handling skips DDL and defers BEGIN; taking it over (the recipe in
    # SQLAlchemy's SQLite docs) makes a file's load one real transaction. Foreign keys are off by
    # default in SQLite; WAL lets readers work during a long load.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    writer = conn.get_execution_options().get(_WRITER, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")


def _writer_begin(engine: Engine):
    """`Engine.begin` whose connection is marked as a writer for `_sqlite_begin`."""

    @contextlib.contextmanager
    def begin() -> Iterator[Connection]:
        with engine.connect() as conn:
            conn.execution_options(**{_WRITER: True})
            with conn.begin():
                yield conn

    return begin


def one_at_a_time(conn: Connection, lock: int) -> None:
    """Wait until no other transaction on this store holds `lock`, and hold it until this one
    ends. On PostgreSQL it is an advisory lock per schema: writers of the same store queue,
    stores in other schemas of the same database (tests, tenants) do not, and readers never
    wait for it. On SQLite the writer's `BEGIN IMMEDIATE` has already queued them."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("SELECT pg_advisory_xact_lock(:id, hashtext(current_schema()))"), {"id": lock}
        )


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at (None for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> bool:
    """Bring the schema to head; returns whether any migration ran."""
    head = head_revision()
    if current_revision(engine) == head:
        return False
    with engine.begin() as conn:
        one_at_a_time(conn, _UPGRADE_LOCK_ID)
        # Re-read under the lock: another process may have migrated while we waited.
        if MigrationContext.configure(conn).get_current_revision() == head:
            return False
        config = _alembic_config()
        config.attributes["connection"] = conn
        before = MigrationContext.configure(conn).get_current_revision()
        command.upgrade(config, "head")
        script = ScriptDirectory.from_config(config)
        applied = {r.revision for r in script.iterate_revisions("head", before or "base")}
        if DERIVED_TABLES_REVISION in applied:
            derived.rebuild_all(conn)
    return True


def open_store(url: str) -> Engine:
    """An engine on a store whose schema is at head."""
    engine = create_store_engine(url)
    upgrade(engine)
    return engine
