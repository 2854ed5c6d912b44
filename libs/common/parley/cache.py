"""A shared Redis client per URL, with short timeouts so a Redis outage degrades, not hangs."""

from __future__ import annotations

import threading
from typing import Any

_LOCK = threading.Lock()
_CLIENTS: dict[str, Any] = {}


def redis_client(url: str) -> Any:
    """A `redis.Redis` for `url`; redis is imported on first use (it costs cold start)."""
    with _LOCK:
        if url not in _CLIENTS:
            import redis

            _CLIENTS[url] = redis.Redis.from_url(
                url,
                socket_connect_timeout=0.5,
                socket_timeout=0.5,
                health_check_interval=30,
                decode_responses=False,
            )
        return _CLIENTS[url]


def reset_redis_clients() -> None:
    with _LOCK:
        _CLIENTS.clear()
