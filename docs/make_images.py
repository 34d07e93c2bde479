"""Regenerates the chart images in docs/img/ from the sample data:

    .venv/bin/python docs/make_images.py

The sample data has a fixed end date and seed, so the images change only when the charts or the
answers do, and a diff of docs/img/ in review shows exactly that. The target is 2.0x rather than
the default 1.0x so the images show all three bar colours.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from bot.charts import render_chart
from bot.text import answer_text
from insights.engine import Thresholds, answer
from insights.query import parse
from sample_data.generator import generate
from storage.db import open_store
from storage.ingest import Upload, ingest_files

END_DATE = dt.date(2026, 11, 20)
TARGET = 2.0
IMAGES = {
    "roas_by_brand.png": "/roas by=brand",
    "roas_by_influencer.png": "/roas",
    "underperformers.png": "/underperformers",
    "personas.png": "/personas min_influencers=1",
    "trend.png": "/trend",
    "why.png": "/roas why period=last_30d",
}
OUT = Path(__file__).resolve().parent / "img"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        paths = generate(Path(tmp) / "csv", end_date=END_DATE, seed=7)
        db = open_store(f"sqlite:///{tmp}/sample.db")
        ingest_files(db, [Upload.from_path(p) for p in paths.values()])
        today = END_DATE + dt.timedelta(days=1)
        for name, command in IMAGES.items():
            result = answer(db, parse(command, today), Thresholds(roas_target=TARGET))
            png = render_chart(result, target=TARGET)
            if png is None:
                raise SystemExit(f"{command}: no chart, so {name} would be stale")
            (OUT / name).write_bytes(png)
            print(f"== {OUT / name} ({len(png) / 1024:.0f} KiB) <- {command}")
            print(answer_text(result))
            print()
        db.dispose()


if __name__ == "__main__":
    main()
