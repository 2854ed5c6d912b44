"""The sender built from the service's settings, once per container (rebuilt after reset())."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from chalicelib.outbound.pacing import (
    FallbackRateLimiter,
    LocalRateLimiter,
    Pacer,
    RateLimiter,
    RedisRateLimiter,
)
from chalicelib.outbound.registry import ChannelRegistry
from chalicelib.outbound.retry import RetryPolicy
from chalicelib.outbound.sender import Sender

if TYPE_CHECKING:
    from parley.service import ServiceRuntime
    from parley.settings import IngestionSettings

_LOCK = threading.Lock()
_BUILT: dict[int, tuple[object, Sender]] = {}


def build_sender(runtime: ServiceRuntime[IngestionSettings]) -> Sender:
    """This runtime's sender; built again when the runtime's settings were reset."""
    settings = runtime.settings
    with _LOCK:
        hit = _BUILT.get(id(runtime))
        if hit is not None and hit[0] is settings:
            return hit[1]
        sender = Sender(
            settings=settings,
            store=_store(settings),
            publisher=runtime.publisher,
            channels=ChannelRegistry.from_settings(settings),
            pacer=Pacer(rate_limiter(settings.redis_url, runtime.logger)),
            logger=runtime.logger,
            policy=RetryPolicy(max_attempts=settings.send_max_attempts),
        )
        _BUILT[id(runtime)] = (settings, sender)
        return sender


def rate_limiter(redis_url: str | None, logger: Any) -> RateLimiter:
    """Shared through Redis when there is one, with the in-process fallback."""
    local = LocalRateLimiter()
    if not redis_url:
        return local
    from parley.cache import redis_client

    shared = RedisRateLimiter(lambda: redis_client(redis_url))
    return FallbackRateLimiter(shared, local, logger)


def _store(settings: IngestionSettings) -> Any:
    from chalicelib.store import WaMessagesStore

    return WaMessagesStore(settings.wa_messages_table)
