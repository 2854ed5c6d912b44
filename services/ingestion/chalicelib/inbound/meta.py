"""The Meta Cloud API webhook: GET verification handshake and POST notifications (reference §1).

POST order matters: size limit (413), then the signature over the raw bytes (401, before anything
is parsed or stored), then JSON (400). A valid notification that is not for WhatsApp, or has
nothing in it, is answered 200 and logged, or Meta would retry it for 7 days. Nothing slow
happens here: verify, parse, dedupe, publish.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pydantic import ValidationError

from chalicelib.inbound.normalize import InboundEvent, normalize_change_value
from chalicelib.inbound.processor import InboundProcessor
from parley.errors import Forbidden, InvalidInput, PayloadTooLarge, Unauthorized
from parley.secrets import credential_label, require_credential
from parley.whatsapp import webhook as wh

SIGNATURE_PREFIX = "sha256="
NOT_OURS = "not a business number of this deployment"
APP_SECRET = credential_label("WhatsApp", "app_secret")
VERIFY_TOKEN = credential_label("WhatsApp", "verify_token")


def verify_signature(raw: bytes, header: str | None, app_secret: object) -> None:
    """Raise Unauthorized unless `header` is HMAC-SHA256(app_secret, raw) as Meta sends it.

    Fails closed: with an app secret that is not really set (missing, empty, a placeholder, too
    short) every request is refused with SecretNotSet (503), whatever it is signed with."""
    secret = require_credential(app_secret, APP_SECRET)
    if not header:
        raise Unauthorized("missing X-Hub-Signature-256 header")
    if not header.startswith(SIGNATURE_PREFIX):
        raise Unauthorized("X-Hub-Signature-256 must start with sha256=")
    expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest().encode()
    given = header[len(SIGNATURE_PREFIX) :].strip().lower().encode("utf-8", "replace")
    if not hmac.compare_digest(given, expected):
        raise Unauthorized("X-Hub-Signature-256 does not match the body")


def parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw, parse_constant=_not_json)
    except (ValueError, UnicodeDecodeError) as error:  # JSONDecodeError is a ValueError
        raise InvalidInput(f"body is not JSON: {error}") from error


def _not_json(constant: str) -> Any:
    # Python accepts NaN/Infinity, JSON does not: an event carrying one could not be serialised
    raise ValueError(f"{constant} is not a JSON value")


class MetaWebhook:
    """The `/webhooks/meta` routes' logic; `secrets` returns the WhatsApp secret's JSON."""

    def __init__(
        self,
        processor: InboundProcessor,
        secrets: Callable[[], Mapping[str, Any]],
        *,
        max_bytes: int,
        logger: Any,
    ) -> None:
        self.processor = processor
        self._secrets = secrets
        self._max_bytes = max_bytes
        self._logger = logger

    def verify_subscription(self, params: Mapping[str, str] | None) -> str:
        """The `hub.challenge` to echo, or Forbidden."""
        params = params or {}
        expected = require_credential(self._secrets().get("verify_token"), VERIFY_TOKEN)
        token = params.get("hub.verify_token") or ""
        challenge = params.get("hub.challenge")
        if params.get("hub.mode") != "subscribe" or challenge is None:
            raise Forbidden("expected hub.mode=subscribe with a hub.challenge")
        if not hmac.compare_digest(token.encode(), expected.encode()):
            raise Forbidden("hub.verify_token does not match")
        return challenge

    def receive(self, raw: bytes | str | None, signature: str | None) -> dict[str, Any]:
        """Verify, parse, dedupe and publish one POST; the answer's JSON body."""
        body = raw.encode() if isinstance(raw, str) else raw or b""
        if len(body) > self._max_bytes:
            raise PayloadTooLarge(f"body of {len(body)} bytes is over {self._max_bytes}")
        verify_signature(body, signature, self._secrets().get("app_secret"))
        payload = parse_json(body)
        if not _is_whatsapp(payload):
            return self._ignored("not a whatsapp_business_account notification")
        values = list(self._message_values(payload.get("entry")))
        if not values:
            return self._ignored("no messages change in the notification")
        events: list[InboundEvent] = []
        for value in values:
            self._log_value_errors(value)
            events.extend(normalize_change_value(value, "meta"))
        outcome = self.processor.process(events)
        self._logger.info("webhook processed", extra={"events": len(events), **outcome.as_dict()})
        if events and outcome.ignored == len(events):
            return {"status": "ignored", "reason": NOT_OURS}
        return {"status": "processed", **outcome.as_dict()}

    def _message_values(self, entries: Any) -> Iterator[Mapping[str, Any]]:
        """Each `value` of a `messages` change; other fields and malformed entries are logged."""
        for raw in entries if isinstance(entries, list) else []:
            try:
                entry = wh.Entry.model_validate(raw)
            except ValidationError:
                self._logger.warning("malformed webhook entry ignored")
                continue
            for change in entry.changes:
                if change.field == "messages":
                    yield change.value
                else:
                    self._logger.info("webhook field ignored", extra={"field": change.field})

    def _log_value_errors(self, value: Mapping[str, Any]) -> None:
        errors = value.get("errors")
        if isinstance(errors, list) and errors:
            codes = [e.get("code") for e in errors if isinstance(e, dict)]
            self._logger.warning("webhook reported errors", extra={"codes": codes})

    def _ignored(self, reason: str) -> dict[str, Any]:
        self._logger.info("webhook ignored", extra={"reason": reason})
        return {"status": "ignored", "reason": reason}


def _is_whatsapp(payload: Any) -> bool:
    return isinstance(payload, dict) and payload.get("object") == wh.WHATSAPP_OBJECT
