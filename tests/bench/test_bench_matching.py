"""`bench matching`: ours and the PostGIS baseline interleaved, CPU beside wall, rounds.

On PostGIS (DATABASE_URL) the baseline runs in a scratch table of the test database; on SQLite
only ours is measured. Figures are printed, never asserted as speeds.
"""

import argparse

import psycopg

from app.db import Database
from bench import matching, postgis_baseline
from bench.ranker import prepare


def _args(**overrides: object) -> argparse.Namespace:
    values: dict[str, object] = {
        "offerings": 3000,
        "queries": 6,
        "rounds": 2,
        "seed": 0,
        "baseline_url": None,
        "http": False,
        "partnerships": 0,
    }
    values.update(overrides)
    return argparse.Namespace(**values)


def test_bench_matching_ranks_with_a_synthetic_history_when_asked(database: Database):
    figures = matching.run(_args(partnerships=500, rounds=1), database)
    assert figures["partnerships"] == 500 and figures["mean_results"]["ours"] > 0


def test_bench_matching_reports_cpu_and_wall_per_round_with_their_spread(database: Database):
    figures = matching.run(_args(), database)
    assert figures["rounds"] == 2 and len(figures["per_round"]) == 2
    for key in ("ours_cpu_p50_ms", "ours_cpu_p95_ms", "ours_wall_p50_ms", "ours_wall_p95_ms"):
        spread = figures[key]
        assert 0 < spread["min"] <= spread["median"] <= spread["max"]
    assert figures["mean_results"]["ours"] > 0
    if not database.is_postgis:
        assert "cpu_ratio_p50" not in figures
        return
    # Both baseline forms answer the same question, so they return as many rows per school.
    assert figures["mean_results"]["distance"] == figures["mean_results"]["knn"] > 0
    assert figures["baseline_cpu_measured"] is True
    for key in ("cpu_ratio_p50", "cpu_ratio_p95"):
        spread = figures[f"{key}_spread"]
        assert spread["min"] <= figures[key] <= spread["max"] and figures[key] > 0


def test_the_baseline_forms_return_the_same_nearest_rows(database: Database):
    if not database.is_postgis:
        return  # the baseline is PostGIS only
    ours = prepare(3000, queries=8, seed=1)
    url = database.url.render_as_string(hide_password=False)
    with postgis_baseline.baseline(url, ours.table) as base:
        for p in matching._params(ours):
            rows = {
                form: base.connections[form].execute(sql, p).fetchall()
                for form, sql in postgis_baseline.FORMS.items()
            }
            assert [d for _, d in rows["distance"]] == [d for _, d in rows["knn"]]
    with psycopg.connect(postgis_baseline.dsn(url)) as conn:  # the scratch table is gone
        assert conn.execute("SELECT to_regclass(%s)", (postgis_baseline.TABLE,)).fetchone() == (
            None,
        )
