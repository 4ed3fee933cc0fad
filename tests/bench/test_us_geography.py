"""The national benchmark's synthetic schools sit on real school positions, replicated by tile."""

import numpy as np
import pytest

from bench.synthetic import synthetic_taxonomy
from bench.us_geography import TEXAS_DIR, TILES, national_offerings, national_schools, real_schools

pytestmark = pytest.mark.skipif(
    not (TEXAS_DIR / "tx-campuses-ccd.csv").exists(), reason="Texas directory not present"
)
CODES = list(synthetic_taxonomy()[0])


def test_the_same_seed_gives_the_same_schools_and_offerings():
    first, districts = national_schools(500, 3, CODES)
    again, districts_again = national_schools(500, 3, CODES)
    assert np.array_equal(first.lat, again.lat) and districts == districts_again
    a = national_offerings(300, 4, CODES, first, 0.01)
    b = national_offerings(300, 4, CODES, first, 0.01)
    assert np.array_equal(a.lon, b.lon) and list(a.delivery) == list(b.delivery)


def test_copies_past_the_directory_are_shifted_tiles_of_it_within_a_few_km():
    lat0, lon0, _, _ = real_schools()
    n = len(lat0) + 100
    schools, districts = national_schools(n, 5, CODES)
    dx, dy = TILES[1]
    copy = slice(len(lat0), n)
    assert np.allclose(schools.lat[copy], lat0[:100] + dy, atol=0.1)
    assert np.allclose(schools.lon[copy], lon0[:100] + dx, atol=0.1)
    assert districts[len(lat0)].endswith("#1") and districts[0].endswith("#0")
