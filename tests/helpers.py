"""Small helpers shared by the store and ingest tests."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, func, select

from storage import models
from storage.ingest import BatchResult, Options, Origin, Upload, ingest_files

DATA_TABLES = (models.influencers, models.posts, models.tracking, models.payouts)

INFLUENCERS_CSV = """influencer_id,name,category,gender,follower_count,platform
INF1,Asha Rao,Fitness,Female,12500,Instagram
INF2,Ravi Kumar,Health,Male,1200000,YouTube
INF3,Meera Iyer,Kids,Female,8000,Twitter
"""

POSTS_CSV = """post_id,influencer_id,platform,date,reach,likes,comments,url,caption
P1,INF1,Instagram,2025-01-05,10000,500,40,https://instagram.com/p/1,"Whey, the best"
P2,INF2,YouTube,2025-01-06,200000,9000,800,,
"""

TRACKING_CSV = """source,influencer_id,brand,product,date,orders,revenue,campaign
influencer,INF1,MuscleBlaze,Biozyme Whey,2025-01-05,2,6598.00,MB-Jan
influencer,INF2,HKVitals,Fish Oil,2025-01-06,3,2097.00,HKV-Jan
organic,,MuscleBlaze,Biozyme Whey,2025-01-05,10,32990.00,
"""

PAYOUTS_CSV = """payout_id,influencer_id,basis,rate,orders,total_payout,payout_date,campaign,brand
PAY1,INF1,post,5000,,5000,2025-01-31,MB-Jan,MuscleBlaze
PAY2,INF2,order,100,3,300,2025-01-31,HKV-Jan,HKVitals
"""


def write(tmp_path: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode(encoding)
    path.write_bytes(content)
    return path


def load(engine: Engine, *paths: Path, **options) -> BatchResult:
    return ingest_files(
        engine, [Upload.from_path(p) for p in paths], Origin("cli", "tester"), Options(**options)
    )


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in DATA_TABLES
        }


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every data table, in a stable order: 'the store as it was'."""
    with engine.connect() as conn:
        return {t.name: sorted(tuple(r) for r in conn.execute(select(t))) for t in DATA_TABLES}


def rows(engine: Engine, table, *columns) -> list[tuple]:
    with engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(select(*(table.c[c] for c in columns))))
