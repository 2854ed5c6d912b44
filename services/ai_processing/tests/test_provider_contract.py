"""One suite, every adapter: the agent loop's two steps (a `search_knowledge` call, then an answer
from the tool result) through LocalChatModel, BedrockChatModel on a Stubber-backed real client and
OpenAIChatModel on the loopback fake server, the networked ones scripted as a model would answer."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import Stubber
from test_provider_openai import FakeServer
from test_provider_support import TOOLS, ask, with_results

from chalicelib.providers import LocalChatModel
from chalicelib.providers.bedrock import BedrockChatModel
from chalicelib.providers.openai_compatible import OpenAIChatModel
from chalicelib.providers.tooling import format_passages
from parley.chat import ChatModel
from parley.retrieval import Passage

QUESTION = "When is the regular decision deadline?"
ANSWER = "Regular Decision: February 1, 2027.\n\nSource: deadlines-and-calendar.md"
PASSAGE = Passage(
    document="admissions/deadlines-and-calendar.md",
    section="Undergraduate First-Year Deadlines (Fall 2027)",
    text="The Regular Decision deadline is February 1, 2027.",
    score=3.0,
)
MODELS = {"fast": "m", "standard": "m", "advanced": "m"}


def _bedrock() -> Iterator[ChatModel]:
    client = boto3.session.Session().client(
        "bedrock-runtime", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    usage = {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15}
    call = {"toolUseId": "t1", "name": "search_knowledge", "input": {"query": QUESTION}}
    with Stubber(client) as stub:
        for content, stop in (([{"toolUse": call}], "tool_use"), ([{"text": ANSWER}], "end_turn")):
            response = {
                "output": {"message": {"role": "assistant", "content": content}},
                "stopReason": stop,
                "usage": usage,
                "metrics": {"latencyMs": 1},
            }
            stub.add_response("converse", response)
        yield BedrockChatModel(MODELS, client=client)


def _openai() -> Iterator[ChatModel]:
    server = FakeServer()
    function = {"name": "search_knowledge", "arguments": f'{{"query": "{QUESTION}"}}'}
    call = {"id": "c1", "type": "function", "function": function}
    for message, finish in (
        ({"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"),
        ({"role": "assistant", "content": ANSWER}, "stop"),
    ):
        server.answer(200, {"choices": [{"message": message, "finish_reason": finish}]})
    yield OpenAIChatModel(server.url, MODELS, timeout=2.0)
    server.close()


def _local() -> Iterator[ChatModel]:
    yield LocalChatModel()


@pytest.fixture(params=[_local, _bedrock, _openai], ids=["local", "bedrock", "openai"])
def model(request: pytest.FixtureRequest) -> Iterator[ChatModel]:
    yield from request.param()


def test_the_agent_loop_searches_then_answers_citing_the_source(model: ChatModel) -> None:
    first_request = ask(QUESTION, tools=TOOLS)
    first = model.complete(first_request)
    assert first.stop_reason == "tool_use"
    assert [(c.name, c.arguments) for c in first.tool_calls] == [
        ("search_knowledge", {"query": QUESTION})
    ]
    assert all(call.id for call in first.tool_calls)
    second = model.complete(with_results(first_request, first, [format_passages([PASSAGE])]))
    assert second.stop_reason == "end_turn" and not second.tool_calls
    assert second.text is not None
    assert "February 1, 2027" in second.text
    assert second.text.endswith("Source: deadlines-and-calendar.md")
