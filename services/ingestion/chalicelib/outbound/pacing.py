"""Pacing of sends: per business number (messages per second) and per (number, customer) pair.

The counters live in Redis so every container shares them: a sliding-window log in a sorted set,
updated by one Lua script (atomic; Redis' own clock, so container clocks do not matter). A sender
waits for a slot (up to its deadline) instead of failing. If Redis is unreachable, a local
in-process limiter takes over (logged) and Redis is tried again after a cooldown.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from parley.errors import Throttled

# KEYS[1] = window key; ARGV = limit, window (µs), unique member. Returns 0 when a slot was taken,
# else the µs until the oldest entry that blocks leaves the window (nothing is recorded then).
SLIDING_WINDOW_LUA = """
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
"""


class RateLimiter(Protocol):
    """A sliding-window limiter: at most `limit` slots in any `window` seconds per key."""

    def reserve(self, key: str, limit: int, window: float) -> float:
        """0.0 when a slot was taken now; else the seconds to wait before asking again."""
        ...


class RedisRateLimiter:
    """Shared across containers; `client` returns the redis client (parley.cache.redis_client)."""

    def __init__(self, client: Callable[[], Any]) -> None:
        self._client = client
        self._script: Any = None
        self._script_client: Any = None

    def reserve(self, key: str, limit: int, window: float) -> float:
        client = self._client()
        if self._script is None or self._script_client is not client:
            self._script, self._script_client = client.register_script(SLIDING_WINDOW_LUA), client
        micros = int(window * 1_000_000)
        wait = self._script(keys=[key], args=[limit, micros, uuid.uuid4().hex])
        return int(wait) / 1_000_000


class LocalRateLimiter:
    """The same sliding window, in this process only (the fallback when Redis is down)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._slots: dict[str, deque[float]] = {}

    def reserve(self, key: str, limit: int, window: float) -> float:
        with self._lock:
            now = self._clock()
            slots = self._slots.setdefault(key, deque())
            while slots and slots[0] <= now - window:
                slots.popleft()
            if len(slots) < limit:
                slots.append(now)
                return 0.0
            return max(1e-6, slots[len(slots) - limit] + window - now)


class FallbackRateLimiter:
    """Redis first; on a Redis error, the local limiter for `cooldown` seconds (and a log line)."""

    def __init__(
        self,
        primary: RateLimiter,
        fallback: RateLimiter,
        logger: Any,
        *,
        cooldown: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._primary, self._fallback, self._logger = primary, fallback, logger
        self._cooldown, self._clock = cooldown, clock
        self._down_until = 0.0

    def reserve(self, key: str, limit: int, window: float) -> float:
        if self._clock() >= self._down_until:
            try:
                return self._primary.reserve(key, limit, window)
            except Exception as exc:  # any Redis failure (connection, timeout, script) degrades
                self._down_until = self._clock() + self._cooldown
                self._logger.warning(
                    "redis unavailable for pacing; pacing in this process only",
                    extra={"reason": f"{type(exc).__name__}: {exc}"[:300]},
                )
        return self._fallback.reserve(key, limit, window)


class Pacer:
    """Waits for a slot in each window, in order, until `deadline` (time.monotonic)."""

    def __init__(
        self,
        limiter: RateLimiter,
        *,
        margin: float = 0.05,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limiter = limiter
        self._margin = margin  # widen windows a little: the network jitters between us and Meta
        self._sleep, self._clock = sleep, clock

    def acquire(self, key: str, limit: int, window: float, deadline: float) -> float:
        """Take a slot, sleeping while none is free; the seconds waited. Throttled (retryable)
        when no slot frees up before the deadline."""
        started = self._clock()
        while True:
            wait = self._limiter.reserve(key, max(1, limit), window + self._margin)
            if wait <= 0:
                return self._clock() - started
            wait += random.uniform(0, 0.005)  # spread the waiters out
            if self._clock() + wait > deadline:
                raise Throttled(
                    f"pacing: no send slot for {key.split(':')[2]} within the time budget "
                    f"({limit} per {window:g} s)",
                    detail={"limit": limit, "window": window},
                )
            self._sleep(wait)


def number_key(phone_number_id: str) -> str:
    return f"parley:pace:number:{phone_number_id}"


def pair_key(phone_number_id: str, wa_id: str) -> str:
    """The customer's number is not in the key: Redis keys are not a place for phone numbers."""
    from parley.logs import conversation_ref

    return f"parley:pace:pair:{conversation_ref(f'{phone_number_id}:{wa_id}')}"
