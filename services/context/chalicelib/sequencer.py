"""The sequencer: applies a conversation's events in order and decides when the AI answers.

Per event: read the session, apply the event to history and session, release media that waited
too long, send a turn if one is due, then save the session (version-checked).
A `Conflict` (the sweeper wrote the session meanwhile) re-runs the whole step on fresh state;
history writes are idempotent on message id, so re-running is safe.

A turn is due when the session is open, in mode `bot`, has no turn in flight, has unanswered
customer messages, and none of them has media still being processed. Ids are derived from the
event being applied, so a retried event re-sends the same turn (deduplicated by turns.fifo)
rather than a second one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.assembly import Budget, assemble
from chalicelib.history import as_utc, wa_id_of
from chalicelib.models import HistoryStore, Session, SessionStore, StoredMessage, TurnInFlight
from chalicelib.summaries import SummaryPolicy, refresh_summary
from parley.errors import Conflict
from parley.events import Event, EventBase, TurnRequestedEvent
from parley.llm import Summarizer
from parley.payloads import MessageReceived

if TYPE_CHECKING:
    from parley.settings import ContextSettings

PRODUCER = "context"
ID_NAMESPACE = uuid.UUID("6b0e9f5e-8a0d-4a4e-9c55-0c7f3c1d2e41")
MEDIA_KINDS = frozenset({"image", "audio", "video", "document", "sticker"})
UNANSWERABLE_KINDS = frozenset({"reaction", "system"})  # nothing to reply to
SAVE_ATTEMPTS = 3


def derived_id(*parts: str) -> str:
    return uuid.uuid5(ID_NAMESPACE, ":".join(parts)).hex


class EventSender(Protocol):
    def send(self, event: EventBase) -> str: ...


class EventPublisher(Protocol):
    def publish(self, event: EventBase) -> str: ...


@dataclass(frozen=True)
class Policy:
    media_wait: timedelta = timedelta(seconds=60)
    turn_timeout: timedelta = timedelta(seconds=120)
    idle: timedelta = timedelta(hours=24)
    budget: Budget = field(default_factory=Budget)
    summary: SummaryPolicy = field(default_factory=lambda: SummaryPolicy(50, 40, 3000))

    @classmethod
    def from_settings(cls, s: ContextSettings) -> Policy:
        return cls(
            media_wait=timedelta(seconds=s.media_wait_seconds),
            turn_timeout=timedelta(seconds=s.turn_timeout_seconds),
            idle=timedelta(hours=s.session_idle_hours),
            budget=Budget(tokens=s.context_token_budget),
            summary=SummaryPolicy(
                window=s.cache_messages,
                trigger=s.summary_trigger_messages,
                max_chars=s.context_token_budget,  # a quarter of the budget, at ~4 chars/token
            ),
        )


@dataclass
class Deps:
    history: HistoryStore
    sessions: SessionStore
    turns: EventSender
    publisher: EventPublisher
    summarizer: Summarizer
    policy: Policy
    logger: Any
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


def render_text(p: MessageReceived) -> str | None:
    """A readable text for any kind of customer message."""
    if p.text:
        return p.text
    if p.media is not None and p.media.caption:
        return p.media.caption
    if p.location is not None:
        where = ", ".join(x for x in (p.location.name, p.location.address) if x)
        return f"Location: {where} ({p.location.latitude}, {p.location.longitude})".strip()
    if p.interactive is not None:
        return p.interactive.title or p.interactive.id
    if p.reaction is not None:
        return f"Reacted {p.reaction.emoji or '(removed)'} to {p.reaction.message_id}"
    if p.contacts:
        return f"Shared {len(p.contacts)} contact(s)"
    return None


def new_session(conversation: str) -> Session:
    return Session(conversation=conversation, wa_id=wa_id_of(conversation))


class Sequencer:
    """Applies events (see the module doc). `deps.clock` is the time used for waits."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    # --- the per-event step -------------------------------------------------------------
    def apply(self, event: Event) -> None:
        for attempt in range(1, SAVE_ATTEMPTS + 1):
            try:
                self._apply_once(event)
                return
            except Conflict:
                if attempt == SAVE_ATTEMPTS:
                    raise
                self.deps.logger.info("session changed meanwhile, applying again")

    def _apply_once(self, event: Event) -> None:
        d = self.deps
        now = d.clock()
        session = d.sessions.get(event.conversation) or new_session(event.conversation)
        # Named by the event and the session's turn count: a retry of the event (nothing saved)
        # names the same turn, which turns.fifo deduplicates; a duplicate arriving later finds
        # its turn counted and changes nothing.
        turn_id = derived_id("turn", event.event_id, str(session.turn_count))
        changed = APPLIERS[event.type](self, session, event, now)
        if changed:
            session.last_activity_at = now
        changed = self.release_expired_media(session, now) or changed
        turn = self.next_turn(session, now, turn_id)
        if turn is not None:
            # Sent before the session is saved: its answer waits behind this event in the
            # conversation's FIFO group, and a failed save is retried with the same turn id.
            d.turns.send(turn)
        if changed or turn is not None:
            d.sessions.save(session)

    # --- decisions shared with the sweeper ----------------------------------------------
    def release_expired_media(self, session: Session, now: datetime) -> bool:
        """Media waited for longer than the policy allows is marked unavailable."""
        expired = [
            m for m, at in session.pending_media.items() if now - at >= self.deps.policy.media_wait
        ]
        for message_id in expired:
            self.deps.history.update(session.conversation, message_id, media_status="unavailable")
            del session.pending_media[message_id]
        if expired:
            self.deps.logger.info(
                "media wait over, marked unavailable", extra={"count": len(expired)}
            )
        return bool(expired)

    @staticmethod
    def turn_due(session: Session) -> bool:
        waiting = set(session.unanswered)
        return (
            bool(waiting)
            and session.mode == "bot"
            and session.turn is None
            and not session.closed
            and not waiting & set(session.pending_media)
        )

    def next_turn(self, session: Session, now: datetime, turn_id: str) -> TurnRequestedEvent | None:
        """Put a new turn in flight when one is due; returns its event (send after saving)."""
        if not self.turn_due(session):
            return None
        if session.hold_until is not None:
            if now < session.hold_until:
                return None
            session.hold_until = None
        session.turn = TurnInFlight(
            turn_id=turn_id,
            message_ids=list(session.unanswered),
            deadline=now + self.deps.policy.turn_timeout,
        )
        session.turn_count += 1
        return self.turn_event(session, now)

    def turn_event(self, session: Session, now: datetime) -> TurnRequestedEvent:
        """The `turn.requested` for the session's turn in flight (its current attempt)."""
        d = self.deps
        turn = session.turn
        if turn is None:
            raise ValueError("no turn in flight")
        recent = d.history.recent(session.conversation, d.policy.summary.window)
        refresh_summary(session, d.history, recent, d.summarizer, d.policy.summary, d.logger)
        waiting = Session.model_validate({**session.model_dump(), "unanswered": turn.message_ids})
        payload = assemble(
            waiting,
            recent,
            turn_id=turn.turn_id,
            deadline=turn.deadline,
            now=now,
            budget=d.policy.budget,
            attempt=turn.attempt,
        )
        return TurnRequestedEvent(
            event_id=derived_id(turn.turn_id, str(turn.attempt)),
            conversation=session.conversation,
            producer=PRODUCER,
            payload=payload,
        )


# --- how each event type changes history and session (True: the session changed) ----------
Applier = Callable[[Sequencer, Session, Any, datetime], bool]


def _already_applied(session: Session, message: StoredMessage) -> bool:
    """For a message id already in history: did the session take it in too? A first attempt
    can have stored the message and failed before saving the session. Ids waiting or in flight
    are known; past ones are known when the session has seen a newer inbound message."""
    in_flight = session.turn.message_ids if session.turn else []
    if message.message_id in session.unanswered or message.message_id in in_flight:
        return True
    last = session.last_inbound_at
    return last is not None and message.at <= last


def on_message_received(seq: Sequencer, session: Session, event: Any, now: datetime) -> bool:
    p: MessageReceived = event.payload
    media = p.kind in MEDIA_KINDS
    message = StoredMessage(
        conversation=session.conversation,
        message_id=p.message_id,
        role="customer",
        kind=p.kind,
        text=render_text(p),
        at=as_utc(p.sent_at),
        media_status="pending" if media else None,
    )
    if not seq.deps.history.append(message) and _already_applied(session, message):
        return False
    session.closed = False
    session.message_count += 1
    session.profile_name = p.profile_name or session.profile_name
    if p.kind != "system":
        last = session.last_inbound_at
        session.last_inbound_at = message.at if last is None else max(last, message.at)
    if media:
        session.pending_media[p.message_id] = now
    if p.kind not in UNANSWERABLE_KINDS and session.mode != "human":
        session.unanswered.append(p.message_id)
    if p.hold_until is not None:
        held = as_utc(p.hold_until)
        session.hold_until = held if session.hold_until is None else max(session.hold_until, held)
    return True


def on_media_processed(seq: Sequencer, session: Session, event: Any, now: datetime) -> bool:
    p = event.payload
    seq.deps.history.update(
        session.conversation, p.message_id, media=p.analysis, media_status=p.status
    )
    if p.analysis is not None and p.analysis.language and not session.language:
        session.language = p.analysis.language
    session.pending_media.pop(p.message_id, None)
    if p.customer_told:  # the media service already answered it honestly
        session.unanswered = [m for m in session.unanswered if m != p.message_id]
    return True


def on_turn_completed(seq: Sequencer, session: Session, event: Any, now: datetime) -> bool:
    p = event.payload
    in_flight = session.turn is not None and session.turn.turn_id == p.turn_id
    appended = False
    if p.reply_text:
        reply = StoredMessage(
            conversation=session.conversation,
            message_id=f"turn:{p.turn_id}",
            role="bot",
            kind="reply",
            text=p.reply_text,
            at=as_utc(event.occurred_at),
            intent=p.intent,
            agent=p.agent,
            sources=p.sources,
            turn_id=p.turn_id,
        )
        appended = seq.deps.history.append(reply)
    if not (appended or in_flight):
        return False  # applied before (a redelivery): the streak and mode must not move twice
    if appended:
        session.message_count += 1
    answered = set(p.answered_message_ids)
    if session.turn is not None and session.turn.turn_id == p.turn_id:
        answered |= set(session.turn.message_ids)
        session.turn = None
    session.unanswered = [m for m in session.unanswered if m not in answered]
    if p.low_confidence is not None:  # the AI's own threshold decided it (agents.yaml)
        session.low_confidence_streak = session.low_confidence_streak + 1 if p.low_confidence else 0
    session.language = p.language or session.language
    if p.handoff and session.mode == "bot":
        session.mode = "pending_human"  # its handoff.requested follows; no turn meanwhile
    return True


def on_message_status(seq: Sequencer, session: Session, event: Any, now: datetime) -> bool:
    p = event.payload
    seq.deps.history.update(
        session.conversation, p.request_id or p.message_id, delivery_status=p.status
    )
    return False  # a receipt is not conversation activity


def on_handoff_requested(seq: Sequencer, session: Session, event: Any, now: datetime) -> bool:
    if session.mode == "bot":
        session.mode = "pending_human"
    return True


def on_handoff_accepted(seq: Sequencer, session: Session, event: Any, now: datetime) -> bool:
    session.mode = "human"
    session.handoff_id = event.payload.handoff_id
    session.unanswered = []  # the agent answers them now
    return True


def on_handoff_resolved(seq: Sequencer, session: Session, event: Any, now: datetime) -> bool:
    if session.handoff_id not in (None, event.payload.handoff_id):
        return False  # an older handoff's resolution
    session.mode = "bot"
    session.handoff_id = None
    session.low_confidence_streak = 0
    return True


def on_agent_message(seq: Sequencer, session: Session, event: Any, now: datetime) -> bool:
    p = event.payload
    message = StoredMessage(
        conversation=session.conversation,
        message_id=p.message_id,
        role="agent",
        kind="text",
        text=p.text,
        at=as_utc(event.occurred_at),
        agent=p.agent_id,
    )
    if seq.deps.history.append(message):
        session.message_count += 1
    session.unanswered = []  # the agent answered everything so far
    return True


# Applying one of these twice, even after later events, changes nothing: history writes are
# conditional on the message id, statuses only move forward, a turn's completion counts once.
# They skip the idempotency ledger (two writes each); hand-off and agent events keep it.
IDEMPOTENT_TYPES = frozenset(
    {"message.received", "media.processed", "message.status", "turn.completed"}
)

APPLIERS: dict[str, Applier] = {
    "message.received": on_message_received,
    "media.processed": on_media_processed,
    "turn.completed": on_turn_completed,
    "message.status": on_message_status,
    "handoff.requested": on_handoff_requested,
    "handoff.accepted": on_handoff_accepted,
    "handoff.resolved": on_handoff_resolved,
    "agent.message": on_agent_message,
}
