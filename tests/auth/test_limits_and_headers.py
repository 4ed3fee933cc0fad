"""Rate limits (per address, per key), security headers, request ids."""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi.testclient import TestClient

from app.auth.guards import Buckets
from app.auth.principal import OPERATOR
from app.main import create_app
from app.models import District
from app.services import api_keys


def _app(db, settings, **limits):  # type: ignore[no-untyped-def]
    for name, value in limits.items():
        setattr(settings, name, value)
    return TestClient(create_app(settings, database=db))


def test_the_per_address_limit_answers_429_with_retry_after(db, settings):
    with _app(db, settings, rate_limit_per_minute_ip=3) as client:
        codes = [client.get("/v1/taxonomy").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        refused = client.get("/v1/taxonomy")
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["status"] == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        # Probes stay answerable.
        assert client.get("/health").status_code == 200


def test_the_per_key_limit_applies_to_the_key(db, settings):
    with db.session() as session:
        district = District(name="D", slug="d")
        session.add(district)
        session.commit()
        _, key = api_keys.create(
            session=session,
            principal=OPERATOR,
            district_id=district.id,
            name="p",
            scope="read",
            allowed_origins=[],
        )
    with _app(db, settings, rate_limit_per_minute_key=2, rate_limit_per_minute_ip=0) as client:
        headers = {"X-API-Key": key}
        codes = [client.get("/v1/me", headers=headers).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        assert client.get("/v1/me").status_code == 401  # keyless callers have their own budget


def test_buckets_refill_at_the_configured_rate():
    buckets = Buckets(per_minute=60)  # one a second
    for _ in range(60):
        assert buckets.take("ip", now=0.0) == 0
    assert buckets.take("ip", now=0.0) > 0
    assert buckets.take("ip", now=1.0) == 0
    assert buckets.take("other", now=1.0) == 0


def test_every_api_response_carries_security_headers(anon):
    for response in (anon.get("/v1/taxonomy"), anon.get("/v1/nowhere")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_the_docs_page_loads_swagger_from_this_site_and_runs_only_its_own_inline_script(anon):
    response = anon.get("/docs")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    inline = re.findall(r"<script>(.*?)</script>", response.text, re.S)
    assert inline
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in response.text
    assert "http" not in csp and "'unsafe-inline'" not in csp.split("style-src")[0]
    assert "frame-ancestors 'none'" in csp


def test_authenticated_answers_are_not_cached(anon, client):
    assert client.get("/v1/taxonomy").headers["cache-control"] == "no-store"
    assert "cache-control" not in anon.get("/v1/taxonomy").headers


def test_request_ids_are_echoed_or_made(anon):
    assert anon.get("/health", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == (
        "abc-123"
    )
    made = anon.get("/health", headers={"X-Request-ID": "bad id with spaces"})
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])


def test_bodies_over_the_limit_are_still_refused(client):
    response = client.post("/v1/organizations", content=b"x" * 300_000)
    assert response.status_code == 413
