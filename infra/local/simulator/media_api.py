"""Media download side of the simulator: Twilio's `MediaUrl` and its CDN, and fault injection for
media downloads of both fake APIs (tests of the media service's fetching).

Twilio: `POST /_sim/twilio/media` (multipart `file`) stores a customer's file and answers the
`MediaUrl`/`MediaContentType` a webhook would carry. `GET <MediaUrl>` needs HTTP Basic auth and
answers 307 to the CDN (`/_sim/twilio-cdn/<id>`, signed; on `cdn_url` when set through
`POST /_sim/media/config`, e.g. a second server of this app on another port, so the redirect
crosses hosts as Twilio's does). The CDN records whether a request carried credentials:
`GET /_sim/media/cdn-requests`.

Faults (`POST /_sim/media/faults`, each used `times` times): on `meta_download` or `twilio`
answer `status`, or redirect to `location`; on `meta_metadata` hand out an already expired URL.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from pydantic import BaseModel, Field, ValidationError

from . import graph
from .store import State
from .twilio_api import TwilioState

Json = dict[str, Any]
TWILIO_MEDIA = "/2010-04-01/Accounts/<account_sid>/Messages/<message_sid>/Media/<media_id>"
CDN_PATH = "/_sim/twilio-cdn/"

bp = Blueprint("media_api", __name__)


class MediaFault(BaseModel):
    target: Literal["meta_download", "meta_metadata", "twilio"]
    action: Literal["status", "redirect", "expired_url"] = "status"
    status: int = Field(default=401, ge=300, le=599)
    location: str | None = None
    times: int = Field(default=1, ge=1)


class MediaSimState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.faults: list[MediaFault] = []
        self.cdn_requests: list[Json] = []
        self.cdn_url: str | None = None
        self.key = secrets.token_bytes(16)

    def take(self, target: str) -> MediaFault | None:
        with self.lock:
            for fault in self.faults:
                if fault.target == target and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    def reset(self) -> None:
        with self.lock:
            self.faults.clear()
            self.cdn_requests.clear()
            self.cdn_url = None


def register(app: Flask) -> None:
    app.extensions["sim_media"] = MediaSimState()
    app.before_request(_meta_download_fault)
    app.after_request(_meta_metadata_fault)
    app.register_blueprint(bp)


def _state() -> MediaSimState:
    state: MediaSimState = current_app.extensions["sim_media"]
    return state


def _store() -> State:
    store: State = current_app.extensions["sim_state"]
    return store


def _fault_answer(fault: MediaFault) -> Response:
    if fault.action == "redirect" and fault.location:
        return Response("", status=302, headers={"Location": fault.location})
    return Response("fault injected", status=fault.status, mimetype="text/plain")


def _meta_download_fault() -> Response | None:
    if request.path != graph.DOWNLOAD_PATH:
        return None
    fault = _state().take("meta_download")
    return None if fault is None else _fault_answer(fault)


def _meta_metadata_fault(response: Response) -> Response:
    """The media URL in a `GET /{version}/{media-id}` answer, expired 10 minutes ago."""
    if request.method != "GET" or response.status_code != 200 or not response.is_json:
        return response
    body = response.get_json(silent=True)
    if not isinstance(body, dict) or "url" not in body or "mime_type" not in body:
        return response
    if _state().take("meta_metadata") is None:
        return response
    parts = urlsplit(str(body["url"]))
    query = dict(parse_qsl(parts.query))
    expired = str(int(time.time()) - 600)
    query.update(ext=expired, hash=graph._url_hash(query.get("mid", ""), expired))
    body["url"] = urlunsplit(parts._replace(query=urlencode(query)))
    response.set_data(current_app.json.dumps(body))
    return response


def _twilio() -> TwilioState:
    state: TwilioState = current_app.extensions["sim_twilio"]
    return state


def _sign(media_id: str) -> str:
    return hmac.new(_state().key, media_id.encode(), hashlib.sha256).hexdigest()[:32]


@bp.post("/_sim/twilio/media")
def add_twilio_media() -> tuple[Response, int]:
    upload = request.files.get("file")
    if upload is None:
        return jsonify(error="multipart field 'file' is required"), 400
    mime = (request.form.get("type") or upload.mimetype or "application/octet-stream").strip()
    media = _store().add_media(upload.read(), mime, upload.filename, "customer")
    sid = _twilio().config.account_sid
    message_sid = "MM" + secrets.token_hex(16)
    url = (
        f"{request.host_url.rstrip('/')}/2010-04-01/Accounts/{sid}/Messages/{message_sid}"
        f"/Media/ME{media.id}"
    )
    return jsonify(MediaUrl=url, MediaContentType=mime, MessageSid=message_sid), 201


@bp.get(TWILIO_MEDIA)
def twilio_media(account_sid: str, message_sid: str, media_id: str) -> Response:
    config = _twilio().config
    auth = request.authorization
    if auth is None or (auth.username, auth.password) != (config.account_sid, config.auth_token):
        return Response('{"code": 20003, "message": "Authenticate"}', 401, mimetype="text/json")
    fault = _state().take("twilio")
    if fault is not None:
        return _fault_answer(fault)
    media = _store().get_media(media_id.removeprefix("ME"))
    if account_sid != config.account_sid or media is None:
        return Response('{"code": 20404, "message": "Not found"}', 404, mimetype="text/json")
    base = _state().cdn_url or request.host_url
    location = f"{base.rstrip('/')}{CDN_PATH}{media.id}?sig={_sign(media.id)}"
    return Response("", status=307, headers={"Location": location})


@bp.get(f"{CDN_PATH}<media_id>")
def twilio_cdn(media_id: str) -> Response:
    state = _state()
    with state.lock:
        state.cdn_requests.append(
            {
                "media_id": media_id,
                "host": request.host,
                "authorization": request.headers.get("Authorization"),
            }
        )
    media = _store().get_media(media_id)
    valid = hmac.compare_digest(request.args.get("sig", ""), _sign(media_id))
    if media is None or not valid:
        return Response("Not Found", status=404, mimetype="text/plain")
    return Response(media.data, status=200, mimetype=media.mime_type)


@bp.get("/_sim/media/cdn-requests")
def cdn_requests() -> Response:
    state = _state()
    with state.lock:
        found = list(state.cdn_requests)
    return jsonify(requests=found, count=len(found))


@bp.post("/_sim/media/faults")
def add_fault() -> tuple[Response, int]:
    try:
        fault = MediaFault.model_validate(request.get_json(silent=True) or {})
    except ValidationError as exc:
        return jsonify(error="invalid fault", details=exc.errors(include_url=False)), 400
    with _state().lock:
        _state().faults.append(fault)
    return jsonify(fault.model_dump()), 201


@bp.post("/_sim/media/config")
def set_config() -> Response:
    body = request.get_json(silent=True) or {}
    cdn_url = body.get("cdn_url")
    with _state().lock:
        _state().cdn_url = str(cdn_url) if cdn_url else None
    return jsonify(cdn_url=_state().cdn_url)


@bp.post("/_sim/media/reset")
def reset() -> Response:
    _state().reset()
    return jsonify(ok=True)
