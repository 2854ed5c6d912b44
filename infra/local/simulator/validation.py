"""Validate `POST /{phone_number_id}/messages` bodies the way Meta does (reference §2)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .errors import GraphError

MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")
MESSAGE_TYPES = (
    "text",
    "interactive",
    "template",
    "reaction",
    "location",
    "contacts",
    *MEDIA_TYPES,
)
_PHONE = re.compile(r"^\+?\d{7,15}$")
_NO_CAPTION = ("audio", "sticker")

Body = dict[str, Any]


def need(condition: bool, details: str, code: int = 100) -> None:
    if not condition:
        raise GraphError(code, details)


def _obj(parent: Body, key: str, where: str) -> Body:
    value = parent.get(key)
    need(isinstance(value, dict), f"The parameter {where}['{key}'] is required.", 131008)
    assert isinstance(value, dict)
    return value


def _text(value: Any, where: str, max_len: int, required: bool = True) -> None:
    if value is None and not required:
        return
    need(isinstance(value, str) and value != "", f"The parameter {where} is required.", 131008)
    need(len(value) <= max_len, f"Param {where} must be at most {max_len} characters long.")


def validate_phone(to: Any) -> str:
    need(isinstance(to, str) and to != "", "The parameter to is required.", 131008)
    need(bool(_PHONE.match(to)), f"Param to must be a valid phone number, got '{to}'.")
    return str(to).lstrip("+")


def validate_read(body: Body) -> str:
    """A mark-as-read / typing-indicator body; returns the message id."""
    message_id = body.get("message_id")
    need(isinstance(message_id, str) and message_id != "", "The parameter message_id is required.")
    need(body.get("status") == "read", "Param status must be 'read'.")
    typing = body.get("typing_indicator")
    if typing is not None:
        need(
            isinstance(typing, dict) and typing.get("type") == "text",
            "Param typing_indicator['type'] must be 'text'.",
        )
    return str(message_id)


def validate_send(body: Body, media_exists: Callable[[str], bool]) -> tuple[str, str]:
    """Validate a send body; returns (message type, recipient wa_id)."""
    need(isinstance(body, dict), "Request body must be a JSON object.")
    need(
        body.get("messaging_product") == "whatsapp", "The parameter messaging_product is required."
    )
    recipient_type = body.get("recipient_type", "individual")
    need(recipient_type == "individual", "Param recipient_type must be 'individual'.")
    wa_id = validate_phone(body.get("to"))
    kind = body.get("type", "text")
    need(kind in MESSAGE_TYPES, f"Param type must be one of {', '.join(MESSAGE_TYPES)}.")
    context = body.get("context")
    if context is not None:
        need(isinstance(context, dict), "Param context must be an object.")
        _text(context.get("message_id"), "context['message_id']", 512)
    if kind in MEDIA_TYPES:
        _media(body, kind, media_exists)
    else:
        _VALIDATORS[kind](body)
    return kind, wa_id


def _plain_text(body: Body) -> None:
    text = _obj(body, "text", "")
    _text(text.get("body"), "text['body']", 4096)
    preview = text.get("preview_url", False)
    need(isinstance(preview, bool), "Param text['preview_url'] must be a boolean.")


def _media(body: Body, kind: str, media_exists: Callable[[str], bool]) -> None:
    media = _obj(body, kind, "")
    has_id, has_link = "id" in media, "link" in media
    need(has_id != has_link, f"Param {kind} must contain exactly one of 'id' or 'link'.")
    if has_id:
        need(
            isinstance(media["id"], str) and media_exists(media["id"]),
            f"Param {kind}['id'] is not a valid media id.",
        )
    else:
        link = media["link"]
        need(
            isinstance(link, str) and link.startswith(("http://", "https://")),
            f"Param {kind}['link'] must be a valid http(s) URL.",
        )
    if kind in _NO_CAPTION:
        need("caption" not in media, f"Param {kind}['caption'] is not supported.")
    else:
        _text(media.get("caption"), f"{kind}['caption']", 1024, required=False)
    if kind == "document":
        _text(media.get("filename"), "document['filename']", 240, required=False)


def _template(body: Body) -> None:
    template = _obj(body, "template", "")
    _text(template.get("name"), "template['name']", 512)
    language = _obj(template, "language", "template")
    _text(language.get("code"), "template['language']['code']", 15)
    components = template.get("components", [])
    need(isinstance(components, list), "Param template['components'] must be an array.")
    for component in components:
        need(
            isinstance(component, dict) and isinstance(component.get("type"), str),
            "Param template['components'][]['type'] is required.",
            131008,
        )
        params = component.get("parameters", [])
        need(isinstance(params, list), "Param components[]['parameters'] must be an array.")


def _reaction(body: Body) -> None:
    reaction = _obj(body, "reaction", "")
    _text(reaction.get("message_id"), "reaction['message_id']", 512)
    emoji = reaction.get("emoji")
    need(isinstance(emoji, str), "The parameter reaction['emoji'] is required.", 131008)


def _location(body: Body) -> None:
    location = _obj(body, "location", "")
    for key, limit in (("latitude", 90), ("longitude", 180)):
        value = location.get(key)
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                value = None
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        need(ok and abs(float(value or 0)) <= limit, f"Param location['{key}'] is not valid.")


def _contacts(body: Body) -> None:
    contacts = body.get("contacts")
    need(
        isinstance(contacts, list) and len(contacts) > 0,
        "Param contacts must be a non-empty array.",
    )
    assert isinstance(contacts, list)
    for contact in contacts:
        need(isinstance(contact, dict), "Param contacts[] must be an object.")
        name = _obj(contact, "name", "contacts[]")
        _text(name.get("formatted_name"), "contacts[]['name']['formatted_name']", 512)


def _interactive(body: Body) -> None:
    interactive = _obj(body, "interactive", "")
    itype = interactive.get("type")
    need(
        itype in _INTERACTIVE,
        f"Param interactive['type'] must be one of {', '.join(_INTERACTIVE)}.",
    )
    _text(_obj(interactive, "body", "interactive").get("text"), "interactive['body']['text']", 1024)
    footer = interactive.get("footer")
    if footer is not None:
        need(isinstance(footer, dict), "Param interactive['footer'] must be an object.")
        _text(footer.get("text"), "interactive['footer']['text']", 60)
    _header(interactive.get("header"), allow_media=itype == "button")
    _INTERACTIVE[str(itype)](_obj(interactive, "action", "interactive"))


def _header(header: Any, allow_media: bool) -> None:
    if header is None:
        return
    need(isinstance(header, dict), "Param interactive['header'] must be an object.")
    htype = header.get("type")
    allowed = ("text", "image", "video", "document") if allow_media else ("text",)
    need(htype in allowed, f"Param interactive['header']['type'] must be one of {allowed}.")
    if htype == "text":
        _text(header.get("text"), "interactive['header']['text']", 60)
    else:
        need(isinstance(header.get(htype), dict), f"Param header['{htype}'] is required.", 131008)


def _buttons(action: Body) -> None:
    buttons = action.get("buttons")
    need(isinstance(buttons, list), "The parameter interactive['action']['buttons'] is required.")
    assert isinstance(buttons, list)
    need(1 <= len(buttons) <= 3, "Param interactive['action']['buttons'] must have 1 to 3 items.")
    titles: set[str] = set()
    ids: set[str] = set()
    for button in buttons:
        need(
            isinstance(button, dict) and button.get("type") == "reply",
            "Param buttons[]['type'] must be 'reply'.",
        )
        reply = _obj(button, "reply", "buttons[]")
        _text(reply.get("id"), "buttons[]['reply']['id']", 256)
        _text(reply.get("title"), "buttons[]['reply']['title']", 20)
        need(reply["title"] not in titles, "Button titles must be unique.")
        need(reply["id"] not in ids, "Button ids must be unique.")
        titles.add(reply["title"])
        ids.add(reply["id"])


def _list(action: Body) -> None:
    _text(action.get("button"), "interactive['action']['button']", 20)
    sections = action.get("sections")
    need(isinstance(sections, list), "The parameter interactive['action']['sections'] is required.")
    assert isinstance(sections, list)
    need(
        1 <= len(sections) <= 10, "Param interactive['action']['sections'] must have 1 to 10 items."
    )
    row_ids: set[str] = set()
    for section in sections:
        need(isinstance(section, dict), "Param sections[] must be an object.")
        _text(section.get("title"), "sections[]['title']", 24, required=len(sections) > 1)
        rows = section.get("rows")
        need(isinstance(rows, list) and len(rows) > 0, "Param sections[]['rows'] is required.")
        for row in rows:
            need(isinstance(row, dict), "Param rows[] must be an object.")
            _text(row.get("id"), "rows[]['id']", 200)
            _text(row.get("title"), "rows[]['title']", 24)
            _text(row.get("description"), "rows[]['description']", 72, required=False)
            need(row["id"] not in row_ids, "Row ids must be unique.")
            row_ids.add(row["id"])
    need(len(row_ids) <= 10, "A list message can have at most 10 rows in total.")


def _cta_url(action: Body) -> None:
    params = _obj(action, "parameters", "interactive['action']")
    _text(params.get("display_text"), "action['parameters']['display_text']", 20)
    _text(params.get("url"), "action['parameters']['url']", 2000)


_INTERACTIVE: dict[str, Callable[[Body], None]] = {
    "button": _buttons,
    "list": _list,
    "cta_url": _cta_url,
}
_VALIDATORS: dict[str, Callable[[Body], None]] = {
    "text": _plain_text,
    "interactive": _interactive,
    "template": _template,
    "reaction": _reaction,
    "location": _location,
    "contacts": _contacts,
}
