"""Erasure of one customer (`DELETE /customers/{wa_id}`): history, sessions and Redis cache, then
`customer.erased` so the other services purge what they hold too.

Order: the cache goes first (if Redis is unreachable nothing is erased yet and the caller gets a
retryable 503, because a cached session left behind could be written back through the
write-through cache), then DynamoDB, then the cache once more (an event applied meanwhile may have
re-cached the customer), then the event. Every step is idempotent, so a retried DELETE is safe.

The event's conversation key is the customer's most recently active conversation
(`<phone_number_id>:<wa_id>`), so it queues behind that conversation's events; when context holds
nothing about the customer it is `0:<wa_id>` (no business number has id 0). Consumers purge by
`payload.wa_id`, across every business number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from parley.errors import DependencyError

if TYPE_CHECKING:
    from chalicelib.api_models import ErasureReport
    from chalicelib.models import HistoryStore, Session, SessionStore
    from parley.events import EventBase

NO_CONVERSATION_PHONE_NUMBER_ID = "0"
_DELETE_CHUNK = 500


class Publisher(Protocol):
    def publish(self, event: EventBase) -> str: ...


class CustomerCache(Protocol):
    def erase_customer(self, wa_id: str) -> int:
        """Delete every cached key of the customer; the number deleted."""
        ...


class RedisCustomerKeys:
    """Finds the customer's keys by scanning: every context cache key embeds the conversation key
    `<phone_number_id>:<wa_id>`, so a key holding the wa_id as a whole number is theirs."""

    def __init__(self, redis: Any, prefix: str = "") -> None:
        self._redis = redis
        self._prefix = prefix

    def keys(self, wa_id: str) -> list[bytes]:
        whole = re.compile(rb"(?<!\d)" + wa_id.encode() + rb"(?!\d)")
        pattern = f"{self._prefix}*{wa_id}*"  # a wa_id is digits: nothing to escape
        return [k for k in self._redis.scan_iter(match=pattern, count=1000) if whole.search(k)]

    def erase_customer(self, wa_id: str) -> int:
        import redis

        try:
            keys = self.keys(wa_id)
            for start in range(0, len(keys), _DELETE_CHUNK):
                self._redis.delete(*keys[start : start + _DELETE_CHUNK])
        except redis.RedisError as exc:
            raise DependencyError(f"cache unreachable, nothing erased from it: {exc}") from exc
        return len(keys)


@dataclass(frozen=True)
class CustomerEraser:
    history: HistoryStore
    sessions: SessionStore
    cache: CustomerCache | None
    publisher: Publisher
    producer: str

    def erase(self, wa_id: str, requested_by: str | None = None) -> ErasureReport:
        from chalicelib.api_models import ErasureReport

        cache_keys = self._erase_cache(wa_id)
        sessions = self.sessions.for_customer(wa_id)
        messages = self.history.erase_customer(wa_id)
        erased_sessions = self.sessions.erase_customer(wa_id)
        cache_keys += self._erase_cache(wa_id)
        event = self._erased_event(wa_id, sessions, requested_by)
        self.publisher.publish(event)
        return ErasureReport(
            wa_id=wa_id,
            conversations=sorted({s.conversation for s in sessions}),
            messages_erased=messages,
            sessions_erased=erased_sessions,
            cache_keys_erased=cache_keys,
            event_id=event.event_id,
            event_conversation=event.conversation,
        )

    def _erase_cache(self, wa_id: str) -> int:
        return self.cache.erase_customer(wa_id) if self.cache is not None else 0

    def _erased_event(
        self, wa_id: str, sessions: list[Session], requested_by: str | None
    ) -> EventBase:
        from parley.events import CustomerErasedEvent
        from parley.payloads import CustomerErased

        return CustomerErasedEvent(
            conversation=event_conversation(wa_id, sessions),
            producer=self.producer,
            payload=CustomerErased(wa_id=wa_id, requested_by=requested_by),
        )


def event_conversation(wa_id: str, sessions: list[Session]) -> str:
    """The most recently active conversation's key, or `0:<wa_id>` when there is none."""
    if not sessions:
        return f"{NO_CONVERSATION_PHONE_NUMBER_ID}:{wa_id}"
    oldest = datetime.min.replace(tzinfo=UTC)
    latest = max(sessions, key=lambda s: (_aware(s.last_activity_at) or oldest, s.conversation))
    return latest.conversation


def _aware(at: datetime | None) -> datetime | None:
    if at is None or at.tzinfo is not None:
        return at
    return at.replace(tzinfo=UTC)
