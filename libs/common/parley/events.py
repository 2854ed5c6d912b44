"""The event envelope and a typed payload model for every event type.

An event on the wire is one JSON object: the envelope fields plus `payload`. `parse_event` picks the
model from `type`; an unknown type or a payload of the wrong shape raises `InvalidInput`, so a
consumer parks it in the DLQ with the reason instead of retrying it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from parley.errors import InvalidInput
from parley.payloads import (
    AgentMessage,
    CrmSync,
    CustomerErased,
    HandoffAccepted,
    HandoffRequested,
    HandoffResolved,
    MediaProcessed,
    MessageReceived,
    MessageStatus,
    ReplyRequested,
    SessionClosed,
    TurnCompleted,
    TurnRequested,
)

EventType = Literal[
    "message.received",
    "message.status",
    "media.processed",
    "turn.requested",
    "turn.completed",
    "reply.requested",
    "handoff.requested",
    "handoff.accepted",
    "handoff.resolved",
    "agent.message",
    "session.closed",
    "crm.sync",
    "customer.erased",
]


def new_event_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class EventBase(BaseModel):
    """Fields every event carries. `conversation` is `<phone_number_id>:<wa_id>`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str = Field(default_factory=new_event_id, min_length=8, max_length=128)
    conversation: str = Field(min_length=3, max_length=256, pattern=r"^[^:\s]+:[^:\s]+$")
    occurred_at: datetime = Field(default_factory=utcnow)
    producer: str = Field(min_length=1, max_length=64)
    trace: str | None = None
    schema_version: int = 1


class MessageReceivedEvent(EventBase):
    type: Literal["message.received"] = "message.received"
    payload: MessageReceived


class MessageStatusEvent(EventBase):
    type: Literal["message.status"] = "message.status"
    payload: MessageStatus


class MediaProcessedEvent(EventBase):
    type: Literal["media.processed"] = "media.processed"
    payload: MediaProcessed


class TurnRequestedEvent(EventBase):
    type: Literal["turn.requested"] = "turn.requested"
    payload: TurnRequested


class TurnCompletedEvent(EventBase):
    type: Literal["turn.completed"] = "turn.completed"
    payload: TurnCompleted


class ReplyRequestedEvent(EventBase):
    type: Literal["reply.requested"] = "reply.requested"
    payload: ReplyRequested


class HandoffRequestedEvent(EventBase):
    type: Literal["handoff.requested"] = "handoff.requested"
    payload: HandoffRequested


class HandoffAcceptedEvent(EventBase):
    type: Literal["handoff.accepted"] = "handoff.accepted"
    payload: HandoffAccepted


class HandoffResolvedEvent(EventBase):
    type: Literal["handoff.resolved"] = "handoff.resolved"
    payload: HandoffResolved


class AgentMessageEvent(EventBase):
    type: Literal["agent.message"] = "agent.message"
    payload: AgentMessage


class SessionClosedEvent(EventBase):
    type: Literal["session.closed"] = "session.closed"
    payload: SessionClosed


class CrmSyncEvent(EventBase):
    type: Literal["crm.sync"] = "crm.sync"
    payload: CrmSync


class CustomerErasedEvent(EventBase):
    type: Literal["customer.erased"] = "customer.erased"
    payload: CustomerErased


Event = Annotated[
    MessageReceivedEvent
    | MessageStatusEvent
    | MediaProcessedEvent
    | TurnRequestedEvent
    | TurnCompletedEvent
    | ReplyRequestedEvent
    | HandoffRequestedEvent
    | HandoffAcceptedEvent
    | HandoffResolvedEvent
    | AgentMessageEvent
    | SessionClosedEvent
    | CrmSyncEvent
    | CustomerErasedEvent,
    Field(discriminator="type"),
]

_EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def parse_event(raw: str | bytes | dict[str, Any]) -> Event:
    """Validate one event; raises InvalidInput naming what is wrong."""
    try:
        if isinstance(raw, dict):
            return _EVENT_ADAPTER.validate_python(raw)
        return _EVENT_ADAPTER.validate_json(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'event'}: {err['msg']}"
            for err in exc.errors()[:5]
        )
        raise InvalidInput(f"invalid event: {problems}") from exc


def conversation_key(phone_number_id: str, wa_id: str) -> str:
    return f"{phone_number_id}:{wa_id}"


def split_conversation_key(key: str) -> tuple[str, str]:
    phone_number_id, _, wa_id = key.partition(":")
    if not phone_number_id or not wa_id:
        raise InvalidInput(f"conversation key must be '<phone_number_id>:<wa_id>', got {key!r}")
    return phone_number_id, wa_id
