"""Rate limits, the log-in throttle and the key-origin generation shared by every worker
through Redis (REDIS_URL); without it each worker keeps its own in memory (app.auth.guards).

Each check is one Lua script, run atomically by Redis, so parallel requests on any worker
cannot all pass before the first is counted.
"""

from __future__ import annotations

import math
import secrets
import time

import redis

# A token bucket: KEYS[1] a hash {tokens, at}; ARGV capacity, rate per second, now.
# Returns the wait in milliseconds (0: the request may go, one token taken).
TAKE = """
local capacity, rate, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(state[1]) or capacity, tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 1)
return math.ceil(wait * 1000)
"""

# Failed log-ins: KEYS[1] a sorted set of attempt times; ARGV max, window, now, member.
# Counts the attempt and returns 0, or returns the seconds to wait (nothing counted).
ATTEMPT = """
local max, window, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= max then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, math.ceil(tonumber(oldest[2]) + window - now))
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(window))
return 0
"""


class RedisBuckets:
    """Token buckets by name in Redis: `per_minute` requests a minute, bursts up to as many."""

    blocking = True  # a network call: run off the event loop

    def __init__(self, client: redis.Redis, prefix: str, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.prefix = prefix
        self._take = client.register_script(TAKE)

    def take(self, name: str) -> float:
        """0 when a request may go now, else the seconds until it may."""
        if self.capacity <= 0:
            return 0.0
        waited = self._take(keys=[self.prefix + name], args=[self.capacity, self.rate, _now()])
        return int(waited) / 1000.0


class RedisLoginThrottle:
    """app.auth.guards.LoginThrottle's rule, counted in Redis for every worker at once."""

    def __init__(self, client: redis.Redis, prefix: str, max_failures: int, window: float):
        self.client = client
        self.prefix = prefix
        self.max_failures = max_failures
        self.window = window
        self._attempt = client.register_script(ATTEMPT)

    def _key(self, email: str, address: str) -> str:
        return f"{self.prefix}{address}|{email}"

    def attempt(self, email: str, address: str) -> int:
        """0 and the attempt counted, or the seconds to wait (nothing counted)."""
        member = secrets.token_hex(8)  # one member per attempt, even at the same instant
        args = [self.max_failures, self.window, _now(), member]
        return int(self._attempt(keys=[self._key(email, address)], args=args))

    def succeeded(self, email: str, address: str) -> None:
        self.client.delete(self._key(email, address))


class RedisGeneration:
    """A counter every worker reads: bumped when a key's origins change anywhere."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.key = prefix + "origins-generation"

    def current(self) -> int:
        return int(self.client.get(self.key) or 0)

    def bump(self) -> None:
        self.client.incr(self.key)


def _now() -> float:
    # Wall-clock seconds, the same on every worker (monotonic clocks differ per process).
    return math.floor(time.time() * 1000) / 1000
