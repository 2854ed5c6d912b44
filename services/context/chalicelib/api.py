"""The context HTTP API: transcripts, sessions, customer export and erasure.

In AWS every route sits behind API Gateway's IAM authorizer (app.py attaches it when the stage is
not `local`); locally the `x-api-key` header must equal the `API_KEY` setting. Path and query
values are validated in `api_models`; errors are `parley.errors` answered as JSON by app.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chalicelib import api_models as m
from parley.errors import NotFound

if TYPE_CHECKING:
    from collections.abc import Mapping

    from chalicelib.erasure import ConversationCache, CustomerEraser, CustomerHistory
    from chalicelib.models import HistoryStore, SessionStore
    from parley.service import ServiceRuntime
    from parley.settings import ContextSettings

LOCAL_REQUESTER = "local-api-key"


def requester(request_context: Mapping[str, Any] | None) -> str:
    """Who asked, for the erasure record: the IAM caller in AWS, the local API key otherwise."""
    identity = (request_context or {}).get("identity") or {}
    return str(identity.get("userArn") or identity.get("caller") or LOCAL_REQUESTER)


@dataclass(frozen=True)
class ContextApi:
    """The routes' logic over the stores; each method answers a JSON-ready dict."""

    history: HistoryStore
    sessions: SessionStore
    eraser: CustomerEraser

    def transcript(self, raw_key: str, query: Mapping[str, str] | None) -> dict[str, Any]:
        key = m.conversation_key(raw_key)
        params = m.PageParams.parse(query)
        before = m.decode_cursor(key, params.before) if params.before else None
        messages, store_cursor = self.history.page(key, params.limit, before)
        if not messages and before is None and self.sessions.get(key) is None:
            raise NotFound(f"no conversation {key}")
        page = m.TranscriptPage(
            conversation=key,
            messages=messages,
            next_before=m.encode_cursor(key, store_cursor) if store_cursor else None,
        )
        return page.model_dump(mode="json")

    def session(self, raw_key: str) -> dict[str, Any]:
        key = m.conversation_key(raw_key)
        session = self.sessions.get(key)
        if session is None:
            raise NotFound(f"no session for conversation {key}")
        return session.model_dump(mode="json")

    def export(self, raw_wa_id: str) -> dict[str, Any]:
        wa_id = m.wa_id(raw_wa_id)
        sessions = sorted(self.sessions.for_customer(wa_id), key=lambda s: s.conversation)
        messages = sorted(self.history.for_customer(wa_id), key=lambda x: (x.conversation, x.at))
        keys = {s.conversation for s in sessions} | {x.conversation for x in messages}
        export = m.CustomerExport(
            wa_id=wa_id,
            exported_at=datetime.now(UTC),
            conversations=sorted(keys),
            sessions=sessions,
            messages=messages,
        )
        return export.model_dump(mode="json")

    def erase(self, raw_wa_id: str, requested_by: str | None) -> dict[str, Any]:
        wa_id = m.wa_id(raw_wa_id)
        return self.eraser.erase(wa_id, requested_by).model_dump(mode="json")


def build_api(runtime: ServiceRuntime[ContextSettings]) -> ContextApi:
    """The API over the service's own stores, built from `runtime.settings` (per request: the
    stores are light, and their AWS/Redis clients are cached per container by `parley`)."""
    from chalicelib.erasure import CustomerEraser

    settings = runtime.settings
    history, sessions = _stores(settings)
    eraser = CustomerEraser(
        history=history,
        sessions=sessions,
        cache=_cache(settings),
        publisher=runtime.publisher,
        producer=settings.service_name,
    )
    return ContextApi(history=history, sessions=sessions, eraser=eraser)


def _stores(settings: ContextSettings) -> tuple[CustomerHistory, SessionStore]:
    from chalicelib.history import DynamoHistoryStore
    from chalicelib.sessions import DynamoSessionStore

    ttl_days = settings.history_ttl_days
    return (
        DynamoHistoryStore(settings.conversations_table, ttl_days=ttl_days),
        DynamoSessionStore(settings.sessions_table, ttl_days=ttl_days),
    )


def _cache(settings: ContextSettings) -> ConversationCache | None:
    if not settings.redis_url:
        return None
    from chalicelib.erasure import RedisConversationCache
    from parley.cache import redis_client

    return RedisConversationCache(redis_client(settings.redis_url))
