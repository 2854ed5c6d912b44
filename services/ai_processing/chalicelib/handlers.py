"""Event handlers of the ai_processing service, by event type.

This service consumes turn.requested events from the context service. The turn handler and its
dependencies are built on first use from the runtime (settings, retriever, publisher, sender).

An event type without a handler here is parked in the DLQ with the reason (never retried), so an
event this service cannot handle yet is visible and redrivable instead of lost.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.turns import TurnHandler
    from chalicelib.wiring import AiProcessingRuntime
    from parley.batch import EventHandler
    from parley.events import Event

_LOCK = threading.Lock()
_BUILT: dict[str, TurnHandler] = {}


def build_turn_handler(runtime: AiProcessingRuntime) -> TurnHandler:
    """The turn handler wired from the runtime's settings and adapters."""
    from chalicelib.agents import load_agents
    from chalicelib.providers import build_chat_model
    from chalicelib.response_cache import ResponseCache
    from chalicelib.tools import default_tools
    from chalicelib.turns import TurnDeps, TurnHandler

    s = runtime.settings
    config = load_agents(s.kb_bucket, logger=runtime.logger)
    redis = None
    if s.redis_url:
        from parley.cache import redis_client

        redis = redis_client(s.redis_url)
    deps = TurnDeps(
        config=config,
        model=build_chat_model(s),
        retriever=runtime.retriever,
        tools=default_tools(s.application_status_url),
        send_reply=runtime.sender(s.outbound_queue).send,
        publish=runtime.publisher.publish,
        cache=ResponseCache(redis, config.limits.cache_ttl_seconds, runtime.logger),
        logger=runtime.logger,
        use_model_routing=s.llm_provider != "local",
    )
    return TurnHandler(deps)


def turn_handler() -> TurnHandler:
    with _LOCK:
        if "turn" not in _BUILT:
            from chalicelib.wiring import runtime

            _BUILT["turn"] = build_turn_handler(runtime)
        return _BUILT["turn"]


def reset() -> None:
    """Forget the built handler (tests, new settings)."""
    with _LOCK:
        _BUILT.clear()


def handle_turn(event: Event) -> None:
    from parley.events import TurnRequestedEvent  # its models cost ~300 ms of cold start

    assert isinstance(event, TurnRequestedEvent)
    turn_handler()(event)


HANDLERS: dict[str, EventHandler] = {"turn.requested": handle_turn}
