"""Rate limits, the log-in throttle and key-origin changes shared by workers through Redis.

Runs when REDIS_TEST_URL (or REDIS_URL) reaches a Redis server; each test writes under its
own key prefix. Two apps on one database stand for two workers.
"""

from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from fastapi.testclient import TestClient

from app.auth import credentials
from app.auth.principal import OPERATOR
from app.auth.shared_limits import RedisGeneration
from app.main import create_app
from app.models import ApiKey, District
from app.services import api_keys

URL = os.environ.get("REDIS_TEST_URL") or os.environ.get("REDIS_URL")


def _reachable() -> bool:
    if not URL:
        return False
    try:
        return bool(redis.Redis.from_url(URL, socket_timeout=1).ping())
    except redis.RedisError:
        return False


pytestmark = pytest.mark.skipif(not _reachable(), reason="no Redis at REDIS_TEST_URL")


@pytest.fixture
def shared(settings):  # type: ignore[no-untyped-def]
    prefix = f"pm-test:{uuid.uuid4().hex}:"
    settings.redis_url = URL
    settings.redis_prefix = prefix
    yield settings
    client = redis.Redis.from_url(URL)
    for key in client.scan_iter(prefix + "*"):
        client.delete(key)


def _worker(db, settings):  # type: ignore[no-untyped-def]
    return TestClient(create_app(settings, database=db), raise_server_exceptions=False)


def test_the_address_limit_is_shared_by_two_workers(db, shared):
    shared.rate_limit_per_minute_ip = 3
    with _worker(db, shared) as one, _worker(db, shared) as two:
        codes = [c.get("/v1/taxonomy").status_code for c in (one, two, one, two)]
    assert codes == [200, 200, 200, 429]


def test_twenty_parallel_wrong_passwords_on_two_workers_pass_exactly_the_limit(db, shared):
    password = "correct horse battery staple"
    with _worker(db, shared) as one, _worker(db, shared) as two:
        made = one.post("/v1/users", json={"email": "ada@example.org", "password": password})
        assert made.status_code == 202

        def wrong(n: int) -> int:
            client = one if n % 2 else two
            data = {"username": "ada@example.org", "password": "wrong guess!"}
            return client.post("/v1/auth/token", data=data).status_code

        with ThreadPoolExecutor(max_workers=20) as pool:
            codes = list(pool.map(wrong, range(20)))
    assert codes.count(401) == shared.login_max_failures
    assert codes.count(429) == 20 - shared.login_max_failures


def test_a_key_origin_change_on_another_worker_reaches_this_one_at_once(db, shared):
    shared.cors_cache_seconds = 3600
    origin = "https://portal.example.org"
    preflight = {"Origin": origin, "Access-Control-Request-Method": "GET"}
    with _worker(db, shared) as worker:
        assert worker.options("/v1/me", headers=preflight).status_code == 403  # cached now
        # Another process adds the key: its row lands in the database and its changed()
        # bumps the shared generation (this process's own counter does not move).
        with db.session() as session:
            district = District(name="D", slug="d")
            session.add(district)
            session.flush()
            made = credentials.new_key()
            session.add(
                ApiKey(
                    name="portal",
                    prefix=made.prefix,
                    secret_hash=made.secret_hash,
                    district_id=district.id,
                    scope="read",
                    allowed_origins=[origin],
                )
            )
            session.commit()
        RedisGeneration(redis.Redis.from_url(URL), shared.redis_prefix).bump()
        assert worker.options("/v1/me", headers=preflight).status_code == 204


def test_changing_a_key_here_bumps_the_shared_generation(db, shared):
    generation = RedisGeneration(redis.Redis.from_url(URL), shared.redis_prefix)
    with _worker(db, shared):
        before = generation.current()
        with db.session() as session:
            district = District(name="D", slug="d")
            session.add(district)
            session.commit()
            api_keys.create(
                session=session,
                principal=OPERATOR,
                district_id=district.id,
                name="portal",
                scope="read",
                allowed_origins=["https://portal.example.org"],
            )
        assert generation.current() == before + 1
