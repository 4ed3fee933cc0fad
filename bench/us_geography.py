"""Seeded synthetic schools and offerings over the real geography of US schools, for scale
benchmarks of the gap analysis (FOR BENCHMARKS ONLY).

Real coordinates come from the Texas campus directory (NCES CCD, /work/shared/data/texas by
default or $PARTNERMAP_TEXAS_DIR: ~9,300 campuses with their locale and district) and the
Oakland demo's schools. To reach national counts the Texas layout is replicated: copy k is
shifted onto one of 12 tiles covering the contiguous US (4 columns x 3 rows, Texas-sized, so
the density of schools stays Texas's, about the country's) and jittered 1 km; copies past 12
reuse the tiles with a further 2 km jitter (denser). Each copy is its own set of districts.
Offerings are placed near schools drawn at random (Gaussian offset of the school's locale
scale: 3 km city .. 15 km rural), so partners sit where schools are; their other fields, and
the schools' needs, come from bench.synthetic. Same (n, seed) -> same tables.
"""

from __future__ import annotations

import csv
import os
from dataclasses import replace
from functools import cache
from pathlib import Path

import numpy as np

from app.demo.oakland import load_oakland
from bench.synthetic import synthetic_offerings, synthetic_schools
from matching.tables import OfferingTable, SchoolTable

TEXAS_DIR = Path(os.environ.get("PARTNERMAP_TEXAS_DIR", "/work/shared/data/texas"))
# Tile offsets (degrees lon, lat) moving Texas (centre ~ -99.3, 31.2) over the lower 48.
TILES = [(dx, dy) for dy in (0.0, 7.0, 13.0) for dx in (-17.0, -4.0, 9.0, 22.0)]
LOCALES = {"1": "city", "2": "suburb", "3": "town", "4": "rural"}
SPREAD_KM = {"city": 3.0, "suburb": 5.0, "town": 8.0, "rural": 15.0}
KM_PER_DEGREE = 111.2


@cache
def real_schools() -> tuple[np.ndarray, np.ndarray, tuple[str, ...], tuple[str, ...]]:
    """(lat, lon, locale, district) of the Texas directory's campuses and Oakland's schools."""
    lat, lon, locale, district = [], [], [], []
    with open(TEXAS_DIR / "tx-campuses-ccd.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            try:
                y, x = float(row["LATCOD"]), float(row["LONCOD"])
            except ValueError:
                continue
            lat.append(y)
            lon.append(x)
            locale.append(LOCALES.get(row["ULOCAL"][:1], "suburb"))
            district.append(row["LEANM"])
    for s in load_oakland().schools:
        lat.append(s.lat)
        lon.append(s.lon)
        locale.append(s.locale)
        district.append("Oakland Unified School District")
    return np.array(lat), np.array(lon), tuple(locale), tuple(district)


def national_schools(n: int, seed: int, codes: list[str]) -> tuple[SchoolTable, list[str]]:
    """n schools at replicated, jittered real school positions, with their district names."""
    lat0, lon0, locale0, district0 = real_schools()
    rng = np.random.default_rng(seed)
    base = len(lat0)
    row = np.arange(n) % base
    copy = np.arange(n) // base
    dx = np.array([TILES[k % len(TILES)][0] for k in copy])
    dy = np.array([TILES[k % len(TILES)][1] for k in copy])
    jitter_km = np.where(copy < len(TILES), 1.0, 2.0)
    lat = lat0[row] + dy + rng.normal(0, 1, n) * jitter_km / KM_PER_DEGREE
    lon = lon0[row] + dx + rng.normal(0, 1, n) * jitter_km / KM_PER_DEGREE / np.cos(np.radians(lat))
    locale = [locale0[i] for i in row.tolist()]
    districts = [f"{district0[i]} #{k}" for i, k in zip(row.tolist(), copy.tolist(), strict=True)]
    table = replace(synthetic_schools(n, seed, codes), lat=lat, lon=lon, locale=locale)
    return table, districts


def national_offerings(
    m: int, seed: int, codes: list[str], schools: SchoolTable, virtual_share: float
) -> OfferingTable:
    """m offerings near schools drawn at random; `virtual_share` of them deliver virtually."""
    rng = np.random.default_rng(seed)
    near = rng.integers(0, len(schools), m)
    spread = np.array([SPREAD_KM[schools.locale[i]] for i in near.tolist()]) / KM_PER_DEGREE
    lat = schools.lat[near] + rng.normal(0, 1, m) * spread
    lon = schools.lon[near] + rng.normal(0, 1, m) * spread / np.cos(np.radians(lat))
    table = synthetic_offerings(m, seed, codes)
    # bench.synthetic's 10 % virtual is one virtual partner per 10 local ones; nationally
    # a virtual programme serves the whole country, so far fewer are drawn.
    virtual = rng.random(m) < virtual_share
    delivery = [
        set(d) | {"virtual"} if v else (set(d) - {"virtual"}) or {"at_partner_site"}
        for d, v in zip(table.delivery, virtual.tolist(), strict=True)
    ]
    return replace(table, lat=lat, lon=lon, delivery=[frozenset(d) for d in delivery])
