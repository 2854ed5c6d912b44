"""Typed payloads of the events in `parley.events` (one model per event type)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Channel = Literal["meta", "eum", "twilio"]
MessageKind = Literal[
    "text",
    "image",
    "audio",
    "video",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "button",
    "reaction",
    "order",
    "system",
    "unsupported",
]
DeliveryStatus = Literal["accepted", "sent", "delivered", "read", "played", "failed"]
Role = Literal["customer", "bot", "agent"]


class Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MediaRef(Payload):
    """Where a media object can be fetched from, per channel."""

    media_id: str | None = None
    url: str | None = None
    mime_type: str | None = None
    sha256: str | None = None
    filename: str | None = None
    caption: str | None = None
    voice: bool = False
    animated: bool = False
    file_size: int | None = None
    s3_key: str | None = None


class Location(Payload):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None
    url: str | None = None


class ReplyContext(Payload):
    message_id: str | None = None
    forwarded: bool = False
    frequently_forwarded: bool = False


class InteractiveReply(Payload):
    kind: Literal["button_reply", "list_reply", "nfm_reply", "template_button"]
    id: str | None = None
    title: str | None = None
    description: str | None = None
    response_json: str | None = None


class Reaction(Payload):
    message_id: str
    emoji: str | None = None  # None or "" means the reaction was removed


class Referral(Payload):
    source_url: str | None = None
    source_id: str | None = None
    source_type: str | None = None
    headline: str | None = None
    body: str | None = None
    ctwa_clid: str | None = None


class MessageReceived(Payload):
    """One inbound customer message, the same shape whichever channel it came from."""

    channel: Channel
    business_phone_number_id: str
    wa_id: str
    message_id: str
    kind: MessageKind
    text: str | None = None
    media: MediaRef | None = None
    location: Location | None = None
    interactive: InteractiveReply | None = None
    reaction: Reaction | None = None
    contacts: list[dict[str, object]] = Field(default_factory=list)
    reply_context: ReplyContext | None = None
    referral: Referral | None = None
    profile_name: str | None = None
    sent_at: datetime
    system: dict[str, object] | None = None
    errors: list[dict[str, object]] = Field(default_factory=list)
    # Over the sender's inbound rate limit: recorded at once, answered from this time on.
    hold_until: datetime | None = None


class DeliveryError(Payload):
    code: int
    title: str | None = None
    details: str | None = None


class MessageStatus(Payload):
    message_id: str
    status: DeliveryStatus
    recipient: str
    at: datetime
    request_id: str | None = None
    errors: list[DeliveryError] = Field(default_factory=list)


class MediaAnalysis(Payload):
    transcript: str | None = None
    text: str | None = None
    labels: list[str] = Field(default_factory=list)
    moderation: list[str] = Field(default_factory=list)
    language: str | None = None


class MediaProcessed(Payload):
    message_id: str
    kind: MessageKind
    status: Literal["ok", "unavailable", "rejected"]
    reason: str | None = None
    s3_key: str | None = None
    mime_type: str | None = None
    size_bytes: int | None = None
    analysis: MediaAnalysis | None = None
    # The customer was already told the media could not be used (and what to do): the message
    # needs no answer from the bot.
    customer_told: bool = False


class ContextMessage(Payload):
    """A message as the AI sees it in a turn's context."""

    message_id: str
    role: Role
    kind: MessageKind | Literal["reply"] = "text"
    text: str | None = None
    media_note: str | None = None
    at: datetime


class SessionFacts(Payload):
    language: str | None = None
    profile_name: str | None = None
    window_open: bool = True
    window_expires_at: datetime | None = None
    turns_so_far: int = 0
    low_confidence_streak: int = 0


class TurnRequested(Payload):
    turn_id: str
    messages: list[ContextMessage]
    summary: str | None = None
    history: list[ContextMessage] = Field(default_factory=list)
    session: SessionFacts = Field(default_factory=SessionFacts)
    deadline: datetime
    attempt: int = 1


class Source(Payload):
    document: str
    section: str | None = None
    score: float | None = None


class TurnCompleted(Payload):
    turn_id: str
    answered_message_ids: list[str]
    reply_text: str | None = None
    intent: str | None = None
    agent: str | None = None
    confidence: float | None = None
    # Whether `confidence` is below the AI's own threshold (its agents configuration): the one
    # definition of "low", so consumers need no number of their own.
    low_confidence: bool | None = None
    language: str | None = None
    sources: list[Source] = Field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: dict[str, float] = Field(default_factory=dict)
    handoff: bool = False


class Button(Payload):
    id: str
    title: str


class ListRow(Payload):
    id: str
    title: str
    description: str | None = None


class ListSection(Payload):
    title: str | None = None
    rows: list[ListRow]


class TemplateMessage(Payload):
    name: str
    language: str = "en_US"
    components: list[dict[str, object]] = Field(default_factory=list)


class ReplyRequested(Payload):
    """Something to send to the customer; the ingestion sender turns it into a channel request."""

    request_id: str
    to: str
    kind: Literal["text", "buttons", "list", "template", "media", "reaction", "read", "typing"]
    text: str | None = None
    buttons: list[Button] = Field(default_factory=list)
    list_button: str | None = None
    sections: list[ListSection] = Field(default_factory=list)
    template: TemplateMessage | None = None
    media: MediaRef | None = None
    media_kind: Literal["image", "audio", "video", "document", "sticker"] | None = None
    reaction: Reaction | None = None
    reply_to: str | None = None
    origin: Role | Literal["system"] = "bot"  # system: notices from the platform itself
    turn_id: str | None = None


class HandoffSignal(Payload):
    """One reason a person is needed, with its evidence (never the customer's words for
    self-harm: only the category)."""

    kind: str
    evidence: str | None = None
    score: float | None = None


class HandoffRequested(Payload):
    reason: Literal[
        "customer_request",
        "low_confidence",
        "tool",
        "model_unavailable",
        "sentiment",
        "sensitive_topic",
        "self_harm",
        "repeated_failure",
        "complex_case",
        "vip",
        "turn_timeout",
        "other",
    ]
    detail: str | None = None
    turn_id: str | None = None
    summary: str | None = None
    language: str | None = None
    priority: Literal["normal", "high", "urgent"] = "normal"
    topic: str | None = None  # the sensitive topic (billing, legal, harassment, safety, ...)
    signals: list[HandoffSignal] = Field(default_factory=list)


class HandoffAccepted(Payload):
    handoff_id: str
    agent_id: str
    agent_name: str | None = None


class HandoffResolved(Payload):
    handoff_id: str
    resolution: str | None = None
    agent_id: str | None = None
    # How it ended: an agent resolved it, nobody claimed it in time, or the session closed.
    outcome: Literal["resolved", "expired", "abandoned"] = "resolved"
    survey: bool = True  # False: no satisfaction survey (e.g. after a self-harm hand-off)


class AgentMessage(Payload):
    handoff_id: str
    agent_id: str
    message_id: str
    text: str


class SessionClosed(Payload):
    reason: Literal["idle", "erased", "resolved"]
    last_activity_at: datetime | None = None


class CrmSync(Payload):
    """A CRM job of the escalation service, queued on its own FIFO group so a CRM outage never
    holds back a conversation's events."""

    handoff_id: str | None = None
    job: dict[str, object]  # the escalation service's CRM job (chalicelib.crm.sync)


class CustomerErased(Payload):
    wa_id: str
    requested_by: str | None = None
