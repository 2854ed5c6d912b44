"""The customer side: the chat page, its live stream, and customer actions -> signed webhooks."""

from __future__ import annotations

import json
import queue
from collections.abc import Iterator
from typing import Any, Literal

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .config import SimConfig
from .statuses import StatusEngine
from .store import ChatEntry, Media, State, new_wamid
from .transcode import OGG_OPUS, TranscodeError, needs_transcoding, ogg_filename, to_ogg_opus
from .webhooks import deliver, message_payload, now_ts

Json = dict[str, Any]
CAPTIONED = ("image", "video", "document")
MEDIA_KINDS = ("image", "audio", "video", "document", "sticker")

bp = Blueprint("customer", __name__)


class CustomerMessage(BaseModel):
    """Body of `POST /_sim/customer/messages`: one action of the customer."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    from_: str | None = Field(default=None, alias="from", pattern=r"^\d{7,15}$")
    name: str | None = None
    type: Literal[
        "text",
        "image",
        "audio",
        "video",
        "document",
        "sticker",
        "interactive",
        "button",
        "location",
        "reaction",
    ] = "text"
    text: str | None = None
    media_id: str | None = None
    caption: str | None = None
    filename: str | None = None
    voice: bool = False
    reply_to: str | None = None  # wamid quoted (context); the tapped message for replies
    button_id: str | None = None  # reply button / list row id / template button payload
    emoji: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    location_name: str | None = None
    address: str | None = None


class CustomerError(Exception):
    pass


def _cfg() -> SimConfig:
    config: SimConfig = current_app.extensions["sim_config"]
    return config


def _state() -> State:
    state: State = current_app.extensions["sim_state"]
    return state


@bp.get("/")
def index() -> Response:
    return current_app.send_static_file("index.html")


@bp.get("/_sim/config")
def page_config() -> Response:
    cfg = _cfg()
    return jsonify(
        business_name=cfg.business_name,
        display_number=cfg.display_number,
        phone_number_id=cfg.phone_number_id,
        customer_name=cfg.default_customer_name,
        customer_number=cfg.default_customer_number,
        typing_timeout=cfg.typing_timeout,
        webhook_url=cfg.webhook_url,
    )


@bp.get("/_sim/chat")
def chat() -> Response:
    wa_id = request.args.get("wa_id")
    typing = _state().typing_left(wa_id) if wa_id else 0.0
    return jsonify(messages=_state().chat_for(wa_id), typing_seconds=typing)


@bp.post("/_sim/chat/seen")
def seen() -> Response:
    wamids = (request.get_json(silent=True) or {}).get("wamids", [])
    engine: StatusEngine = current_app.extensions["sim_engine"]
    engine.seen([w for w in wamids if isinstance(w, str)])
    return jsonify(ok=True)


@bp.get("/_sim/media/<media_id>")
def page_media(media_id: str) -> Response:
    media = _state().get_media(media_id)
    if media is None:
        return Response("not found", status=404)
    return Response(media.data, mimetype=media.mime_type)


@bp.get("/_sim/stream")
def stream() -> Response:
    broker = _state().broker
    subscription = broker.subscribe()

    def events() -> Iterator[str]:
        try:
            yield "retry: 1000\n\nevent: hello\ndata: {}\n\n"
            while True:
                try:
                    item = subscription.get(timeout=15)
                except queue.Empty:
                    yield ": keepalive\n\n"
                    continue
                if item is None:
                    return
                yield f"event: {item['event']}\ndata: {json.dumps(item['data'])}\n\n"
        finally:
            broker.unsubscribe(subscription)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return Response(events(), mimetype="text/event-stream", headers=headers)


@bp.post("/_sim/customer/media")
def customer_media() -> tuple[Response, int]:
    upload = request.files.get("file")
    if upload is None:
        return jsonify(error="multipart field 'file' is required"), 400
    data = upload.read()
    if not data:
        return jsonify(error="the file is empty"), 400
    mime = (request.form.get("type") or upload.mimetype or "application/octet-stream").strip()
    filename = upload.filename
    if needs_transcoding(mime):  # the page's WebM recording -> OGG/Opus, as WhatsApp delivers
        try:
            data, mime, filename = to_ogg_opus(data), OGG_OPUS, ogg_filename(filename)
        except TranscodeError as exc:
            return jsonify(error=f"the voice note could not be converted to OGG/Opus: {exc}"), 400
    media = _state().add_media(data, mime, filename, "customer")
    return jsonify(media_json(media)), 200


def media_json(media: Media) -> Json:
    return {
        "id": media.id,
        "mime_type": media.mime_type,
        "sha256": media.sha256,
        "file_size": media.file_size,
        "filename": media.filename,
    }


@bp.post("/_sim/customer/messages")
def customer_message() -> tuple[Response, int]:
    try:
        action = CustomerMessage.model_validate(request.get_json(silent=True) or {})
        message = build_message(action, _cfg(), _state())
    except ValidationError as exc:
        return jsonify(error="invalid customer message", details=exc.errors(include_url=False)), 400
    except CustomerError as exc:
        return jsonify(error=str(exc)), 400
    result = send_customer_message(action, message)
    webhook = {k: result[k] for k in ("status", "ok", "error")}
    return jsonify(wamid=message["id"], message=message, webhook=webhook), (
        200 if result["ok"] else 502
    )


def send_customer_message(action: CustomerMessage, message: Json) -> Json:
    cfg, state = _cfg(), _state()
    name = action.name or cfg.default_customer_name
    wa_id = message["from"]
    entry = ChatEntry(message["id"], "in", wa_id, message["type"], {**message, "name": name})
    state.add_chat(entry)
    engine: StatusEngine = current_app.extensions["sim_engine"]
    engine.customer_replied(wa_id)
    result = deliver(cfg, state, message_payload(cfg, name, message), f"message:{entry.kind}")
    webhook = {k: result.get(k) for k in ("status", "ok", "error")}
    status = entry.status
    if status == "sent":
        status = "delivered" if result["ok"] else "failed"
    state.update_chat(entry, status=status, webhook=webhook)
    return result


def build_message(action: CustomerMessage, cfg: SimConfig, state: State) -> Json:
    """The `messages[]` object Meta would put in the webhook for this customer action."""
    kind = action.type
    message: Json = {
        "from": action.from_ or cfg.default_customer_number,
        "id": new_wamid(),
        "timestamp": now_ts(),
        "type": kind,
    }
    if action.reply_to and kind != "reaction":
        message["context"] = {"from": cfg.display_number, "id": action.reply_to}
    if kind in MEDIA_KINDS:
        message[kind] = _media_object(action, state)
    elif kind in ("interactive", "button"):
        message[kind] = _tap_object(action, state)
    else:
        message[kind] = _SIMPLE[kind](action)
    return message


def _text(action: CustomerMessage) -> Json:
    if not action.text:
        raise CustomerError("'text' is required for a text message")
    return {"body": action.text}


def _location(action: CustomerMessage) -> Json:
    if action.latitude is None or action.longitude is None:
        raise CustomerError("'latitude' and 'longitude' are required")
    place = {"name": action.location_name, "address": action.address}
    return {
        "latitude": action.latitude,
        "longitude": action.longitude,
        **{k: v for k, v in place.items() if v},
    }


def _reaction(action: CustomerMessage) -> Json:
    if not action.reply_to:
        raise CustomerError("'reply_to' (the message reacted to) is required")
    return {"message_id": action.reply_to, "emoji": action.emoji or ""}


_SIMPLE = {"text": _text, "location": _location, "reaction": _reaction}


def _media_object(action: CustomerMessage, state: State) -> Json:
    media = state.get_media(action.media_id or "")
    if media is None:
        raise CustomerError("'media_id' must be the id of an uploaded file")
    mime = media.mime_type
    if action.type == "audio" and action.voice and mime.startswith("audio/ogg"):
        mime = "audio/ogg; codecs=opus"
    obj: Json = {"id": media.id, "mime_type": mime, "sha256": media.sha256}
    if action.type in CAPTIONED and action.caption:
        obj["caption"] = action.caption
    if action.type == "document":
        obj["filename"] = action.filename or media.filename or "document"
    if action.type == "audio":
        obj["voice"] = action.voice
    if action.type == "sticker":
        obj["animated"] = False
    return obj


def _tap_object(action: CustomerMessage, state: State) -> Json:
    target = state.chat_entry(action.reply_to or "")
    if target is None or target.direction != "out":
        raise CustomerError("'reply_to' must be the wamid of a business message")
    if action.type == "button":
        if target.kind != "template" or not action.button_id:
            raise CustomerError("template button taps need a template message and 'button_id'")
        return {"payload": action.button_id, "text": action.text or action.button_id}
    interactive = target.payload.get("interactive", {})
    option = find_option(interactive, action.button_id or "")
    if option is None:
        raise CustomerError(f"the message has no button or row with id {action.button_id!r}")
    reply_type = "button_reply" if interactive.get("type") == "button" else "list_reply"
    return {"type": reply_type, reply_type: option}


def find_option(interactive: Json, option_id: str) -> Json | None:
    """The button (id, title) or list row (id, title, description) with this id."""
    action = interactive.get("action", {})
    for button in action.get("buttons", []):
        reply = button.get("reply", {})
        if reply.get("id") == option_id:
            return {"id": reply["id"], "title": reply["title"]}
    for section in action.get("sections", []):
        for row in section.get("rows", []):
            if row.get("id") == option_id:
                keys = ("id", "title", "description")
                return {k: row[k] for k in keys if k in row}
    return None
