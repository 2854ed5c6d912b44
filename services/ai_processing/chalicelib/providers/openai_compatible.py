"""`OpenAIChatModel`: any OpenAI-compatible server (`POST {base_url}/chat/completions`, the base URL
including `/v1` as in OpenAI's SDKs): vLLM, llama.cpp, Ollama, LM Studio, OpenAI itself. Plain
`requests` with connect/read timeouts; no SDK."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from chalicelib.providers.exceptions import (
    ModelRequestRejected,
    ModelThrottled,
    ModelTimeout,
)
from chalicelib.providers.tooling import check_tool_calls, parse_arguments
from parley.chat import ChatMessage, ChatRequest, ChatResponse, Tier, ToolCall, ToolSpec
from parley.errors import ModelError

if TYPE_CHECKING:
    import requests

_CONNECT_TIMEOUT = 3.0
_FINISH_REASONS = {
    "stop": "end_turn",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "length": "max_tokens",
    "content_filter": "guardrail",
}


class OpenAIChatModel:
    """`model_ids` maps each tier to the server's model name; `timeout` is the read timeout."""

    def __init__(
        self,
        base_url: str,
        model_ids: Mapping[Tier, str],
        *,
        api_key: str | None = None,
        timeout: float = 20.0,
        session: requests.Session | None = None,
    ) -> None:
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._model_ids = dict(model_ids)
        self._api_key = api_key
        self._timeout = timeout
        self._session = session

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            import requests

            self._session = requests.Session()
        return self._session

    def request_body(self, request: ChatRequest) -> dict[str, Any]:
        """The JSON body for a request (public: tests compare it)."""
        body: dict[str, Any] = {
            "model": self._model_ids[request.tier],
            "messages": messages_to_openai(request.system, request.messages),
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
        }
        if request.tools:
            body["tools"] = [_tool(t) for t in request.tools]
        return body

    def complete(self, request: ChatRequest) -> ChatResponse:
        body = self.request_body(request)
        raw = self._post(body)
        return parse_completion(raw, request.tools, body["model"])

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        import requests

        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        try:
            response = self.session.post(
                self._url, json=body, headers=headers, timeout=(_CONNECT_TIMEOUT, self._timeout)
            )
        except requests.Timeout as exc:
            raise ModelTimeout("the model server did not answer in time") from exc
        except requests.RequestException as exc:
            raise ModelError(f"cannot reach the model server: {type(exc).__name__}") from exc
        check_status(response.status_code, response.text)
        try:
            parsed = response.json()
        except ValueError as exc:
            raise ModelError("the model server answered something that is not JSON") from exc
        if not isinstance(parsed, dict):
            raise ModelError("the model server answered JSON that is not an object")
        return parsed


def check_status(status: int, text: str) -> None:
    """429 throttled, 408/5xx retryable, any other 4xx permanent (our request is wrong)."""
    if status < 400:
        return
    detail: dict[str, object] = {"status": status, "body": text[:300]}
    if status == 429:
        raise ModelThrottled("the model server throttled the request", detail=detail)
    if status == 408 or status >= 500:
        raise ModelError(f"the model server failed (HTTP {status})", detail=detail)
    raise ModelRequestRejected(
        f"the model server refused the request (HTTP {status})", detail=detail
    )


def messages_to_openai(system: str, messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    converted: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    for message in messages:
        if message.role == "tool":
            content = f"ERROR: {message.content}" if message.is_error else message.content
            converted.append(
                {"role": "tool", "tool_call_id": message.tool_call_id or "", "content": content}
            )
        elif message.role == "assistant" and message.tool_calls:
            converted.append(
                {
                    "role": "assistant",
                    "content": message.content or None,
                    "tool_calls": [_call_to_openai(c) for c in message.tool_calls],
                }
            )
        else:
            converted.append({"role": message.role, "content": message.content})
    return converted


def _call_to_openai(call: ToolCall) -> dict[str, Any]:
    arguments = json.dumps(call.arguments, ensure_ascii=False)
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": arguments},
    }


def _tool(tool: ToolSpec) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.input_schema,
        },
    }


def parse_completion(raw: Mapping[str, Any], tools: Sequence[ToolSpec], model: str) -> ChatResponse:
    choices = raw.get("choices") or []
    if not choices or not isinstance(choices[0], dict):
        raise ModelError("the model server answered without a choice")
    message = choices[0].get("message") or {}
    calls = [_call_from_openai(c) for c in message.get("tool_calls") or []]
    usage = raw.get("usage") or {}
    finish = str(choices[0].get("finish_reason") or "stop")
    return ChatResponse(
        text=(message.get("content") or "").strip() or None,
        tool_calls=check_tool_calls(calls, tools),
        stop_reason="tool_use" if calls else _FINISH_REASONS.get(finish, "end_turn"),
        input_tokens=int(usage.get("prompt_tokens") or 0),
        output_tokens=int(usage.get("completion_tokens") or 0),
        model=str(raw.get("model") or model),
    )


def _call_from_openai(raw: Mapping[str, Any]) -> ToolCall:
    function = raw.get("function") or {}
    name = str(function.get("name") or "")
    return ToolCall(
        id=str(raw.get("id") or ""),
        name=name,
        arguments=parse_arguments(function.get("arguments"), name),
    )
