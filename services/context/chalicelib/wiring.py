"""The one place the context service's dependencies are built from settings (lazily).

Everything is a cached property of `runtime`, built on first use and forgotten by `reset()`;
`override(...)` replaces parts (tests and the benchmark pass their own clock, stores or sender).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING

from parley import health
from parley.service import ServiceRuntime

if TYPE_CHECKING:
    from chalicelib.models import HistoryStore, SessionStore
    from chalicelib.sequencer import EventSender, Sequencer
    from chalicelib.session_cache import RedisGuard
    from chalicelib.sweeper import Sweeper
    from parley.events import Event
    from parley.llm import Summarizer
    from parley.settings import ContextSettings


def _settings() -> ContextSettings:
    from parley.settings import (  # pydantic-settings costs ~200 ms of import
        ContextSettings,
        load_settings,
    )

    return load_settings(ContextSettings)


def _dependencies(s: ContextSettings) -> list[health.Dependency]:
    return [
        health.table(s.conversations_table),
        health.table(s.sessions_table),
        health.queue(s.context_queue),
        health.queue(s.turns_queue),
    ]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ContextRuntime(ServiceRuntime["ContextSettings"]):
    """The service runtime plus the context service's own parts."""

    PARTS = (
        "cache",
        "dynamo_history",
        "dynamo_sessions",
        "history",
        "sessions",
        "summarizer",
        "turns",
        "clock",
        "sequencer",
        "sweeper",
    )

    def needs_ledger(self, event: Event) -> bool:
        """Only events whose application is not idempotent by design (sequencer.py)."""
        from chalicelib.sequencer import IDEMPOTENT_TYPES

        return event.type not in IDEMPOTENT_TYPES

    @cached_property
    def cache(self) -> RedisGuard | None:
        """The Redis guard, or None when no Redis is configured (DynamoDB only)."""
        from chalicelib.session_cache import RedisGuard
        from parley.cache import redis_client

        url = self.settings.redis_url
        if not url:
            return None
        return RedisGuard(lambda: redis_client(url), self.logger)

    @cached_property
    def dynamo_history(self) -> HistoryStore:
        from chalicelib.history import DynamoHistoryStore

        s = self.settings
        return DynamoHistoryStore(s.conversations_table, ttl_days=s.history_ttl_days)

    @cached_property
    def dynamo_sessions(self) -> SessionStore:
        from chalicelib.sessions import DynamoSessionStore

        s = self.settings
        return DynamoSessionStore(s.sessions_table, ttl_days=s.history_ttl_days)

    @cached_property
    def history(self) -> HistoryStore:
        """Conversation history: DynamoDB behind the Redis cache of the last messages."""
        from chalicelib.session_cache import RedisCachedHistoryStore

        s = self.settings
        if self.cache is None:
            return self.dynamo_history
        return RedisCachedHistoryStore(
            self.dynamo_history, self.cache, s.cache_messages, s.cache_ttl_seconds
        )

    @cached_property
    def sessions(self) -> SessionStore:
        """Sessions: DynamoDB (versioned) behind the Redis cache."""
        from chalicelib.session_cache import RedisCachedSessionStore

        if self.cache is None:
            return self.dynamo_sessions
        return RedisCachedSessionStore(
            self.dynamo_sessions, self.cache, self.settings.cache_ttl_seconds
        )

    @cached_property
    def summarizer(self) -> Summarizer:
        from parley.llm import ExtractiveSummarizer

        return ExtractiveSummarizer()

    @cached_property
    def turns(self) -> EventSender:
        return self.sender(self.settings.turns_queue)

    @cached_property
    def clock(self) -> Callable[[], datetime]:
        return _utcnow

    @cached_property
    def sequencer(self) -> Sequencer:
        from chalicelib.sequencer import Deps, Policy, Sequencer

        deps = Deps(
            history=self.history,
            sessions=self.sessions,
            turns=self.turns,
            publisher=self.publisher,
            summarizer=self.summarizer,
            policy=Policy.from_settings(self.settings),
            logger=self.logger,
            clock=self.clock,
        )
        return Sequencer(deps)

    @cached_property
    def sweeper(self) -> Sweeper:
        from chalicelib.sweeper import Sweeper

        return Sweeper(self.sequencer)

    def erase_customer(self, wa_id: str) -> dict[str, int]:
        """Delete the customer's history and sessions, and their cache keys; the counts."""
        return {
            "messages": self.history.erase_customer(wa_id),
            "sessions": self.sessions.erase_customer(wa_id),
        }


runtime = ContextRuntime(_settings, _dependencies)
