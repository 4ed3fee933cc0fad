"""Offline ZIP centroids, and the online adapter that is off unless configured."""

from __future__ import annotations

import httpx
import pytest

from app.imports.geocode import (
    ChainGeocoder,
    GeocoderSettings,
    NominatimGeocoder,
    OfflineZipGeocoder,
    default_geocoder,
    zip5,
    zip_table,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("94612", "94612"),
        ("94612-1234", "94612"),
        (" 94612 1234 ", "94612"),
        ("ABC 1234", None),
        ("9461", None),
        (None, None),
    ],
)
def test_zip5_reads_zip_and_zip_plus_4(text, expected):
    assert zip5(text) == expected


def test_the_shipped_table_covers_the_country():
    table = zip_table()
    assert len(table) > 40_000
    assert table["79322"].state == "TX"


def test_offline_lookup_is_approximate_and_says_how():
    place = OfflineZipGeocoder().locate(
        address="1 Main", city="Oakland", state="CA", postal_code="94612"
    )
    assert place is not None and place.precision == "approximate"
    assert place.lat == pytest.approx(37.8085) and place.lon == pytest.approx(-122.2668)
    assert "ZIP code 94612" in place.note


def test_a_zip_in_another_state_is_not_trusted():
    assert (
        OfflineZipGeocoder().locate(address=None, city=None, state="TX", postal_code="94612")
        is None
    )


def test_online_geocoding_is_off_by_default(monkeypatch):
    monkeypatch.delenv("GEOCODER_URL", raising=False)
    assert isinstance(default_geocoder(GeocoderSettings(_env_file=None)), OfflineZipGeocoder)


def _nominatim(answer, status=200):  # type: ignore[no-untyped-def]
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json=answer)

    settings = GeocoderSettings(url="https://geocoder.test", _env_file=None)
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return NominatimGeocoder(settings, client=client), seen


def test_the_online_adapter_asks_a_nominatim_search_and_marks_the_answer():
    geocoder, seen = _nominatim([{"lat": "37.8053", "lon": "-122.2725"}])
    place = geocoder.locate(
        address="1 Frank H Ogawa Plaza", city="Oakland", state="CA", postal_code="94612"
    )
    assert (place.lat, place.lon, place.precision) == (37.8053, -122.2725, "approximate")
    assert seen[0].url.path == "/search"
    assert seen[0].url.params["street"] == "1 Frank H Ogawa Plaza"


def test_when_the_online_geocoder_fails_the_offline_table_answers():
    broken, _ = _nominatim({"error": "down"}, status=503)
    chain = ChainGeocoder(broken, OfflineZipGeocoder())
    place = chain.locate(
        address="1 Frank H Ogawa Plaza", city="Oakland", state="CA", postal_code="94612"
    )
    assert place is not None and "ZIP code" in place.note
