"""The minimal endpoint `bench http` compares ours with: FastAPI running the plain PostGIS query
(bench.postgis_baseline.FORMS, 20 rows; the KNN form by default, the cheaper of the two in
`bench matching`, or BENCH_FORM=distance) on a pooled connection, nothing else.

    BENCH_BASELINE_URL=postgresql+psycopg://… uvicorn bench.minimal_app:app
"""

from __future__ import annotations

import os
from typing import Annotated, Any

from fastapi import FastAPI, Query
from sqlalchemy import create_engine, text

from bench.postgis_baseline import FORMS

engine = create_engine(os.environ["BENCH_BASELINE_URL"], pool_size=16, max_overflow=4)
# psycopg's %(name)s placeholders as SQLAlchemy :name ones.
FORM = os.environ.get("BENCH_FORM", "knn")
STATEMENT = text(FORMS[FORM].replace("%(", ":").replace(")s", ""))
app = FastAPI()


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/nearby")
def nearby(
    lat: float, lon: float, r: float, cats: Annotated[list[str], Query()]
) -> list[dict[str, Any]]:
    """The 20 nearest offerings within r metres sharing a category with the need."""
    with engine.connect() as conn:
        rows = conn.execute(STATEMENT, {"lat": lat, "lon": lon, "r": r, "cats": cats})
        return [{"id": row.id, "distance_m": row.d} for row in rows]
