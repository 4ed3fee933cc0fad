"""GDAL's OAPIF driver, the client QGIS uses, against a real server on the test database:
ogrinfo lists the collections, ogr2ogr copies each public one into a GeoPackage whole.

Skipped when GDAL is not installed (apt-get install gdal-bin), except in CI (CI=true), where a
missing GDAL fails the test so the check cannot silently disappear."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from app.auth.principal import KEY_READ
from app.db import Database
from app.main import create_app
from app.settings import Settings
from tests.api.test_ogc import PUBLIC, populate
from tests.auth.world import World
from tests.conftest import empty_tables


def _require_gdal() -> None:
    if shutil.which("ogrinfo") and shutil.which("ogr2ogr"):
        return
    if os.environ.get("CI") == "true":
        pytest.fail("CI must run GDAL's OAPIF check: apt-get install gdal-bin")
    pytest.skip("GDAL's ogrinfo and ogr2ogr are not on PATH (apt-get install gdal-bin)")


@pytest.fixture(scope="module")
def served(database: Database) -> Iterator[tuple[str, World]]:
    """The app served by uvicorn on a free loopback port, with the OGC test data."""
    _require_gdal()
    empty_tables(database)
    world = populate(database)
    settings = Settings(
        warm_ranking_index=False,
        database_url=str(database.url.render_as_string(hide_password=False)),
        rate_limit_per_minute_ip=0,
        rate_limit_per_minute_key=0,
    )
    app = create_app(settings, database=database)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    # lifespan off: its shutdown would dispose of the suite's shared database engine.
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", world
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        empty_tables(database)


def _gdal(*args: str, key: str | None = None) -> str:
    env = {**os.environ, "GDAL_HTTP_HEADERS": f"X-API-Key: {key}"} if key else None
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _matched(base: str, collection: str, key: str | None = None) -> int:
    headers = {"X-API-Key": key} if key else {}
    url = f"{base}/ogc/collections/{collection}/items?limit=1"
    return int(httpx.get(url, headers=headers, timeout=30).json()["numberMatched"])


def _rows(gpkg: Path) -> int:
    with sqlite3.connect(gpkg) as connection:
        (table,) = connection.execute("SELECT table_name FROM gpkg_contents").fetchone()
        return int(connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])


def test_ogrinfo_lists_the_public_collections_as_point_layers(served):
    base, _ = served
    listing = _gdal("ogrinfo", "-ro", "-so", f"OAPIF:{base}/ogc")
    for n, collection in enumerate(PUBLIC, start=1):
        assert f"{n}: {collection} " in listing and "(Point)" in listing
    assert "gaps" not in listing and "deserts" not in listing
    summary = _gdal("ogrinfo", "-ro", "-so", f"OAPIF:{base}/ogc", "schools")
    assert f"Feature Count: {_matched(base, 'schools')}" in summary


@pytest.mark.parametrize("collection", PUBLIC)
def test_ogr2ogr_copies_each_public_collection_whole(served, tmp_path, collection):
    base, _ = served
    gpkg = tmp_path / f"{collection}.gpkg"
    _gdal("ogr2ogr", "-f", "GPKG", str(gpkg), f"OAPIF:{base}/ogc", collection)
    assert _rows(gpkg) == _matched(base, collection) > 10  # more than one default page


def test_a_district_key_reads_its_gap_analysis_into_a_geopackage(served, tmp_path):
    base, world = served
    key = world.headers[KEY_READ]["X-API-Key"]
    listing = _gdal("ogrinfo", "-ro", "-so", f"OAPIF:{base}/ogc", key=key)
    assert "4: gaps" in listing and "5: deserts" in listing
    for collection in ("gaps", "deserts"):
        gpkg = tmp_path / f"{collection}.gpkg"
        _gdal("ogr2ogr", "-f", "GPKG", str(gpkg), f"OAPIF:{base}/ogc", collection, key=key)
        assert _rows(gpkg) == _matched(base, collection, key) == 1
