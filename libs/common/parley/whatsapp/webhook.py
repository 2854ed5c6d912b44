"""Meta Cloud API webhook payloads as tolerant, frozen pydantic models (reference §1).

Tolerant on purpose: unknown fields are ignored, every optional part may be missing (`contacts`,
`from`, the type's sub-object), and a message type Meta adds later parses as `unsupported` instead
of failing the whole POST. Timestamps are Unix seconds as strings or ints. Each model keeps only
what Parley uses; the raw dict stays available to the caller that parsed it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

WHATSAPP_OBJECT = "whatsapp_business_account"
MEDIA_TYPES = frozenset({"image", "audio", "video", "document", "sticker"})
KNOWN_TYPES = MEDIA_TYPES | {
    "text",
    "location",
    "contacts",
    "interactive",
    "button",
    "reaction",
    "order",
    "system",
    "unsupported",
}


class WebhookModel(BaseModel):
    """Base of every webhook model: frozen, unknown fields ignored, `from` usable by name."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class WebhookError(WebhookModel):
    """An error object in `value.errors`, `messages[].errors` or `statuses[].errors`."""

    code: int = 0
    title: str | None = None
    message: str | None = None
    error_data: dict[str, Any] | None = None
    href: str | None = None

    @property
    def details(self) -> str | None:
        details = (self.error_data or {}).get("details")
        return str(details) if details is not None else None


class Text(WebhookModel):
    body: str = ""


class Media(WebhookModel):
    """`image`, `audio`, `video`, `document` and `sticker` share one shape."""

    id: str | None = None
    mime_type: str | None = None
    sha256: str | None = None
    caption: str | None = None
    filename: str | None = None
    url: str | None = None
    voice: bool = False
    animated: bool = False


class Location(WebhookModel):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None
    url: str | None = None


class ReplyOption(WebhookModel):
    """A tapped reply button or picked list row."""

    id: str | None = None
    title: str | None = None
    description: str | None = None


class FlowReply(WebhookModel):
    name: str | None = None
    body: str | None = None
    response_json: str | None = None

    @field_validator("response_json", mode="before")
    @classmethod
    def _as_string(cls, value: Any) -> Any:
        return value if value is None or isinstance(value, str) else json.dumps(value)


class Interactive(WebhookModel):
    type: str = ""
    button_reply: ReplyOption | None = None
    list_reply: ReplyOption | None = None
    nfm_reply: FlowReply | None = None


class TemplateButton(WebhookModel):
    """`button`: a quick-reply button tapped on a template message."""

    payload: str | None = None
    text: str | None = None


class Reaction(WebhookModel):
    message_id: str | None = None
    emoji: str | None = None  # empty or missing: the reaction was removed


class Order(WebhookModel):
    catalog_id: str | None = None
    text: str | None = None
    product_items: list[dict[str, Any]] = Field(default_factory=list)


class Context(WebhookModel):
    """`context`: a reply (`id`), a forward, or a product enquiry."""

    from_: str | None = Field(default=None, alias="from")
    id: str | None = None
    forwarded: bool = False
    frequently_forwarded: bool = False
    referred_product: dict[str, Any] | None = None


class Referral(WebhookModel):
    source_url: str | None = None
    source_id: str | None = None
    source_type: str | None = None
    headline: str | None = None
    body: str | None = None
    media_type: str | None = None
    ctwa_clid: str | None = None


class Message(WebhookModel):
    """One element of `value.messages`; `type` names the sub-object that carries the content."""

    id: str
    from_: str | None = Field(default=None, alias="from")
    from_user_id: str | None = None
    timestamp: datetime | None = None
    type: str = "unsupported"
    text: Text | None = None
    image: Media | None = None
    audio: Media | None = None
    video: Media | None = None
    document: Media | None = None
    sticker: Media | None = None
    location: Location | None = None
    contacts: list[dict[str, Any]] = Field(default_factory=list)
    interactive: Interactive | None = None
    button: TemplateButton | None = None
    reaction: Reaction | None = None
    order: Order | None = None
    system: dict[str, Any] | None = None
    unsupported: dict[str, Any] | None = None
    context: Context | None = None
    referral: Referral | None = None
    errors: list[WebhookError] = Field(default_factory=list)

    @property
    def kind(self) -> str:
        """The type, with anything Parley does not know (incl. legacy `unknown`) as unsupported."""
        return self.type if self.type in KNOWN_TYPES else "unsupported"

    @property
    def media(self) -> Media | None:
        if self.kind not in MEDIA_TYPES:
            return None
        media: Media | None = getattr(self, self.kind)
        return media


class Profile(WebhookModel):
    name: str | None = None


class Contact(WebhookModel):
    wa_id: str | None = None
    user_id: str | None = None
    profile: Profile | None = None


class Status(WebhookModel):
    """One element of `value.statuses`: a delivery receipt of a message we sent."""

    id: str
    status: str
    timestamp: datetime | None = None
    recipient_id: str | None = None
    recipient_user_id: str | None = None
    biz_opaque_callback_data: str | None = None
    errors: list[WebhookError] = Field(default_factory=list)


class Metadata(WebhookModel):
    display_phone_number: str | None = None
    phone_number_id: str


class Value(WebhookModel):
    """`entry[].changes[].value` of the `messages` field. Messages and statuses stay raw dicts
    here so one malformed element can be reported without losing its neighbours."""

    messaging_product: str | None = None
    metadata: Metadata | None = None
    contacts: list[Contact] = Field(default_factory=list)
    messages: list[dict[str, Any]] = Field(default_factory=list)
    statuses: list[dict[str, Any]] = Field(default_factory=list)
    errors: list[WebhookError] = Field(default_factory=list)

    def profile_name(self, wa_id: str | None) -> str | None:
        """The profile name of the contact `wa_id` (or of the only contact)."""
        for contact in self.contacts:
            if contact.wa_id == wa_id or len(self.contacts) == 1:
                return contact.profile.name if contact.profile else None
        return None


class Change(WebhookModel):
    field: str = ""
    value: dict[str, Any] = Field(default_factory=dict)


class Entry(WebhookModel):
    id: str | None = None
    changes: list[Change] = Field(default_factory=list)


class Notification(WebhookModel):
    """The POST body: `{"object": "whatsapp_business_account", "entry": [...]}`."""

    object: str = ""
    entry: list[Entry] = Field(default_factory=list)

    @property
    def is_whatsapp(self) -> bool:
        return self.object == WHATSAPP_OBJECT
