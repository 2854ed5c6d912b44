"""`BedrockChatModel`: the Converse API (tool use, system prompt, optional guardrail, prompt
caching, a model id per tier) through a `parley.aws` client with the model's own read timeout."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chalicelib.providers.exceptions import (
    MalformedToolCall,
    ModelRequestRejected,
    ModelThrottled,
    ModelTimeout,
)
from chalicelib.providers.tooling import check_tool_calls, parse_arguments
from parley.chat import ChatMessage, ChatRequest, ChatResponse, Tier, ToolCall, ToolSpec
from parley.errors import ModelError

_CACHE_POINT = {"cachePoint": {"type": "default"}}
_STOP_REASONS = {
    "end_turn": "end_turn",
    "stop_sequence": "end_turn",
    "tool_use": "tool_use",
    "max_tokens": "max_tokens",
    "model_context_window_exceeded": "max_tokens",
    "guardrail_intervened": "guardrail",
    "content_filtered": "guardrail",
}
_MALFORMED_STOPS = frozenset({"malformed_model_output", "malformed_tool_use"})
_THROTTLING = frozenset({"ThrottlingException", "ServiceQuotaExceededException"})
_TIMEOUTS = frozenset({"ModelTimeoutException"})
_PERMANENT = frozenset(
    {"ValidationException", "AccessDeniedException", "ResourceNotFoundException"}
)


class BedrockChatModel:
    """`model_ids` maps each tier to a Bedrock model (or inference profile) id; `guardrail` is
    `(id, version)`; `client` a `bedrock-runtime` client (default: `parley.aws`, read timeout
    `read_timeout`)."""

    def __init__(
        self,
        model_ids: Mapping[Tier, str],
        *,
        guardrail: tuple[str, str] | None = None,
        prompt_caching: bool = True,
        read_timeout: float = 20.0,
        client: Any = None,
    ) -> None:
        self._model_ids = dict(model_ids)
        self._guardrail = guardrail
        self._caching = prompt_caching
        self._read_timeout = read_timeout
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            from parley import aws

            self._client = aws.client("bedrock-runtime", read_timeout=self._read_timeout)
        return self._client

    def converse_request(self, request: ChatRequest) -> dict[str, Any]:
        """The Converse parameters for a request (public: tests validate them)."""
        system: list[dict[str, Any]] = [{"text": request.system}] if request.system else []
        if system and self._caching:
            system.append(_CACHE_POINT)  # the system prompt (and tools) are cached per prefix
        params: dict[str, Any] = {
            "modelId": self._model_ids[request.tier],
            "messages": messages_to_bedrock(request.messages),
            "inferenceConfig": {
                "maxTokens": request.max_tokens,
                "temperature": request.temperature,
            },
        }
        if system:
            params["system"] = system
        if request.tools:
            params["toolConfig"] = {"tools": self._tools(request.tools)}
        if self._guardrail:
            identifier, version = self._guardrail
            params["guardrailConfig"] = {
                "guardrailIdentifier": identifier,
                "guardrailVersion": version,
                "trace": "disabled",
            }
        return params

    def _tools(self, tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
        specs: list[dict[str, Any]] = [
            {
                "toolSpec": {
                    "name": t.name,
                    "description": t.description,
                    "inputSchema": {"json": t.input_schema},
                }
            }
            for t in tools
        ]
        return [*specs, _CACHE_POINT] if self._caching else specs

    def complete(self, request: ChatRequest) -> ChatResponse:
        params = self.converse_request(request)
        try:
            raw = self.client.converse(**params)
        except Exception as exc:
            raise translate_error(exc) from exc
        return parse_response(raw, request.tools, params["modelId"])


def messages_to_bedrock(messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    """Converse messages: tool results become `toolResult` blocks of a user turn, consecutive turns
    of one role are merged (Converse wants them alternating) and the list starts with the user."""
    merged: list[dict[str, Any]] = []
    for message in messages:
        role = "assistant" if message.role == "assistant" else "user"
        blocks = _blocks(message)
        if not blocks:
            continue
        if merged and merged[-1]["role"] == role:
            merged[-1]["content"].extend(blocks)
        else:
            merged.append({"role": role, "content": blocks})
    while merged and merged[0]["role"] != "user":
        merged.pop(0)  # a conversation the bot opened: its opening line is context we drop
    return merged


def _blocks(message: ChatMessage) -> list[dict[str, Any]]:
    if message.role == "tool":
        result = {
            "toolUseId": message.tool_call_id or "",
            "content": [{"text": message.content or "(empty)"}],
            "status": "error" if message.is_error else "success",
        }
        return [{"toolResult": result}]
    blocks: list[dict[str, Any]] = [{"text": message.content}] if message.content.strip() else []
    for call in message.tool_calls:
        blocks.append(
            {"toolUse": {"toolUseId": call.id, "name": call.name, "input": call.arguments}}
        )
    return blocks


def parse_response(raw: Mapping[str, Any], tools: Sequence[ToolSpec], model: str) -> ChatResponse:
    stop = str(raw.get("stopReason", "end_turn"))
    if stop in _MALFORMED_STOPS:
        raise MalformedToolCall(
            f"the model's output was malformed ({stop})", detail={"reason": stop}
        )
    content = ((raw.get("output") or {}).get("message") or {}).get("content") or []
    texts = [block["text"] for block in content if "text" in block]
    calls = [_tool_call(block["toolUse"]) for block in content if "toolUse" in block]
    usage = raw.get("usage") or {}
    return ChatResponse(
        text="\n".join(texts).strip() or None,
        tool_calls=check_tool_calls(calls, tools),
        stop_reason=_STOP_REASONS.get(stop, "end_turn"),
        input_tokens=int(usage.get("inputTokens", 0)) + int(usage.get("cacheReadInputTokens", 0)),
        output_tokens=int(usage.get("outputTokens", 0)),
        model=model,
    )


def _tool_call(block: Mapping[str, Any]) -> ToolCall:
    name = str(block.get("name", ""))
    return ToolCall(
        id=str(block.get("toolUseId", "")),
        name=name,
        arguments=parse_arguments(block.get("input"), name),
    )


def translate_error(exc: Exception) -> Exception:
    """botocore's errors as Parley's: throttling, timeouts and 5xx retryable; a refused request
    (validation, access, unknown model) permanent."""
    from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError

    if isinstance(exc, ReadTimeoutError):
        return ModelTimeout("Bedrock did not answer in time")
    if isinstance(exc, ConnectionError):
        return ModelError(f"cannot reach Bedrock: {type(exc).__name__}")
    if not isinstance(exc, ClientError):
        return exc
    code = str(exc.response.get("Error", {}).get("Code", ""))
    detail: dict[str, object] = {"aws_code": code}
    if code in _THROTTLING:
        return ModelThrottled("Bedrock throttled the request", detail=detail)
    if code in _TIMEOUTS:
        return ModelTimeout("the Bedrock model timed out", detail=detail)
    if code in _PERMANENT:
        return ModelRequestRejected(f"Bedrock refused the request ({code})", detail=detail)
    return ModelError(f"Bedrock failed ({code or 'unknown error'})", detail=detail)
