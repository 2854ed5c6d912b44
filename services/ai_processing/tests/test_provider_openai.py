"""OpenAIChatModel against a fake OpenAI-compatible server on a loopback port (a thread): the JSON
sent, tool calls parsed, and 429 / 500 / 400 / timeout / malformed arguments as Parley errors."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from test_provider_support import HANDOFF, SEARCH

from chalicelib.providers import (
    MalformedToolCall,
    ModelRequestRejected,
    ModelThrottled,
    ModelTimeout,
)
from chalicelib.providers.openai_compatible import OpenAIChatModel
from parley.chat import ChatMessage, ChatRequest, ToolCall
from parley.errors import ModelError

MODELS = {"fast": "small", "standard": "medium", "advanced": "large"}
CALL = ToolCall(id="call_1", name="search_knowledge", arguments={"query": "matrícula"})
REQUEST = ChatRequest(
    system="Eres el asistente de admisiones.",
    messages=[
        ChatMessage(role="user", content="¿Cuánto cuesta la matrícula?"),
        ChatMessage(role="assistant", tool_calls=[CALL]),
        ChatMessage(role="tool", tool_call_id="call_1", content='{"passages": []}'),
    ],
    tools=[SEARCH, HANDOFF],
    language="es",
)


class FakeServer:
    """Records each request; answers with the next scripted (status, body, delay)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script: list[tuple[int, Any, float]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                fake.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": json.loads(self.rfile.read(length)),
                    }
                )
                status, body, delay = fake.script.pop(0)
                time.sleep(delay)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, status: int, body: Any, delay: float = 0.0) -> None:
        self.script.append((status, body, delay))

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[FakeServer]:
    fake = FakeServer()
    yield fake
    fake.close()


def _completion(message: dict[str, Any], finish: str = "stop") -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "model": "medium-2026",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 90, "completion_tokens": 12, "total_tokens": 102},
    }


def test_the_request_json_carries_system_tools_and_tool_messages(server: FakeServer) -> None:
    server.answer(200, _completion({"role": "assistant", "content": "Cuesta $18,900."}))
    model = OpenAIChatModel(server.url, MODELS, api_key="sk-test", timeout=2.0)
    response = model.complete(REQUEST)
    sent = server.requests[0]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["headers"]["Authorization"] == "Bearer sk-test"
    assert sent["body"] == {
        "model": "medium",
        "messages": [
            {"role": "system", "content": "Eres el asistente de admisiones."},
            {"role": "user", "content": "¿Cuánto cuesta la matrícula?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {
                            "name": "search_knowledge",
                            "arguments": '{"query": "matrícula"}',
                        },
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": '{"passages": []}'},
        ],
        "max_tokens": 800,
        "temperature": 0.2,
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": t.name,
                    "description": t.description,
                    "parameters": t.input_schema,
                },
            }
            for t in (SEARCH, HANDOFF)
        ],
    }
    assert response.text == "Cuesta $18,900."
    assert (response.input_tokens, response.output_tokens) == (90, 12)
    assert response.model == "medium-2026" and response.stop_reason == "end_turn"


def test_tool_calls_are_parsed(server: FakeServer) -> None:
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_7",
                "type": "function",
                "function": {"name": "handoff_to_human", "arguments": '{"reason": "asked"}'},
            }
        ],
    }
    server.answer(200, _completion(message, "tool_calls"))
    response = OpenAIChatModel(server.url, MODELS).complete(REQUEST)
    assert "Authorization" not in server.requests[0]["headers"]
    assert response.stop_reason == "tool_use" and response.text is None
    assert response.tool_calls == [
        ToolCall(id="call_7", name="handoff_to_human", arguments={"reason": "asked"})
    ]


@pytest.mark.parametrize(
    ("status", "error", "retryable"),
    [
        (429, ModelThrottled, True),
        (500, ModelError, True),
        (503, ModelError, True),
        (400, ModelRequestRejected, False),
        (401, ModelRequestRejected, False),
    ],
)
def test_http_errors_become_parley_errors(
    server: FakeServer, status: int, error: type[Exception], retryable: bool
) -> None:
    server.answer(status, {"error": {"message": "no"}})
    with pytest.raises(error) as caught:
        OpenAIChatModel(server.url, MODELS).complete(REQUEST)
    assert isinstance(caught.value, ModelError) and caught.value.retryable is retryable
    assert caught.value.detail["status"] == status


def test_a_slow_server_is_a_retryable_timeout(server: FakeServer) -> None:
    server.answer(200, _completion({"content": "late"}), delay=0.2)
    with pytest.raises(ModelTimeout) as caught:
        OpenAIChatModel(server.url, MODELS, timeout=0.05).complete(REQUEST)
    assert caught.value.retryable


def test_an_unreachable_server_is_a_retryable_model_error(server: FakeServer) -> None:
    url = server.url
    server.close()
    with pytest.raises(ModelError) as caught:
        OpenAIChatModel(url, MODELS, timeout=0.5).complete(REQUEST)
    assert caught.value.retryable


@pytest.mark.parametrize(
    ("function", "reason"),
    [
        ({"name": "search_knowledge", "arguments": '{"query": "fees"'}, "invalid_json"),
        ({"name": "search_knowledge", "arguments": '["fees"]'}, "not_an_object"),
        ({"name": "wire_money", "arguments": "{}"}, "unknown_tool"),
    ],
)
def test_malformed_tool_calls_are_retryable_errors(
    server: FakeServer, function: dict[str, str], reason: str
) -> None:
    message = {
        "content": None,
        "tool_calls": [{"id": "c", "type": "function", "function": function}],
    }
    server.answer(200, _completion(message, "tool_calls"))
    with pytest.raises(MalformedToolCall) as caught:
        OpenAIChatModel(server.url, MODELS).complete(REQUEST)
    assert caught.value.retryable and caught.value.detail["reason"] == reason


@pytest.mark.parametrize("body", [b"<html>bad gateway</html>", {"choices": []}])
def test_an_unreadable_answer_is_a_retryable_model_error(server: FakeServer, body: Any) -> None:
    server.answer(200, body)
    with pytest.raises(ModelError) as caught:
        OpenAIChatModel(server.url, MODELS).complete(REQUEST)
    assert caught.value.retryable


def test_the_supervisor_takes_the_intent_and_its_confidence_from_the_model(
    server: FakeServer,
) -> None:
    from chalicelib.agents import load_shipped
    from chalicelib.turns.routing import Supervisor

    answer = '```json\n{"intent": "tuition_fees", "confidence": 0.62}\n```'
    server.answer(200, _completion({"role": "assistant", "content": answer}))
    model = OpenAIChatModel(server.url, MODELS, api_key="sk-test", timeout=2.0)
    route = Supervisor(load_shipped(), model, use_model=True).route("¿Cuánto cuesta?", "es")
    assert (route.intent, route.confidence, route.by) == ("tuition_fees", 0.62, "model")
    sent = server.requests[0]["body"]
    assert sent["model"] == "small" and sent["temperature"] == 0.0
    assert '"confidence"' in sent["messages"][0]["content"]
    assert "- out_of_scope:" in sent["messages"][0]["content"]


@pytest.mark.parametrize(
    "answer",
    [
        "tuition_fees",  # no confidence: not the schema
        '{"intent": "tuition_fees", "confidence": 7}',  # out of range
        '{"intent": "weather", "confidence": 0.9}',  # not an intent
    ],
)
def test_a_classification_outside_the_schema_falls_back_to_the_examples(
    server: FakeServer, answer: str
) -> None:
    from chalicelib.agents import load_shipped
    from chalicelib.turns.routing import Supervisor

    server.answer(200, _completion({"role": "assistant", "content": answer}))
    model = OpenAIChatModel(server.url, MODELS, api_key="sk-test", timeout=2.0)
    route = Supervisor(load_shipped(), model, use_model=True).route("How much is tuition?", "en")
    assert route.by == "examples" and route.intent == "tuition_fees"
