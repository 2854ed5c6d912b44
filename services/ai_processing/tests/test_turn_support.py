"""Helpers of the turn tests (it holds no tests): the demo knowledge base indexed for real, a
recording ChatModel, scripted models, captured events and a TurnRequested builder."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from chalicelib.agents import AgentsConfig, load_shipped
from chalicelib.tools import default_tools
from chalicelib.turns import TurnDeps, TurnHandler
from parley.chat import ChatModel, ChatRequest, ChatResponse, ToolCall
from parley.events import EventBase, TurnRequestedEvent
from parley.payloads import ContextMessage, Role, SessionFacts, TurnRequested
from parley.retrieval import Passage

DEMO_KB = Path(__file__).resolve().parents[3] / "infra" / "local" / "demo" / "kb"
CONVERSATION = "100000000000001:15551234567"
NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


class DemoRetriever:
    """The demo documents in a real SQLite FTS5 index (what SqliteFtsRetriever searches)."""

    version = "demo-v1"

    def __init__(self, directory: Path, embedder: Any = None) -> None:
        """`embedder`: hybrid search as a stage with that embedder runs it (BM25 alone without)."""
        from chalicelib.knowledge.chunking import chunk_document
        from chalicelib.knowledge.extract import extract
        from chalicelib.knowledge.index import KnowledgeIndex, embedding_text

        self.index = KnowledgeIndex(directory / "index.sqlite3")
        self.embedder = embedder
        for path in sorted(DEMO_KB.glob("*.md")):
            key = f"demo/{path.name}"
            chunks = chunk_document(key, extract(key, path.read_bytes()))
            if embedder is None:
                self.index.replace(key, "etag", chunks)
            else:
                vectors = embedder.embed([embedding_text(c) for c in chunks])
                self.index.replace(key, "etag", chunks, vectors, embedding_model=embedder.model)
        self.index.commit()
        self.queries: list[str] = []

    def search(
        self, query: str, *, k: int = 5, collections: Sequence[str] | None = None
    ) -> list[Passage]:
        self.queries.append(query)
        return [
            Passage(
                document=h.document,
                section=h.section,
                text=h.text,
                score=h.score,
                title=h.title,
                collection=h.collection,
            )
            for h in self._hits(query, k, collections)
        ]

    def _hits(self, query: str, k: int, collections: Sequence[str] | None) -> list[Any]:
        from chalicelib.knowledge.search import hybrid_search

        if self.embedder is None:
            return list(self.index.search(query, k, collections))
        return hybrid_search(self.index, query, k, collections, embedder=self.embedder)


class EmptyRetriever:
    version = "empty-v1"

    def search(
        self, query: str, *, k: int = 5, collections: Sequence[str] | None = None
    ) -> list[Passage]:
        return []


class Recording:
    """Wraps a ChatModel and keeps every request it received."""

    def __init__(self, inner: ChatModel) -> None:
        self.inner = inner
        self.requests: list[ChatRequest] = []

    def complete(self, request: ChatRequest) -> ChatResponse:
        self.requests.append(request)
        return self.inner.complete(request)


class Scripted:
    """Answers from a list of responses (or raises the exceptions in it), in order."""

    def __init__(self, steps: list[ChatResponse | Exception]) -> None:
        self.steps = list(steps)
        self.requests: list[ChatRequest] = []

    def complete(self, request: ChatRequest) -> ChatResponse:
        self.requests.append(request)
        step = self.steps.pop(0) if self.steps else ChatResponse(text="ok")
        if isinstance(step, Exception):
            raise step
        return step


def call(name: str, **arguments: Any) -> ChatResponse:
    return ChatResponse(
        tool_calls=[ToolCall(id=f"c-{name}", name=name, arguments=arguments)],
        stop_reason="tool_use",
    )


class Events:
    """Captures what the handler sends (outbound queue) and publishes (topic)."""

    def __init__(self) -> None:
        self.sent: list[EventBase] = []
        self.published: list[EventBase] = []

    def of(self, kind: str) -> list[Any]:
        return [e for e in self.sent + self.published if getattr(e, "type", "") == kind]

    def reply(self) -> Any:
        [reply] = self.of("reply.requested")
        return reply.payload

    def completed(self) -> Any:
        [done] = self.of("turn.completed")
        return done.payload

    def handoffs(self) -> list[Any]:
        return [e.payload for e in self.of("handoff.requested")]


def handler(
    model: ChatModel,
    retriever: Any,
    events: Events,
    *,
    config: AgentsConfig | None = None,
    cache: Any = None,
    logger: Any = None,
    status_url: str | None = None,
    now: Callable[[], datetime] = lambda: NOW,
) -> TurnHandler:
    return TurnHandler(
        TurnDeps(
            config=config or load_shipped(),
            model=model,
            retriever=retriever,
            tools=default_tools(status_url),
            send_reply=events.sent.append,
            publish=events.published.append,
            cache=cache,
            logger=logger,
            now=now,
        )
    )


def turn(
    *texts: str,
    history: Sequence[tuple[Role, str]] = (),
    streak: int = 0,
    language: str | None = None,
    summary: str | None = None,
    turn_id: str = "turn-1",
) -> TurnRequestedEvent:
    messages = [
        ContextMessage(message_id=f"m{i}", role="customer", text=t, at=NOW)
        for i, t in enumerate(texts)
    ]
    earlier = [
        ContextMessage(message_id=f"h{i}", role=role, text=t, at=NOW)
        for i, (role, t) in enumerate(history)
    ]
    payload = TurnRequested(
        turn_id=turn_id,
        messages=messages,
        history=earlier,
        summary=summary,
        session=SessionFacts(language=language, low_confidence_streak=streak),
        deadline=NOW + timedelta(seconds=60),
    )
    return TurnRequestedEvent(conversation=CONVERSATION, producer="context", payload=payload)
