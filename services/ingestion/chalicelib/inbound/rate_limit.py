"""Per-sender inbound rate limit: a token bucket in Redis, atomic in one Lua script.

Each sender (conversation key) gets `burst` tokens that refill at `per_minute` per minute; a
message that finds no token is not forwarded to the AI. The first refusal in a notice window sets
a Redis key with a TTL, so the sender gets one polite notice per window, not one per message.
If Redis is unreachable the limiter fails open (forwards) and logs it: losing abuse protection for
a while is better than dropping every customer's messages.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from chalicelib.inbound.ports import ALLOW, Verdict
from parley.logs import conversation_ref

# KEYS[1] bucket hash; ARGV: refill rate (tokens/s), capacity. Server time keeps containers
# with skewed clocks consistent. Returns 1 when a token was taken.
TOKEN_BUCKET_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return allowed
"""

KEY_PREFIX = "parley:inbound-rate"
NOTICE_WINDOW_SECONDS = 600


class RedisTokenBucket:
    """`RateLimiter` on Redis. `redis` returns the client (called on use, so it stays lazy)."""

    def __init__(
        self,
        redis: Callable[[], Any],
        *,
        per_minute: int,
        burst: int,
        logger: Any,
        notice_window_seconds: int = NOTICE_WINDOW_SECONDS,
    ) -> None:
        self._redis = redis
        self._rate = max(per_minute, 1) / 60.0
        self._burst = max(burst, 1)
        self._idle_ttl = math.ceil(self._burst / self._rate) + 1  # a full bucket needs no key
        self._notice_window = notice_window_seconds
        self._logger = logger
        self._script: Any = None

    def check(self, sender: str) -> Verdict:
        ref = conversation_ref(sender)
        try:
            if self._take(f"{KEY_PREFIX}:{ref}"):
                return ALLOW
            first = self._client().set(
                f"{KEY_PREFIX}:notice:{ref}", b"1", nx=True, ex=self._notice_window
            )
        except Exception as error:  # redis.RedisError, OSError: any outage fails open
            self._logger.warning(
                "inbound rate limit unavailable, message forwarded",
                extra={"conversation_ref": ref, "reason": f"{type(error).__name__}: {error}"},
            )
            return ALLOW
        return Verdict(allowed=False, notify=bool(first))

    def _client(self) -> Any:
        return self._redis()

    def _take(self, key: str) -> bool:
        client = self._client()
        if self._script is None or self._script.registered_client is not client:
            self._script = client.register_script(TOKEN_BUCKET_LUA)
        return bool(self._script(keys=[key], args=[self._rate, self._burst, self._idle_ttl]))


class NoRateLimit:
    """`RateLimiter` used when no Redis is configured: everything is forwarded."""

    def check(self, sender: str) -> Verdict:
        return ALLOW
