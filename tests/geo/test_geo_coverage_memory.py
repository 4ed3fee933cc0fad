"""Coverage at national scale holds tens of millions of pairs: its memory per pair is bounded,
and its sorted-key pass gives exactly what the pairwise lexsort gives (issue 15)."""

from __future__ import annotations

import sys
import tracemalloc

import numpy as np
import pytest

from geo import needs_coverage

coverage_module = sys.modules["geo.coverage"]  # `geo.coverage` is also a re-exported name


def _pairs(n_pairs: int, n_needs: int, n_off: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    need_school = np.sort(rng.integers(0, max(n_needs // 3, 1), n_needs))
    students = rng.integers(1, 400, n_needs).astype(np.float64)
    students[rng.random(n_needs) < 0.3] = np.nan
    schools_left = rng.integers(0, 6, n_off).astype(np.float64)
    schools_left[rng.random(n_off) < 0.5] = np.nan
    students_left = rng.integers(0, 500, n_off).astype(np.float64)
    students_left[rng.random(n_off) < 0.5] = np.nan
    return {
        "pair_need": rng.integers(0, n_needs, n_pairs).astype(np.int32),
        "pair_offering": rng.integers(0, n_off, n_pairs).astype(np.int32),
        "fit": rng.choice([0.3, 0.42, 0.6, 0.7, 0.95], n_pairs).astype(np.float32),
        "need_school": need_school,
        "need_students": students,
        "schools_left": schools_left,
        "students_left": students_left,
    }


FIELDS = [
    "counts",
    "share",
    "contribution",
    "schools_reached",
    "school_share",
    "estimated",
    "student_share",
    "offerings",
    "effective",
    "best_fit",
    "need_estimated",
    "status",
]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_sorted_key_gives_exactly_what_the_lexsort_of_the_pairs_gives(monkeypatch, seed):
    pairs = _pairs(20_000, 600, 150, seed)
    monkeypatch.setattr(coverage_module, "CHUNK", 97)  # many chunks, cut mid-offering
    by_key = needs_coverage(**pairs)
    monkeypatch.setattr(coverage_module, "KEY_LIMIT", 0)  # the key would not fit: lexsort
    by_lexsort = needs_coverage(**pairs)
    for field in FIELDS:
        assert np.array_equal(getattr(by_key, field), getattr(by_lexsort, field)), field
    # Two needs of one school served by one offering count it once, with the larger students.
    assert by_key.schools_reached.sum() < np.count_nonzero(by_key.counts)


def test_coverage_holds_about_its_outputs_per_pair_not_sorted_copies(monkeypatch):
    n_pairs = 1_000_000
    pairs = _pairs(n_pairs, 30_000, 20_000, 3)
    monkeypatch.setattr(coverage_module, "CHUNK", 1 << 14, raising=False)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        cover = needs_coverage(**pairs)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    # Its per-pair outputs are 17 bytes (counts, share, contribution); sorting the counting
    # pairs takes 8 more while they last. A lexsort of them with its sorted copies took ~60.
    assert len(cover.share) == n_pairs
    assert peak <= 26 * n_pairs + (8 << 20), f"{peak / n_pairs:.1f} bytes a pair"
