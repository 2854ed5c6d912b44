"""Assembling a `turn.requested`: the messages to answer and a bounded context.

Token estimate (parley.llm.estimate_tokens): ceil(len(text) / 4) per text, plus 4 tokens per
message for the role and separators a chat format adds. The whole turn — messages to answer,
rolling summary and history — stays within `context_token_budget` by that estimate:

1. the unanswered messages, newest first, each cut to `max_message_chars`, while they fit in
   `answer_share` of the budget (the newest one always goes, cut further if it must);
2. the rolling summary, cut to what is left (at most `summary_share` of the budget);
3. the history before them, newest first, while it fits; the first message that does not fit
   ends the history, so the context is a contiguous tail of the conversation.

So a turn's size depends on the budget, never on the conversation's length.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.models import Session, StoredMessage
from parley.llm import MESSAGE_OVERHEAD_TOKENS, estimate_tokens
from parley.payloads import ContextMessage, SessionFacts, TurnRequested

WINDOW_HOURS = 24  # WhatsApp's customer service window after the customer's last message


@dataclass(frozen=True)
class Budget:
    tokens: int = 3000
    answer_share: float = 0.6
    summary_share: float = 0.25
    max_message_chars: int = 4096  # WhatsApp's own text limit
    max_media_note_chars: int = 1500  # a document's extracted text can be long
    max_answer_messages: int = 20


def message_tokens(message: ContextMessage) -> int:
    return (
        estimate_tokens(message.text)
        + estimate_tokens(message.media_note)
        + MESSAGE_OVERHEAD_TOKENS
    )


def turn_tokens(turn: TurnRequested) -> int:
    """The estimate the budget is kept by, for a whole turn."""
    messages = [*turn.messages, *turn.history]
    return estimate_tokens(turn.summary) + sum(message_tokens(m) for m in messages)


def _cut(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + "…"


def media_note(message: StoredMessage, limit: int) -> str | None:
    """What the AI is told about a message's media."""
    if message.media_status is None:
        return None
    if message.media_status in ("unavailable", "rejected", "pending"):
        return f"[{message.kind} {message.media_status}: its content could not be read]"
    analysis = message.media
    if analysis is None:
        return f"[{message.kind}]"
    parts = [analysis.transcript, analysis.text]
    if analysis.labels:
        parts.append("labels: " + ", ".join(analysis.labels[:10]))
    body = " | ".join(p for p in parts if p)
    return _cut(f"[{message.kind}] {body}".strip(), limit)


def to_context(message: StoredMessage, budget: Budget) -> ContextMessage:
    return ContextMessage(
        message_id=message.message_id,
        role=message.role,
        kind=message.kind,
        text=_cut(message.text, budget.max_message_chars),
        media_note=media_note(message, budget.max_media_note_chars),
        at=message.at,
    )


def _shrink(message: ContextMessage, tokens: int) -> ContextMessage:
    """The message cut so it costs at most `tokens` (text first, then the media note)."""
    chars = max((tokens - MESSAGE_OVERHEAD_TOKENS) * 4, 0)
    note = _cut(message.media_note, chars // 2 if message.text else chars)
    text = _cut(message.text, max(chars - len(note or ""), 0))
    return message.model_copy(update={"text": text, "media_note": note})


def session_facts(session: Session, now: datetime) -> SessionFacts:
    expires = None
    if session.last_inbound_at is not None:
        expires = session.last_inbound_at + timedelta(hours=WINDOW_HOURS)
    return SessionFacts(
        language=session.language,
        profile_name=session.profile_name,
        window_open=expires is not None and now < expires,
        window_expires_at=expires,
        turns_so_far=session.turn_count,
        low_confidence_streak=session.low_confidence_streak,
    )


def _answers(
    to_answer: Sequence[StoredMessage], budget: Budget
) -> tuple[list[ContextMessage], int]:
    limit = int(budget.tokens * budget.answer_share)
    chosen: list[ContextMessage] = []
    used = 0
    for stored in reversed(to_answer[-budget.max_answer_messages :]):
        message = to_context(stored, budget)
        cost = message_tokens(message)
        if not chosen and cost > limit:
            message = _shrink(message, limit)
            cost = message_tokens(message)
        elif used + cost > limit:
            break
        chosen.append(message)
        used += cost
    return list(reversed(chosen)), used


def assemble(
    session: Session,
    recent: Sequence[StoredMessage],
    *,
    turn_id: str,
    deadline: datetime,
    now: datetime,
    budget: Budget,
    attempt: int = 1,
) -> TurnRequested:
    """The turn for `session`, answering its unanswered messages found in `recent` (the last
    messages, oldest first)."""
    waiting = set(session.unanswered)
    to_answer = [m for m in recent if m.message_id in waiting]
    messages, used = _answers(to_answer, budget)
    summary_room = min(budget.tokens - used, int(budget.tokens * budget.summary_share))
    summary = _cut(session.summary, max(summary_room, 0) * 4) if session.summary else None
    used += estimate_tokens(summary)
    history: list[ContextMessage] = []
    for stored in reversed(recent):
        if stored.message_id in waiting:
            continue
        message = to_context(stored, budget)
        cost = message_tokens(message)
        if used + cost > budget.tokens:
            break
        history.append(message)
        used += cost
    return TurnRequested(
        turn_id=turn_id,
        messages=messages,
        summary=summary or None,
        history=list(reversed(history)),
        session=session_facts(session, now),
        deadline=deadline,
        attempt=attempt,
    )
