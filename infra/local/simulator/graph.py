"""Fake Graph API: sends, mark-as-read, typing, media upload/metadata/download (reference §2)."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from werkzeug.routing import BaseConverter

from .config import SimConfig
from .errors import GraphError, error_body
from .statuses import StatusEngine
from .store import ChatEntry, Fault, Media, State, new_wamid
from .validation import MEDIA_TYPES, need, validate_read, validate_send

Json = dict[str, Any]
DOWNLOAD_PATH = "/whatsapp_business/attachments/"
URL_TTL = 300
MEDIA_LIMITS = {  # mime prefix/type -> max bytes (reference §2, Media)
    "image/jpeg": 5 << 20,
    "image/png": 5 << 20,
    "image/webp": 500 << 10,
    "audio/": 16 << 20,
    "video/": 16 << 20,
    "text/plain": 100 << 20,
    "application/": 100 << 20,
}

bp = Blueprint("graph", __name__)


class VersionConverter(BaseConverter):
    regex = r"v\d+\.\d+"


def register(app: Flask) -> None:
    app.url_map.converters["graph_version"] = VersionConverter
    app.register_blueprint(bp)


def _cfg() -> SimConfig:
    config: SimConfig = current_app.extensions["sim_config"]
    return config


def _state() -> State:
    state: State = current_app.extensions["sim_state"]
    return state


def _engine() -> StatusEngine:
    engine: StatusEngine = current_app.extensions["sim_engine"]
    return engine


@bp.errorhandler(GraphError)
def _graph_error(exc: GraphError) -> tuple[Response, int]:
    return jsonify(exc.body()), exc.status


@bp.before_request
def _authenticate() -> tuple[Response, int] | None:
    g.started = time.time()
    header = request.headers.get("Authorization", "")
    token = header[7:] if header.startswith("Bearer ") else ""
    if not hmac.compare_digest(token.encode(), _cfg().access_token.encode()):
        return jsonify(error_body(190)), 401
    return None


@bp.after_request
def _record(response: Response) -> Response:
    if response.is_json:
        answer: Any = response.get_json(silent=True)
    else:
        answer = {"bytes": len(response.get_data()), "content_type": response.mimetype}
    _state().record_request(
        {
            "time": g.get("started", time.time()),
            "method": request.method,
            "path": request.path,
            "query": request.args.to_dict(),
            "kind": g.get("kind"),
            "to": g.get("to"),
            "body": g.get("body", request.get_json(silent=True)),
            "status": response.status_code,
            "response": answer,
        }
    )
    return response


@bp.post("/<graph_version:version>/<phone_number_id>/messages")
def send_message(version: str, phone_number_id: str) -> tuple[Response, int]:
    _check_sender(phone_number_id)
    body = request.get_json(silent=True)
    g.kind = "invalid"
    need(isinstance(body, dict), "Request body must be a JSON object.")
    assert isinstance(body, dict)
    g.to = body.get("to", "").lstrip("+") if isinstance(body.get("to"), str) else None
    if "status" in body:
        return _mark_read(body)
    kind, wa_id = validate_send(body, lambda media_id: _state().get_media(media_id) is not None)
    g.kind = kind
    fault = _state().take_fault(wa_id)
    if fault is not None and fault.spec.delivery == "sync":
        code = fault.spec.code or 1
        raise GraphError(code, fault.spec.details, fault.spec.http_status)
    wamid = new_wamid()
    _show_to_customer(wamid, kind, wa_id, body, fault)
    answer = {
        "messaging_product": "whatsapp",
        "contacts": [{"input": body["to"], "wa_id": wa_id}],
        "messages": [{"id": wamid}],
    }
    return jsonify(answer), 200


def _show_to_customer(
    wamid: str, kind: str, wa_id: str, body: Json, async_fault: Fault | None
) -> None:
    state = _state()
    state.set_typing(wa_id, 0)
    entry = ChatEntry(wamid, "out", wa_id, kind, body, status="accepted")
    if kind == "reaction":
        target = state.chat_entry(body["reaction"]["message_id"])
        if target is not None:
            state.update_chat(target, reaction=body["reaction"]["emoji"] or None)
    state.add_chat(entry)
    _engine().accepted(entry, async_fault)


def _mark_read(body: Json) -> tuple[Response, int]:
    need(
        body.get("messaging_product") == "whatsapp", "The parameter messaging_product is required."
    )
    message_id = validate_read(body)
    typing = "typing_indicator" in body
    g.kind = "typing" if typing else "read"
    state = _state()
    state.mark_customer_read(message_id)
    entry = state.chat_entry(message_id)
    if entry is not None:
        g.to = entry.wa_id
        if typing:
            state.set_typing(entry.wa_id, _cfg().typing_timeout)
    return jsonify({"success": True}), 200


def _check_sender(phone_number_id: str) -> None:
    if phone_number_id != _cfg().phone_number_id:
        raise GraphError(
            100,
            f"Unsupported post request. Object with ID '{phone_number_id}' does not exist, "
            "cannot be loaded due to missing permissions, or does not support this operation.",
        )


@bp.post("/<graph_version:version>/<phone_number_id>/media")
def upload_media(version: str, phone_number_id: str) -> tuple[Response, int]:
    g.kind = "media_upload"
    _check_sender(phone_number_id)
    upload = request.files.get("file")
    g.body = {
        **request.form.to_dict(),
        "file": None if upload is None else {"filename": upload.filename, "type": upload.mimetype},
    }
    need(request.form.get("messaging_product") == "whatsapp", "messaging_product is required.")
    need(upload is not None, "The parameter file is required.", 131008)
    assert upload is not None
    data = upload.read()
    mime = (request.form.get("type") or upload.mimetype or "").split(";")[0].strip()
    _check_media(mime, len(data))
    media = _state().add_media(data, mime, upload.filename, "business")
    g.body["file"]["bytes"] = len(data)
    return jsonify({"id": media.id}), 200


def _check_media(mime: str, size: int) -> None:
    limit = next((v for k, v in MEDIA_LIMITS.items() if mime.startswith(k)), None)
    need(limit is not None, f"Param file must be a file with a supported type, got '{mime}'.")
    assert limit is not None
    need(0 < size <= limit, f"Param file must be between 1 and {limit} bytes.", 131053)


@bp.get("/<graph_version:version>/<media_id>")
def media_metadata(version: str, media_id: str) -> tuple[Response, int]:
    g.kind = "media_get"
    media = _find_media(media_id, "get")
    return jsonify(metadata(media, request.host_url)), 200


@bp.delete("/<graph_version:version>/<media_id>")
def delete_media(version: str, media_id: str) -> tuple[Response, int]:
    g.kind = "media_delete"
    _find_media(media_id, "delete")
    _state().delete_media(media_id)
    return jsonify({"success": True}), 200


@bp.get(DOWNLOAD_PATH)
def download_media() -> Response:
    g.kind = "media_download"
    media_id = request.args.get("mid", "")
    expires = request.args.get("ext", "0")
    valid = hmac.compare_digest(request.args.get("hash", ""), _url_hash(media_id, expires))
    media = _state().get_media(media_id)
    if not valid or media is None or not expires.isdigit() or int(expires) < time.time():
        return Response("Not Found", status=404, mimetype="text/plain")
    return Response(media.data, status=200, mimetype=media.mime_type)


def _find_media(media_id: str, verb: str) -> Media:
    media = _state().get_media(media_id)
    if media is None:
        raise GraphError(
            100,
            f"Unsupported {verb} request. Object with ID '{media_id}' does not exist, "
            "cannot be loaded due to missing permissions, or does not support this operation.",
        )
    return media


def _url_hash(media_id: str, expires: str) -> str:
    key = _cfg().app_secret.encode()
    return hmac.new(key, f"{media_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:24]


def metadata(media: Media, host_url: str) -> Json:
    expires = str(int(time.time()) + URL_TTL)
    url = (
        f"{host_url.rstrip('/')}{DOWNLOAD_PATH}?mid={media.id}&ext={expires}"
        f"&hash={_url_hash(media.id, expires)}"
    )
    return {
        "messaging_product": "whatsapp",
        "url": url,
        "mime_type": media.mime_type,
        "sha256": media.sha256,
        "file_size": media.file_size,
        "id": media.id,
    }


__all__ = ["MEDIA_TYPES", "bp", "metadata", "register"]
