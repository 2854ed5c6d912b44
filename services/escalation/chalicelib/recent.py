"""A customer's last few messages per conversation, kept in Redis for the escalation service:
the detector compares a new message with them ("you already asked that") and notifications quote
them. Redis down: both work without (no repetition signal, no quotes), and the outage is logged
once, never failing the event."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

KEEP = 6
TTL_SECONDS = 24 * 3600


class RecentMessages:
    def __init__(self, redis: Callable[[], Any] | None, logger: Any) -> None:
        self._redis = redis
        self._logger = logger
        self._down = False

    def earlier(self, conversation: str) -> list[str]:
        """The customer's previous messages, oldest first."""
        if self._redis is None:
            return []
        try:
            raw = self._redis().lrange(self._key(conversation), 0, KEEP - 1)
        except Exception as error:
            self._outage(error)
            return []
        self._down = False
        return [item.decode("utf-8", "replace") for item in reversed(raw)]

    def remember(self, conversation: str, texts: Sequence[str]) -> None:
        if self._redis is None or not texts:
            return
        key = self._key(conversation)
        try:
            pipe = self._redis().pipeline(transaction=False)
            for text in texts:
                pipe.lpush(key, text[:1000])
            pipe.ltrim(key, 0, KEEP - 1)
            pipe.expire(key, TTL_SECONDS)
            pipe.execute()
        except Exception as error:
            self._outage(error)

    def forget(self, conversation: str) -> None:
        if self._redis is None:
            return
        try:
            self._redis().delete(self._key(conversation))
        except Exception as error:
            self._outage(error)

    def _outage(self, error: Exception) -> None:
        if not self._down:
            self._logger.warning(
                "Redis unavailable: escalation works without recent messages",
                extra={"reason": f"{type(error).__name__}: {error}"},
            )
        self._down = True

    @staticmethod
    def _key(conversation: str) -> str:
        return f"esc:recent:{conversation}"
