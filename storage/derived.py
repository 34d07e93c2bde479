"""The derived tables: what a load touches, and every table rebuilt whole.

Ingest keeps the derived tables (storage.tracking_rollups, storage.ledger_basis,
storage.influencer_rollups) up to date in the loading transaction by recomputing only the
partitions a load touches: the influencers and days of the rows it writes, old values and new.
`rebuild_all` is for rows written other than through ingest: the upgrade that creates the tables
on a store holding data, and tests that insert rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Connection

from storage import bulk, influencer_rollups, ledger_basis, models, tracking_rollups

if TYPE_CHECKING:
    from storage.ingest.load import Stager

# Above this many staged rows a load rebuilds the derived tables whole: one grouped scan is then
# cheaper than finding the old values of that many rows, and the lists of touched values long.
FULL_REBUILD_ROWS = 50_000


def touched(stager: Stager, columns: tuple[str, ...]) -> dict[str, set] | None:
    """Before the upsert: per column, the values among the staged rows and the rows they will
    replace (None for a NULL); None when the load is big enough to rebuild everything."""
    if stager.staged > FULL_REBUILD_ROWS:
        return None
    return {column: stager.touched(column) for column in columns}


def make_room_for_full_rebuild(conn: Connection) -> None:
    """Before rebuilding the derived tables whole. On PostgreSQL, sort and hash memory for this
    transaction (the server's): with the default 4 MB the grouped scans of 1 M rows spill to
    disk; tracking_totals' took 2.7 s that way and 1.7 s in memory (36 MB of hash table). On
    SQLite, statistics of tracking, which it keeps only when asked (`bulk.analyze`; after a
    bulk load, which took them already, this costs its 3 ms again: simpler than tracking
    whether they are current)."""
    bulk.more_work_memory(conn)
    if conn.dialect.name != "postgresql":
        bulk.analyze(conn, models.tracking.name)


def refresh_influencers(conn: Connection, influencers: set[str] | None) -> None:
    """After a file's rows and the rollups of tracking: every table kept per influencer, for
    `influencers` (None: all), in the order they read each other."""
    ledger_basis.rebuild(conn, influencers)  # reads tracking_totals
    influencer_rollups.rebuild(conn, influencers)  # reads cost_rates


def rebuild_all(conn: Connection) -> None:
    tracking_rollups.refresh(conn, None)
    refresh_influencers(conn, None)
