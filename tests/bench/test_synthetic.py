"""The synthetic generator (scale benchmarks only) and the benchmark function."""

import json

import numpy as np

from bench.ranker import bench_rank, main
from bench.synthetic import (
    CONUS_BBOX,
    synthetic_history,
    synthetic_offerings,
    synthetic_schools,
    synthetic_taxonomy,
)

PARENTS, NAMES = synthetic_taxonomy()
CODES = list(PARENTS)


def test_the_same_seed_gives_the_same_offerings_and_another_seed_does_not():
    a = synthetic_offerings(500, 3, CODES)
    b = synthetic_offerings(500, 3, CODES)
    c = synthetic_offerings(500, 4, CODES)
    assert np.array_equal(a.lat, b.lat) and list(a.texts) == list(b.texts)
    assert list(a.categories) == list(b.categories)
    assert not np.array_equal(a.lat, c.lat)


def test_offerings_stay_in_the_bbox_and_use_the_taxonomy():
    table = synthetic_offerings(2000, 1, CODES)
    x0, y0, x1, y1 = CONUS_BBOX
    assert ((table.lon >= x0) & (table.lon <= x1) & (table.lat >= y0) & (table.lat <= y1)).all()
    assert {code for cats in table.categories for code in cats} <= set(CODES)
    assert (table.grade_low <= table.grade_high).all()
    virtual = np.mean(["virtual" in d for d in table.delivery])
    assert 0.05 < virtual < 0.15  # documented: 10 %


def test_schools_have_one_to_five_needs_with_distinct_priorities():
    schools = synthetic_schools(50, 2, CODES)
    assert len(schools) == 50
    for needs in schools.needs:
        assert 1 <= len(needs) <= 5
        assert sorted(n.priority for n in needs) == list(range(1, len(needs) + 1))
    assert ((schools.need_index >= 0) & (schools.need_index <= 1)).all()


def test_bench_rank_reports_its_figures():
    figures = bench_rank(3000, queries=5)
    for key in ("build_s", "rss_growth_mb", "peak_rss_mb", "p50_ms", "p95_ms", "max_ms"):
        assert figures[key] >= 0
    assert figures["n_offerings"] == 3000 and figures["mean_results"] > 0


def test_the_bench_command_prints_one_json_line(capsys):
    main(["--offerings", "1000", "--queries", "3"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["queries"] == 3


def test_a_synthetic_history_is_seeded_and_its_schools_keep_their_place():
    offerings = synthetic_offerings(3000, 1, CODES)
    a, b = synthetic_history(offerings, 400, 5), synthetic_history(offerings, 400, 5)
    assert np.array_equal(a.lat, b.lat) and a.categories == b.categories
    assert len(a) == 400 and set(a.organization_ids) <= set(offerings.organization_ids)
    # A school that had several partners is one place; most schools are new.
    place = {}
    for school, lat, lon in zip(a.school_ids, a.lat, a.lon, strict=True):
        assert place.setdefault(int(school), (lat, lon)) == (lat, lon)
    assert 250 < len(place) < 400
    assert all(1 <= len(c) <= 2 for c in a.categories)
    assert a.need_index is not None and ((a.need_index >= 0) & (a.need_index <= 1)).all()
