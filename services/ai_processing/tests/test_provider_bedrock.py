"""BedrockChatModel through botocore's Stubber on a real `bedrock-runtime` client: the client
validates every request against the service model, the Stubber the exact parameters and the
response shape."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from test_provider_support import HANDOFF, SEARCH

from chalicelib.providers import (
    MalformedToolCall,
    ModelRequestRejected,
    ModelThrottled,
    ModelTimeout,
)
from chalicelib.providers.bedrock import BedrockChatModel
from parley.chat import ChatMessage, ChatRequest, ToolCall
from parley.errors import ModelError, Throttled

MODELS = {"fast": "model-fast", "standard": "model-standard", "advanced": "model-advanced"}
CALL = ToolCall(id="tool-1", name="search_knowledge", arguments={"query": "deadline"})
REQUEST = ChatRequest(
    system="You are the admissions assistant.",
    messages=[
        ChatMessage(role="user", content="When is the deadline?"),
        ChatMessage(role="assistant", tool_calls=[CALL]),
        ChatMessage(role="tool", tool_call_id="tool-1", content='{"passages": []}'),
    ],
    tools=[SEARCH, HANDOFF],
    tier="fast",
    max_tokens=300,
    temperature=0.1,
)


@pytest.fixture
def client() -> Iterator[Any]:
    real = boto3.session.Session().client(
        "bedrock-runtime",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    yield real


def _answer(content: list[dict[str, Any]], stop: str = "end_turn") -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop,
        "usage": {"inputTokens": 120, "outputTokens": 30, "totalTokens": 150},
        "metrics": {"latencyMs": 300},
    }


def test_the_request_carries_system_cache_point_tools_guardrail_and_tool_blocks(
    client: Any,
) -> None:
    model = BedrockChatModel(MODELS, guardrail=("gr-123", "2"), client=client)
    expected = {
        "modelId": "model-fast",
        "system": [
            {"text": "You are the admissions assistant."},
            {"cachePoint": {"type": "default"}},
        ],
        "messages": [
            {"role": "user", "content": [{"text": "When is the deadline?"}]},
            {
                "role": "assistant",
                "content": [
                    {
                        "toolUse": {
                            "toolUseId": "tool-1",
                            "name": "search_knowledge",
                            "input": {"query": "deadline"},
                        }
                    }
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "toolResult": {
                            "toolUseId": "tool-1",
                            "content": [{"text": '{"passages": []}'}],
                            "status": "success",
                        }
                    }
                ],
            },
        ],
        "inferenceConfig": {"maxTokens": 300, "temperature": 0.1},
        "toolConfig": {
            "tools": [
                {
                    "toolSpec": {
                        "name": "search_knowledge",
                        "description": SEARCH.description,
                        "inputSchema": {"json": SEARCH.input_schema},
                    }
                },
                {
                    "toolSpec": {
                        "name": "handoff_to_human",
                        "description": HANDOFF.description,
                        "inputSchema": {"json": HANDOFF.input_schema},
                    }
                },
                {"cachePoint": {"type": "default"}},
            ]
        },
        "guardrailConfig": {
            "guardrailIdentifier": "gr-123",
            "guardrailVersion": "2",
            "trace": "disabled",
        },
    }
    with Stubber(client) as stub:
        stub.add_response("converse", _answer([{"text": "February 1, 2027."}]), expected)
        response = model.complete(REQUEST)
        stub.assert_no_pending_responses()
    assert response.text == "February 1, 2027."
    assert response.stop_reason == "end_turn"
    assert (response.input_tokens, response.output_tokens) == (120, 30)
    assert response.model == "model-fast"


def test_without_caching_or_guardrail_or_tools_the_request_is_minimal(client: Any) -> None:
    model = BedrockChatModel(MODELS, prompt_caching=False, client=client)
    request = ChatRequest(
        system="Be brief.", messages=[ChatMessage(role="user", content="Hi")], tier="advanced"
    )
    expected = {
        "modelId": "model-advanced",
        "system": [{"text": "Be brief."}],
        "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
        "inferenceConfig": {"maxTokens": 800, "temperature": 0.2},
    }
    with Stubber(client) as stub:
        stub.add_response("converse", _answer([{"text": "Hello!"}]), expected)
        assert model.complete(request).text == "Hello!"


def test_a_tool_use_answer_becomes_tool_calls(client: Any) -> None:
    model = BedrockChatModel(MODELS, client=client)
    content: list[dict[str, Any]] = [
        {"text": "Let me check."},
        {"toolUse": {"toolUseId": "t-9", "name": "handoff_to_human", "input": {"reason": "asked"}}},
    ]
    with Stubber(client) as stub:
        stub.add_response("converse", _answer(content, "tool_use"))
        response = model.complete(REQUEST)
    assert response.stop_reason == "tool_use"
    assert response.tool_calls == [
        ToolCall(id="t-9", name="handoff_to_human", arguments={"reason": "asked"})
    ]
    assert response.text == "Let me check."


def test_an_error_tool_result_and_consecutive_user_turns_are_merged(client: Any) -> None:
    model = BedrockChatModel(MODELS, client=client)
    messages = [
        ChatMessage(role="assistant", content="Welcome!"),  # the bot opened: dropped
        ChatMessage(role="user", content="hello"),
        ChatMessage(role="user", content="deadline?"),
        ChatMessage(role="assistant", content="Checking", tool_calls=[CALL]),
        ChatMessage(role="tool", tool_call_id="tool-1", content="boom", is_error=True),
    ]
    params = model.converse_request(REQUEST.model_copy(update={"messages": messages}))
    assert [m["role"] for m in params["messages"]] == ["user", "assistant", "user"]
    assert params["messages"][0]["content"] == [{"text": "hello"}, {"text": "deadline?"}]
    assert params["messages"][2]["content"][0]["toolResult"]["status"] == "error"
    with Stubber(client) as stub:  # and the service model accepts it
        stub.add_response("converse", _answer([{"text": "ok"}]))
        model.complete(REQUEST.model_copy(update={"messages": messages}))


@pytest.mark.parametrize(
    ("stop", "expected"),
    [
        ("max_tokens", "max_tokens"),
        ("guardrail_intervened", "guardrail"),
        ("content_filtered", "guardrail"),
        ("stop_sequence", "end_turn"),
    ],
)
def test_stop_reasons_are_mapped(client: Any, stop: str, expected: str) -> None:
    model = BedrockChatModel(MODELS, client=client)
    with Stubber(client) as stub:
        stub.add_response("converse", _answer([{"text": "..."}], stop))
        assert model.complete(REQUEST).stop_reason == expected


@pytest.mark.parametrize(
    ("code", "status", "error", "retryable"),
    [
        ("ThrottlingException", 429, ModelThrottled, True),
        ("ModelTimeoutException", 408, ModelTimeout, True),
        ("ServiceUnavailableException", 503, ModelError, True),
        ("InternalServerException", 500, ModelError, True),
        ("ValidationException", 400, ModelRequestRejected, False),
        ("AccessDeniedException", 403, ModelRequestRejected, False),
    ],
)
def test_service_errors_become_parley_errors(
    client: Any, code: str, status: int, error: type[Exception], retryable: bool
) -> None:
    model = BedrockChatModel(MODELS, client=client)
    with Stubber(client) as stub:
        stub.add_client_error("converse", code, "nope", http_status_code=status)
        with pytest.raises(error) as caught:
            model.complete(REQUEST)
    assert isinstance(caught.value, ModelError)
    assert caught.value.retryable is retryable
    assert caught.value.detail["aws_code"] == code
    if code == "ThrottlingException":
        assert isinstance(caught.value, Throttled)


def test_a_read_timeout_is_a_retryable_model_timeout() -> None:
    from botocore.exceptions import ReadTimeoutError

    class TimingOut:
        def converse(self, **params: Any) -> dict[str, Any]:
            raise ReadTimeoutError(endpoint_url="https://bedrock-runtime")

    with pytest.raises(ModelTimeout) as caught:
        BedrockChatModel(MODELS, client=TimingOut()).complete(REQUEST)
    assert caught.value.retryable


@pytest.mark.parametrize(
    ("content", "stop", "reason"),
    [
        (
            [{"toolUse": {"toolUseId": "t", "name": "delete_everything", "input": {}}}],
            "tool_use",
            "unknown_tool",
        ),
        ([{"text": "..."}], "malformed_tool_use", "malformed_tool_use"),
        ([{"text": "..."}], "malformed_model_output", "malformed_model_output"),
    ],
)
def test_a_malformed_tool_call_is_a_retryable_malformed_tool_call(
    client: Any, content: list[dict[str, Any]], stop: str, reason: str
) -> None:
    model = BedrockChatModel(MODELS, client=client)
    with Stubber(client) as stub:
        stub.add_response("converse", _answer(content, stop))
        with pytest.raises(MalformedToolCall) as caught:
            model.complete(REQUEST)
    assert caught.value.retryable and caught.value.detail["reason"] == reason


def test_a_tool_input_that_is_not_an_object_is_malformed() -> None:
    from chalicelib.providers.bedrock import parse_response

    raw = _answer([{"toolUse": {"toolUseId": "t", "name": "search_knowledge", "input": "{bad"}}])
    with pytest.raises(MalformedToolCall) as caught:
        parse_response(raw, [SEARCH], "m")
    assert caught.value.detail == {"tool": "search_knowledge", "reason": "invalid_json"}


def test_the_supervisor_takes_the_intent_and_its_confidence_from_the_model(client: Any) -> None:
    from chalicelib.agents import load_shipped
    from chalicelib.turns.routing import Supervisor

    model = BedrockChatModel(MODELS, prompt_caching=False, client=client)
    reply = 'Sure: {"intent": "campus_visits", "confidence": 0.71}'
    with Stubber(client) as stub:
        stub.add_response("converse", _answer([{"text": reply}]))
        route = Supervisor(load_shipped(), model, use_model=True).route("Can I come by?", "en")
        stub.assert_no_pending_responses()
    assert (route.intent, route.confidence, route.by) == ("campus_visits", 0.71, "model")
