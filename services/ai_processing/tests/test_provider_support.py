"""Helpers of the provider tests: the demo knowledge base indexed for real (extract, chunk, SQLite
FTS5) so the local engine answers from the passages the retriever would give it, and tool specs.

(Named test_provider_* to sit with the suites it serves; it holds no tests.)
"""

from __future__ import annotations

from pathlib import Path

from chalicelib.providers.tooling import format_passages
from parley.chat import ChatMessage, ChatRequest, ChatResponse, ToolSpec
from parley.retrieval import Passage

DEMO_KB = Path(__file__).resolve().parents[3] / "infra" / "local" / "demo" / "kb"

SEARCH = ToolSpec(
    name="search_knowledge",
    description="Search the admissions office's documents.",
    input_schema={
        "type": "object",
        "properties": {"query": {"type": "string", "description": "The question"}},
        "required": ["query"],
    },
)
HANDOFF = ToolSpec(
    name="handoff_to_human",
    description="Hand the conversation to a person.",
    input_schema={
        "type": "object",
        "properties": {"reason": {"type": "string"}},
        "required": ["reason"],
    },
)
TOOLS = [SEARCH, HANDOFF]


class DemoKnowledgeBase:
    """The demo documents in a real knowledge index (what `SqliteFtsRetriever` searches)."""

    def __init__(self, directory: Path) -> None:
        from chalicelib.knowledge.chunking import chunk_document
        from chalicelib.knowledge.extract import extract
        from chalicelib.knowledge.index import KnowledgeIndex

        self.index = KnowledgeIndex(directory / "index.sqlite3")
        for path in sorted(DEMO_KB.glob("*.md")):
            key = f"admissions/{path.name}"
            self.index.replace(key, "etag", chunk_document(key, extract(key, path.read_bytes())))
        self.index.commit()

    def search(self, query: str, k: int = 4) -> list[Passage]:
        return [
            Passage(
                document=h.document,
                section=h.section,
                text=h.text,
                score=h.score,
                title=h.title,
                ordinal=h.ordinal,
            )
            for h in self.index.search(query, k)
        ]


def ask(question: str, *, tools: list[ToolSpec] | None = None) -> ChatRequest:
    """The first request of a turn: the customer's question and the tools."""
    return ChatRequest(
        system="You are the admissions assistant.",
        messages=[ChatMessage(role="user", content=question)],
        tools=TOOLS if tools is None else tools,
    )


def with_results(request: ChatRequest, response: ChatResponse, contents: list[str]) -> ChatRequest:
    """The next request of the loop: the model's tool calls and one result per call."""
    messages = [*request.messages, ChatMessage(role="assistant", tool_calls=response.tool_calls)]
    for call, content in zip(response.tool_calls, contents, strict=True):
        messages.append(ChatMessage(role="tool", tool_call_id=call.id, content=content))
    return request.model_copy(update={"messages": messages})


def passages_result(passages: list[Passage]) -> str:
    return format_passages(passages)
