"""Twilio's WhatsApp shapes (reference §5) and their translation to and from Parley's models.

Inbound: Twilio's form fields become the same `MessageReceived` / `MessageStatus` payloads as a Meta
webhook. Outbound: a Meta-shaped body (reference §2) becomes Twilio's Messages API form fields.
Twilio adds parameters without notice, so unknown fields are kept (`extra="allow"`), never refused.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_pascal

from parley.payloads import (
    DeliveryError,
    DeliveryStatus,
    InteractiveReply,
    Location,
    MediaRef,
    MessageKind,
    MessageReceived,
    MessageStatus,
    Referral,
    ReplyContext,
)

WHATSAPP_PREFIX = "whatsapp:"
# Twilio error code -> the Meta code the sender already knows how to handle (reference §3, §5).
META_CODE_OF_TWILIO = {
    63016: 131047,  # outside the 24 h window: send a template
    63018: 130429,  # rate limit
    63003: 131026,  # the channel could not find the To address
    63024: 131026,  # invalid message recipient
    63021: 131051,  # invalid or unsupported content
    20003: 190,  # authentication failed
}
STATUS_OF_TWILIO: dict[str, DeliveryStatus] = {
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "failed": "failed",
    "undelivered": "failed",
    "canceled": "failed",
}  # queued/sending/accepted/scheduled: not news, the sender tracks the message as accepted
MEDIA_KINDS = ("image", "audio", "video", "document", "sticker")
MAX_BODY = 1600  # Twilio refuses longer bodies (error 21617); Meta allows 4096


class TwilioForm(BaseModel):
    """The fields of a Twilio WhatsApp webhook (inbound message or status callback)."""

    model_config = ConfigDict(
        frozen=True, extra="allow", alias_generator=to_pascal, populate_by_name=True
    )

    message_sid: str
    account_sid: str | None = None
    from_: str = Field("", alias="From")
    to: str = ""
    body: str = ""
    num_media: int = 0
    wa_id: str | None = None
    profile_name: str | None = None
    message_type: str | None = None
    forwarded: bool = False
    frequently_forwarded: bool = False
    button_text: str | None = None
    button_payload: str | None = None
    list_id: str | None = None
    list_title: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    address: str | None = None
    label: str | None = None
    original_replied_message_sid: str | None = None
    referral_source_url: str | None = None
    referral_source_id: str | None = None
    referral_source_type: str | None = None
    referral_headline: str | None = None
    referral_body: str | None = None
    referral_ctwa_clid: str | None = None
    message_status: str | None = None
    sms_status: str | None = None
    error_code: int | None = None
    error_message: str | None = None

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> TwilioForm:
        # Twilio sends empty strings for absent values (`Latitude=`); only Body keeps its ""
        return cls.model_validate({k: v for k, v in fields.items() if v != "" or k == "Body"})

    @property
    def is_status_callback(self) -> bool:
        return self.message_status is not None and self.message_status != "received"

    @property
    def customer(self) -> str:
        return self.wa_id or digits(self.from_)

    def media(self) -> list[tuple[str, str | None]]:
        """(url, content type) of each attachment."""
        extra = self.model_extra or {}
        found = []
        for i in range(max(self.num_media, 0)):
            url = extra.get(f"MediaUrl{i}")
            if url:
                found.append((str(url), extra.get(f"MediaContentType{i}")))
        return found


def digits(address: str) -> str:
    """`whatsapp:+14155550100` -> `14155550100`."""
    return "".join(ch for ch in address if ch.isdigit())


def to_message_received(
    form: TwilioForm, business_phone_number_id: str, received_at: datetime
) -> MessageReceived:
    """The channel-neutral message; Twilio has no send time, so the receive time stands in."""
    kind, extra = _content(form)
    return MessageReceived(
        channel="twilio",
        business_phone_number_id=business_phone_number_id,
        wa_id=form.customer,
        message_id=form.message_sid,
        kind=kind,
        profile_name=form.profile_name,
        sent_at=received_at,
        reply_context=_reply_context(form),
        referral=_referral(form),
        **extra,
    )


def _content(form: TwilioForm) -> tuple[MessageKind, dict[str, Any]]:
    """Kind and content; `text` is what the customer wrote or chose, as the Meta normaliser sets
    it (body, caption, option title, place name)."""
    text = form.body or None
    if form.latitude is not None and form.longitude is not None:
        place = Location(
            latitude=form.latitude, longitude=form.longitude, name=form.label, address=form.address
        )
        return "location", {"location": place, "text": form.label or form.address}
    if form.list_id or form.button_payload or form.button_text:
        reply = _interactive(form)
        kind: MessageKind = "button" if reply.kind == "template_button" else "interactive"
        return kind, {"interactive": reply, "text": reply.title}
    attachments = form.media()
    if attachments:
        url, mime = attachments[0]  # WhatsApp carries one attachment per message
        ref = MediaRef(url=url, mime_type=mime, caption=text, voice=_is_voice(mime))
        return _media_kind(mime), {"media": ref, "text": text}
    return "text", {"text": text}


def _interactive(form: TwilioForm) -> InteractiveReply:
    if form.list_id:
        return InteractiveReply(kind="list_reply", id=form.list_id, title=form.list_title)
    # Twilio's MessageType tells a template quick reply ("button") from an in-session reply button
    # (UNCONFIRMED: reference §5 lists these fields from memory)
    kind = "template_button" if form.message_type == "button" else "button_reply"
    return InteractiveReply(
        kind=kind, id=form.button_payload, title=form.button_text or form.body or None
    )


def _media_kind(mime: str | None) -> MessageKind:
    mime = (mime or "").lower()
    if mime in ("text/vcard", "text/x-vcard"):
        return "contacts"
    if mime == "image/webp":
        return "sticker"
    kinds: dict[str, MessageKind] = {"image": "image", "audio": "audio", "video": "video"}
    return kinds.get(mime.split("/")[0], "document")


def _is_voice(mime: str | None) -> bool:
    # WhatsApp voice notes are ogg/opus; shared audio files are mp3/aac/m4a (Twilio sends no flag)
    return (mime or "").lower().startswith("audio/ogg")


def _reply_context(form: TwilioForm) -> ReplyContext | None:
    if not (form.original_replied_message_sid or form.forwarded or form.frequently_forwarded):
        return None
    return ReplyContext(
        message_id=form.original_replied_message_sid,
        forwarded=form.forwarded or form.frequently_forwarded,
        frequently_forwarded=form.frequently_forwarded,
    )


def _referral(form: TwilioForm) -> Referral | None:
    fields = {
        "source_url": form.referral_source_url,
        "source_id": form.referral_source_id,
        "source_type": form.referral_source_type,
        "headline": form.referral_headline,
        "body": form.referral_body,
        "ctwa_clid": form.referral_ctwa_clid,
    }
    return Referral(**fields) if any(fields.values()) else None


def to_message_status(form: TwilioForm, at: datetime) -> MessageStatus | None:
    """A delivery status, or None for the intermediate states Parley does not track."""
    status = STATUS_OF_TWILIO.get((form.message_status or "").lower())
    if status is None:
        return None
    errors = [_delivery_error(form)] if status == "failed" and form.error_code else []
    return MessageStatus(
        message_id=form.message_sid, status=status, recipient=digits(form.to), at=at, errors=errors
    )


def _delivery_error(form: TwilioForm) -> DeliveryError:
    code = int(form.error_code or 0)
    return DeliveryError(
        code=META_CODE_OF_TWILIO.get(code, code),
        title=form.error_message,
        details=f"twilio error {code}",
    )


# --- outbound: Meta-shaped body -> Twilio form fields ----------------------------------------


class Unsupported(ValueError):
    """The body has no Twilio equivalent (e.g. a reaction, or media by Meta media id)."""


def twilio_fields(body: Mapping[str, Any]) -> dict[str, str | list[str]]:
    """Twilio Messages API fields (without From/To) for one Meta-shaped message body."""
    kind = str(body.get("type", "text"))
    if kind == "text":
        return {"Body": str(body.get("text", {}).get("body", ""))}
    if kind in MEDIA_KINDS:
        return _media_fields(kind, body.get(kind) or {})
    if kind == "template":
        return _template_fields(body.get("template") or {})
    if kind == "interactive":
        return {"Body": interactive_text(body.get("interactive") or {})}
    raise Unsupported(f"Twilio cannot send a {kind!r} message")


def _media_fields(kind: str, media: Mapping[str, Any]) -> dict[str, str | list[str]]:
    link = media.get("link")
    if not link:
        raise Unsupported(f"Twilio sends {kind} by public link only, not by Meta media id")
    fields: dict[str, str | list[str]] = {"MediaUrl": [str(link)]}
    caption = media.get("caption")
    if caption:
        fields["Body"] = str(caption)
    return fields


def _template_fields(template: Mapping[str, Any]) -> dict[str, str | list[str]]:
    """A Twilio Content SID (`HX…`) as the template name is sent as such; any other name falls
    back to the body parameters as text (Twilio needs Content API templates outside the window)."""
    name = str(template.get("name", ""))
    params = [
        str(p.get("text", ""))
        for c in template.get("components") or []
        if c.get("type") == "body"
        for p in c.get("parameters") or []
        if p.get("type") == "text"
    ]
    if name.startswith("HX"):
        variables = {str(i): value for i, value in enumerate(params, start=1)}
        fields: dict[str, str | list[str]] = {"ContentSid": name}
        if variables:
            fields["ContentVariables"] = json.dumps(variables, ensure_ascii=False)
        return fields
    return {"Body": " ".join(params) or name}


def interactive_text(interactive: Mapping[str, Any]) -> str:
    """Reply buttons and lists as text with numbered options (plain Twilio has no interactive)."""
    header = (interactive.get("header") or {}).get("text")
    body = (interactive.get("body") or {}).get("text")
    footer = (interactive.get("footer") or {}).get("text")
    action = interactive.get("action") or {}
    titles = [str(b.get("reply", {}).get("title", "")) for b in action.get("buttons") or []]
    for section in action.get("sections") or []:
        titles += [str(row.get("title", "")) for row in section.get("rows") or []]
    options = "\n".join(f"{i}. {title}" for i, title in enumerate(titles, start=1))
    parts = [header, body, options, footer]
    return "\n\n".join(str(p) for p in parts if p)
