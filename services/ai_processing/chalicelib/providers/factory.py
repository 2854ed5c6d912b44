"""`build_chat_model(settings)`: the chat model the settings choose, built lazily (boto3 and
requests are imported only by the provider that needs them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from parley.chat import ChatModel

if TYPE_CHECKING:
    from parley.settings import AiProcessingSettings


def build_chat_model(settings: AiProcessingSettings, *, resilient: bool = True) -> ChatModel:
    """`LLM_PROVIDER=local` (default): `LocalChatModel`, offline and deterministic, never wrapped
    (it cannot time out). `bedrock` / `openai`: the adapter wrapped in `ResilientChatModel` with a
    fresh circuit breaker: call once per container (wiring caches it) so the breaker sees every
    call the container makes."""
    if settings.llm_provider == "local":
        from chalicelib.providers.local import LocalChatModel

        return LocalChatModel()
    inner = _bedrock(settings) if settings.llm_provider == "bedrock" else _openai(settings)
    if not resilient:
        return inner
    from chalicelib.providers.resilience import CircuitBreaker, ResilientChatModel

    breaker = CircuitBreaker(
        settings.circuit_breaker_failures, settings.circuit_breaker_reset_seconds
    )
    return ResilientChatModel(inner, settings.model_retry_budget_seconds, breaker)


def _bedrock(s: AiProcessingSettings) -> ChatModel:
    from chalicelib.providers.bedrock import BedrockChatModel

    guardrail = (s.bedrock_guardrail_id, s.bedrock_guardrail_version)
    return BedrockChatModel(
        {
            "fast": s.bedrock_model_fast,
            "standard": s.bedrock_model_standard,
            "advanced": s.bedrock_model_advanced,
        },
        guardrail=guardrail if s.bedrock_guardrail_id else None,
        prompt_caching=s.bedrock_prompt_caching,
        read_timeout=s.model_timeout_seconds,
    )


def _openai(s: AiProcessingSettings) -> ChatModel:
    from chalicelib.providers.openai_compatible import OpenAIChatModel

    api_key = s.openai_api_key
    if s.openai_api_key_secret_id:
        from parley.secrets import secret_json

        api_key = str(secret_json(s.openai_api_key_secret_id)["api_key"])
    return OpenAIChatModel(
        s.openai_base_url,
        {
            "fast": s.openai_model_fast,
            "standard": s.openai_model_standard,
            "advanced": s.openai_model_advanced,
        },
        api_key=api_key,
        timeout=s.model_timeout_seconds,
    )
