"""Erasure of one customer (`DELETE /customers/{wa_id}`): history, sessions and Redis cache, then
`customer.erased` so the other services purge what they hold too.

Order: the cache goes first (if Redis is unreachable nothing is erased yet and the caller gets a
retryable 502, because a cached session left behind would be served, and saved back, by the
write-through cache), then DynamoDB, then the cache once more (an event applied meanwhile may have
re-cached a conversation), then the event. Every step is idempotent, so a retried DELETE is safe.

The event's conversation key is the customer's most recently active conversation
(`<phone_number_id>:<wa_id>`), so it queues behind that conversation's events; when context holds
nothing about the customer it is `0:<wa_id>` (no business number has id 0). Consumers purge by
`payload.wa_id`, across every business number.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.models import HistoryStore
from parley.errors import DependencyError

if TYPE_CHECKING:
    from chalicelib.api_models import ErasureReport
    from chalicelib.models import Session, SessionStore
    from parley.events import EventBase

NO_CONVERSATION_PHONE_NUMBER_ID = "0"
_DELETE_CHUNK = 500


class ErasureIncomplete(DependencyError):
    """The erasure stopped before the end; its text is for the caller (no dependency detail)."""

    message_is_public = True


class Publisher(Protocol):
    def publish(self, event: EventBase) -> str: ...


class CustomerHistory(HistoryStore, Protocol):
    def conversations_of(self, wa_id: str) -> list[str]:
        """The conversation keys the customer has history in."""
        ...


class ConversationCache(Protocol):
    def erase(self, conversations: Collection[str]) -> int:
        """Delete every cached key of these conversations; the number deleted."""
        ...


class RedisConversationCache:
    """The context cache's keys of a conversation (`session_cache.session_key`/`messages_key`,
    hashed, so they are found from the conversation keys, not by scanning for the wa_id).

    Unlike the cache's own guard, which turns an outage into a miss, an outage here is an error:
    erasure must not report success while Redis may still hold the customer."""

    def __init__(self, redis: Any) -> None:
        self._redis = redis

    def erase(self, conversations: Collection[str]) -> int:
        import redis

        from chalicelib.session_cache import messages_key, session_key

        keys = [k for c in sorted(conversations) for k in (session_key(c), messages_key(c))]
        deleted = 0
        try:
            for start in range(0, len(keys), _DELETE_CHUNK):
                deleted += int(self._redis.delete(*keys[start : start + _DELETE_CHUNK]))
        except (redis.RedisError, OSError) as exc:
            raise ErasureIncomplete(
                "cache unreachable, customer not fully erased: retry the erasure"
            ) from exc
        return deleted


@dataclass(frozen=True)
class CustomerEraser:
    history: CustomerHistory
    sessions: SessionStore
    cache: ConversationCache | None
    publisher: Publisher
    producer: str

    def erase(self, wa_id: str, requested_by: str | None = None) -> ErasureReport:
        from chalicelib.api_models import ErasureReport

        sessions = self.sessions.for_customer(wa_id)
        conversations = {s.conversation for s in sessions}
        conversations.update(self.history.conversations_of(wa_id))
        cache_keys = self._erase_cache(conversations)
        messages = self.history.erase_customer(wa_id)
        erased_sessions = self.sessions.erase_customer(wa_id)
        cache_keys += self._erase_cache(conversations)
        event = self._erased_event(wa_id, sessions, requested_by)
        self.publisher.publish(event)
        return ErasureReport(
            wa_id=wa_id,
            conversations=sorted(conversations),
            messages_erased=messages,
            sessions_erased=erased_sessions,
            cache_keys_erased=cache_keys,
            event_id=event.event_id,
            event_conversation=event.conversation,
        )

    def _erase_cache(self, conversations: Collection[str]) -> int:
        return self.cache.erase(conversations) if self.cache is not None else 0

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
