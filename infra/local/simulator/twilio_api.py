"""Fake Twilio Messages API for WhatsApp senders (reference §5).

`POST /2010-04-01/Accounts/<sid>/Messages.json` with HTTP Basic auth (Account SID + Auth Token)
answers Twilio's JSON shape (201 + the Message resource, or `{"code","message","more_info",
"status"}`), records every request, and posts signed status callbacks (`sent`, `delivered`, or
`failed` with an `ErrorCode`) to the message's `StatusCallback`. Controls under `/_sim/twilio/`:
recorded requests and callbacks, fault injection (sync error answer or async failed status), reset.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from typing import Any

import requests
from flask import Blueprint, Flask, Response, current_app, jsonify, request
from pydantic import BaseModel, Field, ValidationError

Json = dict[str, Any]
API = "/2010-04-01/Accounts/<account_sid>/Messages.json"
_SECRETS_FILE = Path(__file__).resolve().parent.parent / "dev_secrets.json"
MAX_BODY = 1600  # Twilio's limit on a message body (error 21617)

bp = Blueprint("twilio_api", __name__)


def _dev_twilio_secret(name: str) -> str:
    data: Json = json.loads(_SECRETS_FILE.read_text(encoding="utf-8"))
    return str(data["twilio"][name])


@dataclass
class TwilioSimConfig:
    account_sid: str = field(default_factory=lambda: _dev_twilio_secret("account_sid"))
    auth_token: str = field(default_factory=lambda: _dev_twilio_secret("auth_token"))
    sent_delay: float = 0.05
    delivered_delay: float = 0.15
    callback_timeout: float = 10.0


class TwilioFault(BaseModel):
    """Body of `POST /_sim/twilio/faults`: the next `times` sends to `to` (digits, or any) fail."""

    to: str | None = None
    code: int = 63016
    http_status: int = 400
    message: str = "Failed to send freeform message because you are outside the allowed window."
    times: int = Field(default=1, ge=1)
    after: int = Field(default=0, ge=0)  # let this many matching sends through first
    delivery: str = Field(default="sync", pattern="^(sync|async)$")


class TwilioState:
    def __init__(self, config: TwilioSimConfig) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.requests: list[Json] = []
        self.callbacks: list[Json] = []
        self.faults: list[TwilioFault] = []

    def take_fault(self, to_digits: str) -> TwilioFault | None:
        with self.lock:
            for fault in self.faults:
                if fault.to not in (None, to_digits) or fault.times <= 0:
                    continue
                if fault.after > 0:
                    fault.after -= 1
                    continue
                fault.times -= 1
                return fault
        return None

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.callbacks.clear()
            self.faults.clear()


def register(app: Flask, config: TwilioSimConfig | None = None) -> None:
    app.extensions["sim_twilio"] = TwilioState(config or TwilioSimConfig())
    app.register_blueprint(bp)


def _state() -> TwilioState:
    state: TwilioState = current_app.extensions["sim_twilio"]
    return state


def error_answer(code: int, message: str, status: int) -> tuple[Response, int]:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return jsonify(body), status


@bp.post(API)
def create_message(account_sid: str) -> tuple[Response, int]:
    state = _state()
    form = {name: request.form.getlist(name) for name in request.form}
    auth = request.authorization
    entry: Json = {"time": time.time(), "account_sid": account_sid, "form": form}
    entry["auth"] = None if auth is None else {"username": auth.username}
    answer, status = _create(state, account_sid, form)
    entry.update(status=status, response=answer.get_json())
    with state.lock:
        state.requests.append(entry)
    return answer, status


def _create(
    state: TwilioState, account_sid: str, form: dict[str, list[str]]
) -> tuple[Response, int]:
    auth = request.authorization
    cfg = state.config
    if auth is None or (auth.username, auth.password) != (cfg.account_sid, cfg.auth_token):
        return error_answer(20003, "Authenticate", 401)
    if account_sid != cfg.account_sid:
        return error_answer(20404, f"The requested resource {request.path} was not found", 404)
    refused = _validate({k: v[-1] for k, v in form.items()})
    if refused is not None:
        return refused
    fault = state.take_fault(_digits(form["To"][-1]))
    if fault is not None and fault.delivery == "sync":
        return error_answer(fault.code, fault.message, fault.http_status)
    message = _resource(account_sid, form)
    callback = form.get("StatusCallback", [None])[-1]
    if callback:
        _schedule_callbacks(state, message, callback, fault)
    return jsonify(message), 201


def _validate(fields: dict[str, str]) -> tuple[Response, int] | None:
    sender, to = fields.get("From", ""), fields.get("To", "")
    if not sender:
        return error_answer(21603, "A 'From' phone number is required.", 400)
    if not to:
        return error_answer(21604, "A 'To' phone number is required.", 400)
    if sender.startswith("whatsapp:") != to.startswith("whatsapp:"):
        return error_answer(21910, "Invalid From and To pair.", 400)
    if not (fields.get("Body") or fields.get("MediaUrl") or fields.get("ContentSid")):
        return error_answer(21602, "Message body is required.", 400)
    if len(fields.get("Body", "")) > MAX_BODY:
        return error_answer(21617, "The concatenated message body exceeds the limit.", 400)
    return None


def _digits(address: str) -> str:
    return "".join(ch for ch in address if ch.isdigit())


def _resource(account_sid: str, form: dict[str, list[str]]) -> Json:
    media = form.get("MediaUrl", [])
    sid = ("MM" if media else "SM") + secrets.token_hex(16)
    now = formatdate(usegmt=True)
    base = f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}"
    return {
        "account_sid": account_sid,
        "api_version": "2010-04-01",
        "body": form.get("Body", [""])[-1],
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": form["From"][-1],
        "messaging_service_sid": None,
        "num_media": str(len(media)),
        "num_segments": "1",
        "price": None,
        "price_unit": None,
        "sid": sid,
        "status": "queued",
        "subresource_uris": {"media": f"{base}/Media.json"},
        "to": form["To"][-1],
        "uri": f"{base}.json",
    }


def _schedule_callbacks(
    state: TwilioState, message: Json, url: str, fault: TwilioFault | None
) -> None:
    cfg = state.config
    steps: list[tuple[float, Json]] = [(cfg.sent_delay, {"MessageStatus": "sent"})]
    if fault is not None:  # async fault: the message fails after being accepted
        failed = {"MessageStatus": "failed", "ErrorCode": str(fault.code)}
        steps.append((cfg.delivered_delay, failed))
    else:
        steps.append((cfg.delivered_delay, {"MessageStatus": "delivered"}))

    def run() -> None:
        for delay, extra in steps:
            time.sleep(delay)
            fields = _callback_fields(message, extra)
            result = post_signed(url, fields, cfg.auth_token, cfg.callback_timeout)
            with state.lock:
                state.callbacks.append({"url": url, "fields": fields, **result})

    threading.Thread(target=run, name="twilio-callbacks", daemon=True).start()


def _callback_fields(message: Json, extra: Json) -> dict[str, str]:
    return {
        "AccountSid": message["account_sid"],
        "ApiVersion": "2010-04-01",
        "ChannelPrefix": "whatsapp",
        "ChannelToAddress": "+" + _digits(message["to"]),
        "From": message["from"],
        "MessageSid": message["sid"],
        "SmsSid": message["sid"],
        "SmsStatus": extra["MessageStatus"],
        "To": message["to"],
        **extra,
    }


def sign_form(url: str, fields: dict[str, str], auth_token: str) -> str:
    """The `X-Twilio-Signature` Twilio sends for this URL and form (the twilio package's own)."""
    from twilio.request_validator import RequestValidator

    signature: str = RequestValidator(auth_token).compute_signature(url, fields)
    return signature


def post_signed(url: str, fields: dict[str, str], auth_token: str, timeout: float = 10.0) -> Json:
    """POST a form as Twilio does (signed); returns {status, error}."""
    headers = {"X-Twilio-Signature": sign_form(url, fields, auth_token)}
    try:
        response = requests.post(url, data=fields, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        return {"status": None, "error": f"{type(exc).__name__}: {exc}"[:300]}
    error = None if response.status_code < 300 else f"HTTP {response.status_code}"
    return {"status": response.status_code, "error": error}


@bp.get("/_sim/twilio/requests")
def list_requests() -> Response:
    state = _state()
    with state.lock:
        found = list(state.requests)
    to = request.args.get("to")
    if to:
        found = [r for r in found if _digits(r["form"].get("To", [""])[-1]) == _digits(to)]
    return jsonify(requests=found, count=len(found))


@bp.get("/_sim/twilio/callbacks")
def list_callbacks() -> Response:
    state = _state()
    with state.lock:
        found = list(state.callbacks)
    return jsonify(callbacks=found, count=len(found))


@bp.post("/_sim/twilio/faults")
def add_fault() -> tuple[Response, int]:
    try:
        fault = TwilioFault.model_validate(request.get_json(silent=True) or {})
    except ValidationError as exc:
        return jsonify(error="invalid fault", details=exc.errors(include_url=False)), 400
    if fault.to is not None:
        fault.to = _digits(fault.to)
    with _state().lock:
        _state().faults.append(fault)
    return jsonify(fault.model_dump()), 201


@bp.post("/_sim/twilio/reset")
def reset() -> Response:
    _state().reset()
    return jsonify(ok=True)
