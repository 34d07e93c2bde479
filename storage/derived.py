"""Every derived table rebuilt whole from the data, in the order they depend on each other.

Ingest keeps them up to date by itself; this is for rows written other than through ingest:
the upgrade that creates the tables on a store holding data, and tests that insert rows.
"""

from __future__ import annotations

from sqlalchemy import Connection

from storage import ledger_basis, tracking_rollups


def rebuild_all(conn: Connection) -> None:
    tracking_rollups.refresh(conn, None)
    ledger_basis.rebuild(conn)  # reads tracking_totals
