"""Meta webhook `value` objects -> Parley events (`message.received`, `message.status`).

The same function serves the Meta Cloud API webhook and AWS End User Messaging Social (whose
`whatsAppWebhookEntry` carries the same `value`). Event ids derive from the wamid, so a message
normalised twice (a retried webhook, a retried publish) is the same event, down to SNS FIFO dedupe.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal, TypeAlias, TypeVar

from pydantic import ValidationError

from parley.events import MessageReceivedEvent, MessageStatusEvent, conversation_key
from parley.payloads import (
    DeliveryError,
    InteractiveReply,
    Location,
    MediaRef,
    MessageReceived,
    MessageStatus,
    Reaction,
    Referral,
    ReplyContext,
)
from parley.whatsapp import webhook as wh

PRODUCER = "ingestion"
EVENT_NAMESPACE = uuid.UUID("5f0c6a43-5d0e-4c3b-9a51-2f8e0d6b7c11")
DELIVERY_STATUSES = frozenset({"sent", "delivered", "read", "played", "failed"})

InboundEvent: TypeAlias = MessageReceivedEvent | MessageStatusEvent
EventT = TypeVar("EventT", MessageReceivedEvent, MessageStatusEvent)


def event_id(*parts: str) -> str:
    """A deterministic event id: the same inputs always give the same id."""
    return uuid.uuid5(EVENT_NAMESPACE, ":".join(parts)).hex


def normalize_change_value(
    value: Mapping[str, Any], channel: Literal["meta", "eum"]
) -> list[InboundEvent]:
    """Every message and status in one `entry[].changes[].value` of the `messages` field, as
    events. Parts that cannot be attributed (no phone_number_id, no sender, no id) are dropped:
    a webhook must never fail on content, or Meta retries it for 7 days."""
    try:
        parsed = wh.Value.model_validate(value)
    except ValidationError:
        return []
    if parsed.metadata is None:
        return []
    phone_number_id = parsed.metadata.phone_number_id
    events: list[InboundEvent] = []
    for raw in parsed.messages:
        message = _message(raw)
        received = message and _attempt(_received, message, parsed, phone_number_id, channel)
        if received:
            events.append(received)
    for raw in parsed.statuses:
        status = _attempt(_status, raw, phone_number_id)
        if status:
            events.append(status)
    return events


def _attempt(build: Callable[..., EventT | None], *args: Any) -> EventT | None:
    """The built event, or None when the content cannot form a valid event."""
    try:
        return build(*args)
    except ValidationError:
        return None


def _message(raw: Mapping[str, Any]) -> wh.Message | None:
    """The message, or a bare `unsupported` one when its content does not parse."""
    try:
        return wh.Message.model_validate(raw)
    except ValidationError:
        bare = {k: raw[k] for k in ("id", "from", "from_user_id", "timestamp") if k in raw}
        error = {"code": 131051, "title": "Unprocessable message content"}
        try:
            return wh.Message.model_validate({**bare, "type": "unsupported", "errors": [error]})
        except ValidationError:
            return None


def _received(
    message: wh.Message, value: wh.Value, phone_number_id: str, channel: Literal["meta", "eum"]
) -> MessageReceivedEvent | None:
    wa_id = message.from_ or _only_contact_id(value) or message.from_user_id
    if not wa_id:
        return None
    payload = MessageReceived(
        channel=channel,
        business_phone_number_id=phone_number_id,
        wa_id=wa_id,
        message_id=message.id,
        kind=message.kind,
        text=_text(message),
        media=_media(message),
        location=_location(message),
        interactive=_interactive(message),
        reaction=_reaction(message),
        contacts=message.contacts,
        reply_context=_reply_context(message),
        referral=_referral(message),
        profile_name=value.profile_name(wa_id),
        sent_at=message.timestamp or datetime.now(UTC),
        system=message.system,
        errors=[e.model_dump(exclude_none=True) for e in message.errors],
    )
    return MessageReceivedEvent(
        event_id=event_id("message.received", message.id),
        conversation=conversation_key(phone_number_id, wa_id),
        occurred_at=payload.sent_at,
        producer=PRODUCER,
        payload=payload,
    )


def _only_contact_id(value: wh.Value) -> str | None:
    if len(value.contacts) != 1:
        return None
    contact = value.contacts[0]
    return contact.wa_id or contact.user_id


def _text(message: wh.Message) -> str | None:
    """What the customer wrote or chose, as text (body, caption, button or row title, place)."""
    kind = message.kind
    if kind == "text" and message.text:
        return message.text.body
    if message.media is not None:
        return message.media.caption
    if kind == "location" and message.location:
        return message.location.name or message.location.address
    if kind == "interactive" and message.interactive:
        option = message.interactive.button_reply or message.interactive.list_reply
        if option is not None:
            return option.title
        return message.interactive.nfm_reply.body if message.interactive.nfm_reply else None
    if kind == "button" and message.button:
        return message.button.text
    if kind == "order" and message.order:
        return message.order.text
    if kind == "system" and message.system:
        body = message.system.get("body")
        return str(body) if body is not None else None
    return None


def _media(message: wh.Message) -> MediaRef | None:
    media = message.media
    if media is None:
        return None
    return MediaRef(
        media_id=media.id,
        url=media.url,
        mime_type=media.mime_type,
        sha256=media.sha256,
        filename=media.filename,
        caption=media.caption,
        voice=media.voice,
        animated=media.animated,
    )


def _location(message: wh.Message) -> Location | None:
    loc = message.location
    if message.kind != "location" or loc is None:
        return None
    return Location(
        latitude=loc.latitude,
        longitude=loc.longitude,
        name=loc.name,
        address=loc.address,
        url=loc.url,
    )


def _interactive(message: wh.Message) -> InteractiveReply | None:
    if message.kind == "button" and message.button:
        return InteractiveReply(
            kind="template_button", id=message.button.payload, title=message.button.text
        )
    interactive = message.interactive
    if message.kind != "interactive" or interactive is None:
        return None
    if interactive.nfm_reply is not None:
        flow = interactive.nfm_reply
        return InteractiveReply(
            kind="nfm_reply", id=flow.name, title=flow.body, response_json=flow.response_json
        )
    option = interactive.button_reply or interactive.list_reply
    if option is None:
        return None
    kind = "button_reply" if interactive.button_reply else "list_reply"
    return InteractiveReply(
        kind=kind, id=option.id, title=option.title, description=option.description
    )


def _reaction(message: wh.Message) -> Reaction | None:
    reaction = message.reaction
    if message.kind != "reaction" or reaction is None or not reaction.message_id:
        return None
    return Reaction(message_id=reaction.message_id, emoji=reaction.emoji or None)


def _reply_context(message: wh.Message) -> ReplyContext | None:
    context = message.context
    if context is None:
        return None
    return ReplyContext(
        message_id=context.id,
        forwarded=context.forwarded,
        frequently_forwarded=context.frequently_forwarded,
    )


def _referral(message: wh.Message) -> Referral | None:
    referral = message.referral
    if referral is None:
        return None
    return Referral(
        source_url=referral.source_url,
        source_id=referral.source_id,
        source_type=referral.source_type,
        headline=referral.headline,
        body=referral.body,
        ctwa_clid=referral.ctwa_clid,
    )


def _status(raw: Mapping[str, Any], phone_number_id: str) -> MessageStatusEvent | None:
    try:
        status = wh.Status.model_validate(raw)
    except ValidationError:
        return None
    recipient = status.recipient_id or status.recipient_user_id
    if status.status not in DELIVERY_STATUSES or not recipient:
        return None
    payload = MessageStatus(
        message_id=status.id,
        status=status.status,
        recipient=recipient,
        at=status.timestamp or datetime.now(UTC),
        request_id=status.biz_opaque_callback_data,  # the sender's request id, echoed by Meta
        errors=[
            DeliveryError(code=e.code, title=e.title or e.message, details=e.details)
            for e in status.errors
        ],
    )
    return MessageStatusEvent(
        event_id=event_id("message.status", status.id, status.status),
        conversation=conversation_key(phone_number_id, recipient),
        occurred_at=payload.at,
        producer=PRODUCER,
        payload=payload,
    )
