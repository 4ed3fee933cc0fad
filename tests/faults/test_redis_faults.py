"""A frozen Redis (SIGSTOP: the port accepts, nothing answers), against a private
redis-server on its own port: requests are answered after one 2 s wait at most and then at
once (the rate limits pass uncounted, Redis not asked again for SHARED_RETRY_S), a log-in is
a 503 with Retry-After within the socket timeout, and once Redis is thawed the limits count
again. (tests/auth/test_redis_down.py: a Redis that refuses.)"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient

from app.auth import guards
from app.main import create_app
from tests.conftest import user_token
from tests.faults.test_postgis_faults import _free_port

pytestmark = pytest.mark.faults

SOCKET_TIMEOUT_S = 2.0  # app.main's Redis client


@pytest.fixture
def private_redis() -> Iterator[tuple[str, subprocess.Popen]]:
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed (.ci/run installs it)")
        pytest.skip("redis-server is not installed")
    port = _free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        for _ in range(100):
            try:
                if redis.Redis.from_url(url, socket_timeout=0.5).ping():
                    break
            except redis.RedisError:
                time.sleep(0.05)
        yield url, server
    finally:
        server.send_signal(signal.SIGCONT)
        server.kill()
        server.wait()


def test_a_frozen_redis_costs_one_wait_then_requests_pass_and_log_ins_are_503(
    private_redis, db, settings
):
    url, server = private_redis
    user_token(db, "principal@partnermap.test", "admin")
    settings = settings.model_copy(update={"redis_url": url, "rate_limit_per_minute_ip": 2})
    with TestClient(create_app(settings, database=db), raise_server_exceptions=False) as worker:
        assert [worker.get("/v1/taxonomy").status_code for _ in range(3)] == [200] * 2 + [429]
        server.send_signal(signal.SIGSTOP)
        try:
            started = time.monotonic()
            first = worker.get("/v1/taxonomy")
            waited = time.monotonic() - started
            started = time.monotonic()
            rest = [worker.get("/v1/taxonomy").status_code for _ in range(5)]
            after = time.monotonic() - started
            started = time.monotonic()
            log_in = worker.post(
                "/v1/auth/token",
                data={"username": "principal@partnermap.test", "password": "wrong-password"},
            )
            log_in_s = time.monotonic() - started
        finally:
            server.send_signal(signal.SIGCONT)
        assert first.status_code == 200  # uncounted: the bucket was empty
        assert SOCKET_TIMEOUT_S * 0.9 <= waited < SOCKET_TIMEOUT_S + 3
        assert rest == [200] * 5
        assert after < SOCKET_TIMEOUT_S  # nobody waited for Redis again
        assert log_in.status_code == 503, log_in.text
        assert "retry-after" in log_in.headers
        assert log_in_s < SOCKET_TIMEOUT_S + 3
        time.sleep(guards.SHARED_RETRY_S)  # thawed: the next request asks Redis again
        # counted again: the bucket refills one request in 30 s and is still empty
        assert worker.get("/v1/taxonomy").status_code == 429
