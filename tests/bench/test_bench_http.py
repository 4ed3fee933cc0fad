"""`bench http`: the goal's ratios come from the cold server only (ours with its result cache
off); the warm server's figures are reported apart and never mixed into them; the minimal
endpoint's module loads (it failed on a renamed import before)."""

import importlib
import sys

from bench import http_compare


def _phase(cpu_ms: float, rps: float, n: int = 10) -> dict:
    return {"latencies": [1.0] * n, "cpu_ms": cpu_ms, "rps": rps, "wall_s": 1.0}


def _round(ours: float, minimal: float, warm: float | None) -> dict:
    out = {
        "1": {"ours": _phase(ours, 100), "minimal": _phase(minimal, 400)},
        "16": {"ours": _phase(ours, 100), "minimal": _phase(minimal, 400)},
    }
    if warm is not None:
        out["1"][http_compare.WARM] = _phase(warm, 1000)
        out["16"][http_compare.WARM] = _phase(warm, 1000)
    return out


def test_the_goals_ratios_are_the_cold_servers_and_the_warm_row_stands_apart():
    rounds = [_round(4.0, 1.0, 0.5), _round(3.0, 1.0, 0.5), _round(5.0, 1.0, 0.5)]
    summary = http_compare._summary(rounds, first_s=1.0)
    assert summary["cpu_per_request_ratio"] == 4.0
    assert summary["throughput_ratio_16"] == 0.25
    assert summary["warm_cpu_per_request_ratio"] == 0.5
    assert summary["warm_throughput_ratio_16"] == 2.5
    assert summary["ours_1"]["cpu_ms_per_request"]["median"] == 4.0
    assert summary[f"{http_compare.WARM}_1"]["cpu_ms_per_request"]["median"] == 0.5


def test_without_the_warm_server_there_is_no_warm_row():
    summary = http_compare._summary([_round(4.0, 1.0, None)], first_s=1.0)
    assert summary["cpu_per_request_ratio"] == 4.0
    assert not any(key.startswith("warm") or http_compare.WARM in key for key in summary)


def test_the_minimal_endpoint_loads_with_the_baselines_query(monkeypatch):
    monkeypatch.setenv("BENCH_BASELINE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    sys.modules.pop("bench.minimal_app", None)
    module = importlib.import_module("bench.minimal_app")
    assert "ST_DWithin" in str(module.STATEMENT)
    assert any(route.path == "/nearby" for route in module.app.routes)


def test_the_database_backends_cpu_stands_beside_the_goals_figure():
    rounds = [_round(4.0, 1.0, None), _round(4.0, 1.0, None)]
    for r in rounds:
        for clients in ("1", "16"):
            r[clients]["ours"]["db_cpu_ms"] = 0.0  # SQLite: no backends
            r[clients]["minimal"]["db_cpu_ms"] = 1.0
    summary = http_compare._summary(rounds, first_s=1.0)
    assert summary["cpu_per_request_ratio"] == 4.0  # the server processes' alone, unchanged
    assert summary["cpu_with_db_per_request_ratio"] == 2.0  # (4 + 0) / (1 + 1)
    assert summary["minimal_1"]["db_cpu_ms_per_request"]["median"] == 1.0


def test_backends_that_could_not_be_read_give_no_database_figure():
    rounds = [_round(4.0, 1.0, None)]
    for clients in ("1", "16"):
        rounds[0][clients]["ours"]["db_cpu_ms"] = None
        rounds[0][clients]["minimal"]["db_cpu_ms"] = None
    summary = http_compare._summary(rounds, first_s=1.0)
    assert "cpu_with_db_per_request_ratio" not in summary
    assert "db_cpu_ms_per_request" not in summary["ours_1"]


def test_a_backends_cpu_counts_from_its_start_when_it_opened_during_the_phase():
    before = {10: 5_000_000}
    after = {10: 6_000_000, 11: 2_000_000}  # 11 opened during the phase
    assert http_compare._Backends.spent_s(before, after) == 0.003
    assert http_compare._Backends.spent_s(None, after) is None
