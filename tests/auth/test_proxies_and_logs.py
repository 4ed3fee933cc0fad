"""The client address behind proxies (X-Forwarded-For trusted only from TRUSTED_PROXIES) and
log lines that a request cannot forge."""

from __future__ import annotations

import logging

import uvicorn
from fastapi.testclient import TestClient

from app.cli import main
from app.main import create_app


def _limited(db, settings, peer, proxies):  # type: ignore[no-untyped-def]
    settings.rate_limit_per_minute_ip = 1
    settings.trusted_proxies = proxies
    return TestClient(create_app(settings, database=db), client=(peer, 40000))


def test_x_forwarded_for_from_a_local_peer_that_is_no_configured_proxy_is_ignored(db, settings):
    with _limited(db, settings, "127.0.0.1", []) as client:
        first = client.get("/v1/taxonomy", headers={"X-Forwarded-For": "203.0.113.1"})
        second = client.get("/v1/taxonomy", headers={"X-Forwarded-For": "203.0.113.2"})
    assert (first.status_code, second.status_code) == (200, 429)


def test_x_forwarded_for_from_a_configured_proxy_names_the_client(db, settings):
    with _limited(db, settings, "10.0.0.5", ["10.0.0.0/24"]) as client:
        codes = [
            client.get("/v1/taxonomy", headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
            for n in (1, 2, 1)
        ]
    assert codes == [200, 200, 429]


def test_a_forged_left_hop_cannot_choose_the_client_address(db, settings):
    # The proxy appends the real peer; what the client wrote to the left is not believed.
    with _limited(db, settings, "10.0.0.5", ["10.0.0.0/24"]) as client:
        codes = [
            client.get(
                "/v1/taxonomy", headers={"X-Forwarded-For": f"198.51.100.{n}, 203.0.113.9"}
            ).status_code
            for n in (1, 2)
        ]
    assert codes == [200, 429]


def test_serve_leaves_x_forwarded_for_to_the_app(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    from app.settings import get_settings

    get_settings.cache_clear()
    options: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: options.update(kw))
    try:
        assert main(["serve"]) == 0
    finally:
        get_settings.cache_clear()
    assert options["proxy_headers"] is False


def test_a_newline_in_the_path_cannot_forge_a_second_log_line(anon, caplog):
    caplog.set_level(logging.INFO, logger="partnermap.http")
    anon.get("/v1/taxonomy%0A127.0.0.1%20GET%20/v1/admin%20200%E2%80%AE")
    lines = [r.getMessage() for r in caplog.records if r.name == "partnermap.http"]
    assert len(lines) == 1
    assert "\n" not in lines[0] and "\u202e" not in lines[0]
    assert "\\n127.0.0.1" in lines[0]
