"""The schema: migrations reach head by themselves, concurrently, with the keys queries need."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import create_engine, inspect, text

from storage.db import create_store_engine, current_revision, head_revision, open_store, upgrade
from tests import postgres


def test_a_new_store_is_brought_to_head_by_opening_it(store_url):
    engine = open_store(store_url)
    try:
        assert current_revision(engine) == head_revision()
        assert upgrade(engine) is False  # nothing left to do
        tables = set(inspect(engine).get_table_names())
        assert {"influencers", "posts", "tracking", "payouts", "uploads"} <= tables
    finally:
        engine.dispose()


def test_foreign_keys_and_indexes_on_what_queries_filter_by(store):
    insp = inspect(store)
    for table in ("posts", "tracking", "payouts"):
        [fk] = insp.get_foreign_keys(table)
        assert fk["referred_table"] == "influencers"
        assert fk["constrained_columns"] == ["influencer_id"]
    indexed = {i["column_names"][0] for i in insp.get_indexes("tracking")}
    # Answers read the derived tables; tracking is read by date and influencer only (0009).
    assert indexed == {"date", "influencer_id"}
    assert {"date", "influencer_id"} <= {i["column_names"][0] for i in insp.get_indexes("posts")}
    assert insp.get_pk_constraint("tracking")["constrained_columns"] == ["row_key"]


def test_foreign_keys_are_enforced(store):
    import pytest
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), store.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO posts (post_id, influencer_id, platform, date, reach, likes, "
                "comments) VALUES ('P', 'nobody', 'Instagram', '2025-01-01', 1, 1, 1)"
            )
        )


_UPGRADE = "import sys; from storage.db import create_store_engine, upgrade; " \
    "print(upgrade(create_store_engine(sys.argv[1])))"  # fmt: skip


def test_concurrent_upgrades_on_postgresql_all_succeed_and_one_migrates(pg_url):
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _UPGRADE, pg_url], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(6)
    ]
    outcomes = [(*p.communicate(timeout=120), p.returncode) for p in procs]
    assert [rc for _, _, rc in outcomes] == [0] * 6, [err.decode() for _, err, _ in outcomes]
    ran = [out.decode().strip() for out, _, _ in outcomes]
    assert sorted(ran) == ["False"] * 5 + ["True"]
    engine = create_store_engine(pg_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    engine.dispose()


def test_a_throwaway_cluster_can_be_started_when_no_server_answers():
    # The fallback `make test` uses on a machine with PostgreSQL binaries but no server.
    with postgres.local_cluster() as url:
        engine = create_engine(url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
        engine.dispose()
        engine = open_store(url)
        assert current_revision(engine) == head_revision()
        engine.dispose()
