"""Writing many rows into a table without its secondary indexes, then putting them back.

Building an index from rows already written sorts them once; keeping it up to date row by row
touches a random page per row. Measured on PostgreSQL 15 with 1.08 M tracking rows: the upsert
into the indexed table took 11.0 s, a plain INSERT into a key-less one 2.4 s, then its primary
key 1.1 s, its two indexes 1.6 s and its foreign key 0.3 s (one anti-join instead of a trigger
per row). Writing the 562 k rows of `influencer_days` took 7.8 s with its two indexes and 4.3 s
without, their rebuild 0.5 s.

The indexes (and on PostgreSQL the foreign keys) are dropped and put back from the catalog's
own definitions (`pg_get_indexdef`, `pg_get_constraintdef`, `sqlite_master.sql`) inside the
caller's transaction, so a failure midway leaves the table as it was. DROP INDEX takes the
table's exclusive lock until the commit: readers wait for the rows rather than seeing a
half-written table, which is why only writes that replace most of a table take this path.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, Table, literal, select, text

# Sort memory for rebuilding the indexes (the server's, not this process's): PostgreSQL's
# default of 64 MB spills 1 M keys to disk.
_INDEX_BUILD_MEMORY = "256MB"
# Sort and hash memory for the grouped scans and hash joins over a whole big load (the
# server's): with the default 4 MB they spill to disk.
_WORK_MEMORY = "128MB"


@dataclass(frozen=True)
class DeferredIndexes:
    """A table's secondary indexes (and PostgreSQL foreign keys) as statements that drop them
    and statements that put them back exactly as the catalog defines them."""

    table: str
    drop: list[str]
    restore: list[str]
    empty: bool  # the primary key is deferred too: a plain INSERT, no conflict possible

    @classmethod
    def read(cls, conn: Connection, table: str, empty: bool) -> DeferredIndexes:
        """`empty`: the table holds no row and nothing refers to it, so on PostgreSQL its
        primary key is deferred too (the caller makes the keys distinct first, so rebuilding it
        cannot fail), 1.1 s against 3 s of INSERT for 1 M rows; SQLite's is part of its table."""
        q = conn.dialect.identifier_preparer.quote
        if conn.dialect.name != "postgresql":
            indexes = conn.execute(
                text(
                    "SELECT name, sql FROM sqlite_master "
                    "WHERE type = 'index' AND tbl_name = :t AND sql IS NOT NULL"
                ),
                {"t": table},
            ).all()
            drop = [f"DROP INDEX {q(n)}" for n, _ in indexes]
            return cls(table, drop, [d for _, d in indexes], empty)
        target = q(table)
        indexes = conn.execute(
            text(
                "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = CAST(:t AS regclass) "
                "AND NOT i.indisprimary AND NOT i.indisunique"
            ),
            {"t": target},
        ).all()
        keys = conn.execute(
            text(
                "SELECT contype = 'p', conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = CAST(:t AS regclass) AND (contype = 'f' OR contype = 'p' "
                "AND :empty AND NOT EXISTS (SELECT 1 FROM pg_constraint r "
                "WHERE r.confrelid = CAST(:t AS regclass)))"
            ),
            {"t": target, "empty": empty},
        ).all()
        primary = [(n, d) for is_primary, n, d in keys if is_primary]
        foreign = [(n, d) for is_primary, n, d in keys if not is_primary]
        return cls(
            table,
            [f"ALTER TABLE {target} DROP CONSTRAINT {q(n)}" for _, n, _ in keys]
            + [f"DROP INDEX {q(n)}" for n, _ in indexes],
            [f"ALTER TABLE {target} ADD CONSTRAINT {q(n)} {d}" for n, d in primary]
            + [d for _, d in indexes]
            + [f"ALTER TABLE {target} ADD CONSTRAINT {q(n)} {d}" for n, d in foreign],
            empty,
        )

    def apply(self, conn: Connection) -> None:
        for statement in self.drop:
            conn.execute(text(statement))

    def put_back(self, conn: Connection) -> None:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"SET LOCAL maintenance_work_mem = '{_INDEX_BUILD_MEMORY}'"))
        for statement in self.restore:
            conn.execute(text(statement))


def more_work_memory(conn: Connection) -> None:
    """For the rest of this transaction on PostgreSQL, room to sort and hash a whole big load
    in memory (SQLite has no such setting)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"SET LOCAL work_mem = '{_WORK_MEMORY}'"))


@contextmanager
def sorted_grouping(conn: Connection) -> Iterator[None]:
    """Around one statement on PostgreSQL that groups a whole load into nearly as many groups
    and writes them in key order: group by sorting instead of hashing.

    The planner expects few groups of `influencer_days` (it cannot see through the UNION of
    sales and posts) and hashes them: 562 k groups of 1.07 M rows took a 266 MB hash table that
    spilled in 5 batches, then a sort for the order of writing, 4.1 s; one sort feeding the
    grouping took 2.5-2.9 s. The rollups of tracking hash faster than they sort (tracking_totals
    1.2 s against 2.3 s), so this is per statement: the setting is restored afterwards.
    """
    if conn.dialect.name != "postgresql":
        yield
        return
    before = conn.execute(text("SELECT current_setting('enable_hashagg')")).scalar_one()
    conn.execute(text("SET LOCAL enable_hashagg = off"))
    yield
    conn.execute(text("SELECT set_config('enable_hashagg', :v, true)"), {"v": before})


def analyze(conn: Connection, table: str) -> None:
    """Statistics of `table`, after writing most of its rows, for what reads it next.

    PostgreSQL would otherwise plan the rebuilds of the derived tables on the table's size
    before the load. SQLite keeps none unless asked, and without them reads `influencer_id IS
    NOT NULL` through that column's index, a random row per entry: the 1.08 M-row rebuild of
    weekly_sales took 4.6 s that way and 2.6 s scanning the table. Sampled there (1,000 rows
    per index), it takes 3 ms.
    """
    name = conn.dialect.identifier_preparer.quote(table)
    if conn.dialect.name != "postgresql":
        conn.execute(text("PRAGMA analysis_limit = 1000"))
    conn.execute(text(f"ANALYZE {name}"))


@contextmanager
def refilled(conn: Connection, table: Table) -> Iterator[None]:
    """Around deleting every row of a derived table and writing it again.

    A table that was empty (a first load) is written without its secondary indexes, which are
    built afterwards; one that held rows keeps them, so readers go on reading the rows of the
    last commit meanwhile instead of waiting for this one.
    """
    empty = conn.execute(select(literal(1)).select_from(table).limit(1)).first() is None
    deferred = DeferredIndexes.read(conn, table.name, empty=False) if empty else None
    if deferred is not None:
        deferred.apply(conn)
    yield
    if deferred is not None:
        deferred.put_back(conn)
