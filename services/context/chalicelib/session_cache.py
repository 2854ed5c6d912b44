"""A Redis write-through cache in front of the session and history stores.

Keys carry a hash of the conversation key, never the phone number: `ctx:s:<ref>` is a hash of
the session (`v` = version, `doc` = JSON), `ctx:m:<ref>` the conversation's last N messages as a
JSON list, oldest first; both expire after the configured TTL. DynamoDB is always written first
and stays the source of truth; the cache only saves reads.

When Redis fails, `RedisGuard` turns cache operations into misses and skips Redis for a few
seconds before probing it again, so an outage costs one timeout, not one per call; it logs once
when the outage starts and once when it ends. Conversations written during the outage are
remembered and their keys deleted on recovery (they may be stale). A session cached stale all the
same (another container wrote during a partition) is caught by the version check on save: the
`Conflict` drops the cached copy, and the retry reads DynamoDB.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from chalicelib.history import DELIVERY_RANK, MESSAGE_PREFIX, message_sort_key
from chalicelib.models import HistoryStore, Session, SessionStore, StoredMessage
from parley.errors import Conflict
from parley.logs import conversation_ref

T = TypeVar("T")
MAX_REMEMBERED = 10_000

_SAVE_IF_NEWER = """
local cur = redis.call('HGET', KEYS[1], 'v')
if cur and tonumber(cur) > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'doc', ARGV[2])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
"""


def session_key(conversation: str) -> str:
    return f"ctx:s:{conversation_ref(conversation)}"


def messages_key(conversation: str) -> str:
    return f"ctx:m:{conversation_ref(conversation)}"


class RedisGuard:
    """Runs cache operations against Redis and absorbs its outages (see the module doc).
    `stats` counts hits, misses, writes and calls skipped because Redis was down."""

    def __init__(
        self,
        client: Callable[[], Any],
        logger: Any,
        *,
        retry_after: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._logger = logger
        self._retry_after = retry_after
        self._clock = clock
        self._down_since: float | None = None
        self._next_probe = 0.0
        self._stale: set[str] = set()
        self.stats: Counter[str] = Counter()

    @property
    def available(self) -> bool:
        return self._down_since is None

    def read(self, op: Callable[[Any], T]) -> T | None:
        """`op(redis)`, or None when Redis is unavailable (a miss)."""
        return self._run(op, conversation=None)

    def write(self, conversation: str, op: Callable[[Any], object]) -> None:
        """`op(redis)`; if Redis is unavailable, the conversation's keys are dropped on recovery."""
        self._run(op, conversation=conversation)

    def drop(self, conversation: str) -> None:
        """Delete the conversation's cached session and messages."""
        self._run(
            lambda r: r.delete(session_key(conversation), messages_key(conversation)),
            conversation=conversation,
        )

    def _run(self, op: Callable[[Any], T], *, conversation: str | None) -> T | None:
        if not self._usable():
            self._remember(conversation)
            self.stats["skipped"] += 1
            return None
        try:
            return op(self._client())
        except Exception as error:
            if not _is_outage(error):
                raise
            self._went_down(error)
            self._remember(conversation)
            return None

    def _usable(self) -> bool:
        if self._down_since is None:
            return True
        if self._clock() < self._next_probe:
            return False
        try:
            client = self._client()
            client.ping()
            for conversation in list(self._stale):
                client.delete(session_key(conversation), messages_key(conversation))
        except Exception as error:
            if not _is_outage(error):
                raise
            self._next_probe = self._clock() + self._retry_after
            return False
        self._logger.info(
            "redis available again: cache in use",
            extra={
                "outage_seconds": round(self._clock() - self._down_since, 1),
                "keys_dropped": 2 * len(self._stale),
            },
        )
        self._stale.clear()
        self._down_since = None
        return True

    def _went_down(self, error: BaseException) -> None:
        if self._down_since is None:
            self._down_since = self._clock()
            self._logger.warning(
                "redis unavailable: cache bypassed, serving from DynamoDB",
                extra={"reason": f"{type(error).__name__}: {error}"},
            )
        self._next_probe = self._clock() + self._retry_after
        self.stats["errors"] += 1

    def _remember(self, conversation: str | None) -> None:
        if conversation is not None and len(self._stale) < MAX_REMEMBERED:
            self._stale.add(conversation)


def _is_outage(error: BaseException) -> bool:
    from redis.exceptions import RedisError

    return isinstance(error, RedisError | OSError)


class RedisCachedSessionStore:
    """`SessionStore` with a write-through cache of each session."""

    def __init__(self, backing: SessionStore, guard: RedisGuard, ttl_seconds: int) -> None:
        self._backing = backing
        self._guard = guard
        self._ttl = ttl_seconds

    def get(self, conversation: str) -> Session | None:
        cached = self._guard.read(lambda r: r.hmget(session_key(conversation), "v", "doc"))
        if cached and cached[0] is not None and cached[1] is not None:
            self._guard.stats["session_hits"] += 1
            hit = Session.model_validate_json(cached[1])
            hit.version = int(cached[0])
            return hit
        self._guard.stats["session_misses"] += 1
        session = self._backing.get(conversation)
        if session is not None:
            self._put(session)
        return session

    def save(self, session: Session) -> None:
        try:
            self._backing.save(session)
        except Conflict:
            self.forget(session.conversation)
            raise
        self._put(session)

    def forget(self, conversation: str) -> None:
        self._guard.write(conversation, lambda r: r.delete(session_key(conversation)))

    def _put(self, session: Session) -> None:
        doc = session.model_dump_json()
        key = session_key(session.conversation)
        self._guard.write(
            session.conversation,
            lambda r: r.eval(_SAVE_IF_NEWER, 1, key, session.version, doc, self._ttl),
        )

    def open_sessions(self, idle_before: datetime | None = None) -> list[Session]:
        return self._backing.open_sessions(idle_before)

    def for_customer(self, wa_id: str) -> list[Session]:
        return self._backing.for_customer(wa_id)

    def erase_customer(self, wa_id: str) -> int:
        conversations = {s.conversation for s in self._backing.for_customer(wa_id)}
        deleted = self._backing.erase_customer(wa_id)
        for conversation in conversations:
            self._guard.drop(conversation)
        return deleted


class RedisCachedHistoryStore:
    """`HistoryStore` with a write-through cache of each conversation's last `window` messages.

    The cached list is exactly the last min(window, all) messages: appends are merged into it
    (in sort-key order, trimmed) under WATCH, and a list that is not cached is filled on the next
    read. A concurrent change (WatchError) drops the list instead of guessing."""

    def __init__(
        self, backing: HistoryStore, guard: RedisGuard, window: int, ttl_seconds: int
    ) -> None:
        self._backing = backing
        self._guard = guard
        self.window = window
        self._ttl = ttl_seconds

    def append(self, message: StoredMessage) -> bool:
        fresh = self._backing.append(message)
        if fresh:
            self._edit(message.conversation, lambda items: _merged(items, message, self.window))
        return fresh

    def update(
        self,
        conversation: str,
        message_id: str,
        *,
        sort_key: str | None = None,
        **fields: object,
    ) -> None:
        known = sort_key or self._cached_sort_key(conversation, message_id)
        self._backing.update(conversation, message_id, sort_key=known, **fields)
        self._edit(conversation, lambda items: _patched(items, message_id, fields))

    def _cached_sort_key(self, conversation: str, message_id: str) -> str | None:
        """The message's sort key from the cached window (a receipt is for a recent reply), so
        the update needs no pointer read; None when it is not cached."""
        raw = self._guard.read(lambda r: r.get(messages_key(conversation)))
        if raw is None:
            return None
        for item in json.loads(raw):
            if item.get("message_id") == message_id:
                return message_sort_key(StoredMessage.model_validate(item))
        return None

    def recent(self, conversation: str, limit: int) -> list[StoredMessage]:
        if limit > self.window:
            return self._backing.recent(conversation, limit)
        raw = self._guard.read(lambda r: r.get(messages_key(conversation)))
        if raw is not None:
            self._guard.stats["history_hits"] += 1
            items = json.loads(raw)
            return [StoredMessage.model_validate(i) for i in items[-limit:]] if limit else []
        self._guard.stats["history_misses"] += 1
        messages = self._backing.recent(conversation, self.window)
        body = json.dumps([m.model_dump(mode="json") for m in messages])
        key = messages_key(conversation)
        self._guard.write(conversation, lambda r: r.set(key, body, ex=self._ttl, nx=True))
        return messages[-limit:] if limit else []

    def page(
        self, conversation: str, limit: int, before: str | None
    ) -> tuple[list[StoredMessage], str | None]:
        return self._backing.page(conversation, limit, before)

    def for_customer(self, wa_id: str) -> list[StoredMessage]:
        return self._backing.for_customer(wa_id)

    def erase_customer(self, wa_id: str) -> int:
        conversations = {m.conversation for m in self._backing.for_customer(wa_id)}
        deleted = self._backing.erase_customer(wa_id)
        for conversation in conversations:
            self._guard.drop(conversation)
        return deleted

    def _edit(
        self, conversation: str, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
    ) -> None:
        key = messages_key(conversation)

        def op(r: Any) -> None:
            from redis.exceptions import WatchError

            try:
                with r.pipeline() as pipe:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    if raw is None:
                        return  # not cached: filled from DynamoDB on the next read
                    body = json.dumps(change(json.loads(raw)))
                    pipe.multi()
                    pipe.set(key, body, ex=self._ttl)
                    pipe.execute()
            except WatchError:
                r.delete(key)

        self._guard.write(conversation, op)


def _merged(
    items: list[dict[str, Any]], message: StoredMessage, window: int
) -> list[dict[str, Any]]:
    if any(i.get("message_id") == message.message_id for i in items):
        return items
    new = message.model_dump(mode="json")
    items.append(new)
    items.sort(key=_sort_key)
    return items[-window:] if window else []


def _sort_key(item: dict[str, Any]) -> str:
    return message_sort_key(StoredMessage.model_validate(item)).removeprefix(MESSAGE_PREFIX)


def _patched(
    items: list[dict[str, Any]], message_id: str, fields: dict[str, object]
) -> list[dict[str, Any]]:
    for item in items:
        if item.get("message_id") != message_id:
            continue
        changes = {
            k: v.model_dump(mode="json") if hasattr(v, "model_dump") else v
            for k, v in fields.items()
        }
        status = changes.get("delivery_status")
        if isinstance(status, str) and not _moves_forward(item.get("delivery_status"), status):
            changes.pop("delivery_status")
        item.update(changes)
    return items


def _moves_forward(current: object, new: str) -> bool:
    if not isinstance(current, str):
        return True
    return DELIVERY_RANK.get(new, 0) > DELIVERY_RANK.get(current, 0)
