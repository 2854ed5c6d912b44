"""The chat-model provider interface (the `ChatModel` role): one request/response shape for
Bedrock Converse, any OpenAI-compatible server and the offline local engine.

A turn is a loop: the agent sends a `ChatRequest` (system prompt, messages, the tools it may call);
the model answers text, or tool calls whose results go back as `tool` messages in the next request.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

Tier = Literal["fast", "standard", "advanced"]


class ToolCall(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class ChatMessage(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: Literal["user", "assistant", "tool"]
    content: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)  # assistant turns that called tools
    tool_call_id: str | None = None  # tool results: which call they answer
    is_error: bool = False  # tool results that failed


class ToolSpec(BaseModel):
    """A tool the model may call, described by a JSON schema of its input."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str
    input_schema: dict[str, Any]


class ChatRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    system: str
    messages: list[ChatMessage]
    tools: list[ToolSpec] = Field(default_factory=list)
    tier: Tier = "standard"
    max_tokens: int = 800
    temperature: float = 0.2
    language: str | None = None  # the customer's language, a hint for the local engine


class ChatResponse(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    stop_reason: Literal["end_turn", "tool_use", "max_tokens", "guardrail"] = "end_turn"
    input_tokens: int = 0
    output_tokens: int = 0
    model: str = ""


class ChatModel(Protocol):
    """Answers one request; raises `parley.errors.ModelError` (retryable: timeouts, throttling)
    or a permanent ParleyError (e.g. a malformed request)."""

    def complete(self, request: ChatRequest) -> ChatResponse: ...
