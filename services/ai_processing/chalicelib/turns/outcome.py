"""What a turn decided, and the events that say so (reply, handoff, turn completed)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from parley.events import (
    HandoffRequestedEvent,
    ReplyRequestedEvent,
    TurnCompletedEvent,
    TurnRequestedEvent,
    split_conversation_key,
)
from parley.payloads import Button, HandoffRequested, ReplyRequested, Source, TurnCompleted
from parley.retrieval import Passage

PRODUCER = "ai_processing"
HandoffReason = Any  # one of HandoffRequested.reason's literals


@dataclass
class TurnOutcome:
    text: str
    language: str
    buttons: list[str] = field(default_factory=list)
    intent: str | None = None
    agent: str | None = None
    confidence: float | None = None
    low_confidence: bool | None = None  # below the agents configuration's min_confidence
    sources: list[Passage] = field(default_factory=list)
    handoff: HandoffReason | None = None
    handoff_detail: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: dict[str, float] = field(default_factory=dict)
    cached: bool = False
    problems: list[str] = field(default_factory=list)


class Stopwatch:
    """Milliseconds per stage of a turn."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = clock
        self.stages: dict[str, float] = {}
        self.started = clock()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = self.clock()
        try:
            yield
        finally:
            elapsed = (self.clock() - start) * 1000
            self.stages[name] = round(self.stages.get(name, 0.0) + elapsed, 2)

    def total(self) -> dict[str, float]:
        return {**self.stages, "total": round((self.clock() - self.started) * 1000, 2)}


def reply_event(turn: TurnRequestedEvent, outcome: TurnOutcome) -> ReplyRequestedEvent:
    _, wa_id = split_conversation_key(turn.conversation)
    buttons = [Button(id=_button_id(i, t), title=t) for i, t in enumerate(outcome.buttons)]
    payload = ReplyRequested(
        request_id=f"turn:{turn.payload.turn_id}",
        to=wa_id,
        kind="buttons" if buttons else "text",
        text=outcome.text,
        buttons=buttons,
        # A hand-off notice is the platform's, not an answer: the sender lets it through even
        # when the hand-off it announces has already paused the bot's replies.
        origin="system" if outcome.handoff else "bot",
        turn_id=turn.payload.turn_id,
    )
    return ReplyRequestedEvent(
        event_id=f"{turn.event_id}.reply",
        conversation=turn.conversation,
        producer=PRODUCER,
        trace=turn.trace,
        payload=payload,
    )


def _button_id(index: int, title: str) -> str:
    slug = "".join(c if c.isalnum() else "_" for c in title.lower())[:40]
    return f"choice_{index}_{slug}"


def handoff_event(turn: TurnRequestedEvent, outcome: TurnOutcome) -> HandoffRequestedEvent:
    payload = HandoffRequested(
        reason=outcome.handoff,
        detail=outcome.handoff_detail,
        turn_id=turn.payload.turn_id,
        summary=turn.payload.summary,
        language=outcome.language,
        priority="high" if outcome.handoff == "model_unavailable" else "normal",
    )
    return HandoffRequestedEvent(
        event_id=f"{turn.event_id}.handoff",
        conversation=turn.conversation,
        producer=PRODUCER,
        trace=turn.trace,
        payload=payload,
    )


def completed_event(turn: TurnRequestedEvent, outcome: TurnOutcome) -> TurnCompletedEvent:
    answered = [m.message_id for m in turn.payload.messages if m.role == "customer"]
    payload = TurnCompleted(
        turn_id=turn.payload.turn_id,
        answered_message_ids=answered,
        reply_text=outcome.text,
        intent=outcome.intent,
        agent=outcome.agent,
        confidence=outcome.confidence,
        low_confidence=outcome.low_confidence,
        language=outcome.language,
        sources=[
            Source(document=p.document, section=p.section or None, score=p.score)
            for p in outcome.sources
        ],
        input_tokens=outcome.input_tokens,
        output_tokens=outcome.output_tokens,
        latency_ms=outcome.latency_ms,
        handoff=outcome.handoff is not None,
    )
    return TurnCompletedEvent(
        event_id=f"{turn.event_id}.completed",
        conversation=turn.conversation,
        producer=PRODUCER,
        trace=turn.trace,
        payload=payload,
    )
