"""Chat-model providers for the agents (`parley.chat.ChatModel`): `LocalChatModel` (offline
default), `BedrockChatModel` (Converse), `OpenAIChatModel` (any OpenAI-compatible server), the
`ResilientChatModel` wrapper and `build_chat_model(settings)`; `classify_intent` for the supervisor
on the local provider. Errors: `chalicelib.providers.exceptions` (all `parley.errors.ModelError`).

Adapters are imported lazily (boto3, requests): import them from their modules, or use the factory.
"""

from chalicelib.providers.classify import IntentClassifier, classify_intent
from chalicelib.providers.exceptions import (
    MalformedToolCall,
    ModelRequestRejected,
    ModelThrottled,
    ModelTimeout,
    ModelUnavailable,
)
from chalicelib.providers.factory import build_chat_model
from chalicelib.providers.local import LocalChatModel
from chalicelib.providers.resilience import CircuitBreaker, ResilientChatModel
from chalicelib.providers.tooling import (
    HANDOFF_TOOL,
    SEARCH_TOOL,
    format_passages,
    parse_passages,
)

__all__ = [
    "HANDOFF_TOOL",
    "SEARCH_TOOL",
    "CircuitBreaker",
    "IntentClassifier",
    "LocalChatModel",
    "MalformedToolCall",
    "ModelRequestRejected",
    "ModelThrottled",
    "ModelTimeout",
    "ModelUnavailable",
    "ResilientChatModel",
    "build_chat_model",
    "classify_intent",
    "format_passages",
    "parse_passages",
]
