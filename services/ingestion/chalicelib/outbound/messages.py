"""Meta Cloud API bodies (reference §2) for a `reply.requested` job, limits checked first.

Every channel takes these bodies (EUM passes them through, Twilio translates them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.outbound import limits
from chalicelib.outbound.split import split_text
from parley.errors import InvalidInput
from parley.payloads import ReplyRequested, TemplateMessage
from parley.settings import BusinessNumber

Body = dict[str, Any]
FREE_FORM = frozenset({"text", "buttons", "list", "media", "reaction"})  # need the 24 h window
NOT_MESSAGES = frozenset({"read", "typing"})  # receipts: not tracked, not pair-limited


def build_bodies(reply: ReplyRequested) -> list[Body]:
    """The bodies to send, in order (a long text gives several); InvalidInput names a broken
    limit. `reply_to` quotes the first part; for read/typing it is the customer's message id."""
    if reply.kind in NOT_MESSAGES:
        return [receipt_body(reply)]
    contents = _BUILDERS[reply.kind](reply)
    bodies = [{**envelope(reply.to), **content} for content in contents]
    if reply.reply_to:
        bodies[0]["context"] = {"message_id": reply.reply_to}
    return bodies


def envelope(to: str) -> Body:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}


def template_body(to: str, template: TemplateMessage) -> Body:
    content: Body = {"name": template.name, "language": {"code": template.language}}
    if template.components:
        content["components"] = list(template.components)
    return {**envelope(to), "type": "template", "template": content}


def receipt_body(reply: ReplyRequested) -> Body:
    """Mark-as-read, plus the typing indicator for `typing` (which also marks read)."""
    if not reply.reply_to:
        raise InvalidInput(f"{reply.kind}: reply_to (the customer's message id) is required")
    body: Body = {"messaging_product": "whatsapp", "status": "read", "message_id": reply.reply_to}
    if reply.kind == "typing":
        body["typing_indicator"] = {"type": "text"}
    return body


def _text(reply: ReplyRequested) -> list[Body]:
    if not reply.text or not reply.text.strip():
        raise InvalidInput("text: text is required")
    return [
        {"type": "text", "text": {"body": part, "preview_url": _has_link(part)}}
        for part in split_text(reply.text)
    ]


def _has_link(text: str) -> bool:
    return "https://" in text or "http://" in text


def _buttons(reply: ReplyRequested) -> list[Body]:
    limits.check_buttons(reply.text, reply.buttons)
    buttons = [{"type": "reply", "reply": {"id": b.id, "title": b.title}} for b in reply.buttons]
    interactive = {"type": "button", "body": {"text": reply.text}, "action": {"buttons": buttons}}
    return [{"type": "interactive", "interactive": interactive}]


def _list(reply: ReplyRequested) -> list[Body]:
    limits.check_list(reply.text, reply.list_button, reply.sections)
    sections = [
        {
            **({"title": section.title} if section.title else {}),
            "rows": [row.model_dump(exclude_none=True) for row in section.rows],
        }
        for section in reply.sections
    ]
    interactive = {
        "type": "list",
        "body": {"text": reply.text},
        "action": {"button": reply.list_button, "sections": sections},
    }
    return [{"type": "interactive", "interactive": interactive}]


def _template(reply: ReplyRequested) -> list[Body]:
    if reply.template is None:
        raise InvalidInput("template: template is required")
    body = template_body(reply.to, reply.template)
    return [{"type": "template", "template": body["template"]}]


def _media(reply: ReplyRequested) -> list[Body]:
    limits.check_media(reply.media_kind, reply.media)
    assert reply.media is not None and reply.media_kind is not None
    ref = reply.media
    media: Body = {"id": ref.media_id} if ref.media_id else {"link": ref.url}
    if reply.media.caption:
        media["caption"] = reply.media.caption
    if reply.media_kind == "document" and reply.media.filename:
        media["filename"] = reply.media.filename
    return [{"type": reply.media_kind, reply.media_kind: media}]


def _reaction(reply: ReplyRequested) -> list[Body]:
    if reply.reaction is None:
        raise InvalidInput("reaction: reaction (message_id, emoji) is required")
    emoji = reply.reaction.emoji or ""  # empty removes the reaction
    reaction = {"message_id": reply.reaction.message_id, "emoji": emoji}
    return [{"type": "reaction", "reaction": reaction}]


_BUILDERS: dict[str, Callable[[ReplyRequested], list[Body]]] = {
    "text": _text,
    "buttons": _buttons,
    "list": _list,
    "template": _template,
    "media": _media,
    "reaction": _reaction,
}


def reengagement_reply(number: BusinessNumber, wa_id: str, failed_wamid: str) -> ReplyRequested:
    """The job that answers a `failed` status with 131047: the number's fallback template, once
    per failed message (its request id derives from the failed wamid, and the sender skips a
    request already sent). Enqueue it on outbound.fifo as a reply.requested event."""
    return ReplyRequested(
        request_id=f"reengage:{failed_wamid}",
        to=wa_id,
        kind="template",
        template=TemplateMessage(
            name=number.fallback_template, language=number.fallback_template_language
        ),
    )
