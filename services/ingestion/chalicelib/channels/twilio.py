"""Twilio WhatsApp, both ways (reference §5).

Inbound: `read_twilio_webhook` checks the size and the `X-Twilio-Signature` (with the `twilio`
package, over the public URL Twilio called: behind API Gateway the Host and stage path seen here
differ from it), then `parse_twilio_form` turns the form into the same payloads as a Meta webhook.
Outbound: `TwilioWhatsAppChannel` posts a Meta-shaped body to Twilio's Messages API and maps
Twilio's errors to `WhatsAppApiError` with the equivalent Meta code.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from chalicelib.channels.twilio_models import (
    MAX_BODY,
    META_CODE_OF_TWILIO,
    WHATSAPP_PREFIX,
    TwilioForm,
    Unsupported,
    digits,
    to_message_received,
    to_message_status,
    twilio_fields,
)
from chalicelib.inbound.normalize import PRODUCER, InboundEvent, event_id
from chalicelib.outbound.split import split_text
from parley.errors import (
    InvalidInput,
    InvalidSettings,
    PayloadTooLarge,
    Unauthorized,
    WhatsAppApiError,
)
from parley.events import MessageReceivedEvent, MessageStatusEvent, conversation_key
from parley.secrets import Credential, credential_label, require_credential
from parley.settings import BusinessNumber
from parley.whatsapp.ids import url_path
from parley.whatsapp.meta_errors import api_error

if TYPE_CHECKING:
    import requests

    from chalicelib.inbound.processor import InboundProcessor
    from parley.settings import IngestionSettings

TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
TWIML_HEADERS: dict[str, str | list[str]] = {"Content-Type": "text/xml"}
SIGNATURE_HEADER = "x-twilio-signature"
RETRYABLE_TWILIO_CODES = {63018, 20429}  # rate limits
TIMEOUT = (2.0, 10.0)  # connect, read (seconds)
MAX_REMEMBERED_TEXTS = 256
ACCOUNT_SID = credential_label("Twilio", "account_sid")
AUTH_TOKEN = credential_label("Twilio", "auth_token")


class FormParams(dict[str, list[str]]):
    """Form fields with every value of a repeated name; `getlist` is what the twilio validator
    reads (it signs each value of a repeated name)."""

    def getlist(self, name: str) -> list[str]:
        return self[name]

    def last(self) -> dict[str, str]:
        return {name: values[-1] for name, values in self.items()}


def decode_form(raw_body: bytes | str) -> FormParams:
    """Parse `application/x-www-form-urlencoded`, keeping blank values (Twilio signs `Body=`)."""
    params = FormParams()
    try:
        text = raw_body.decode("utf-8") if isinstance(raw_body, bytes) else raw_body
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
    except ValueError as error:  # UnicodeDecodeError too
        raise InvalidInput("the body is not a form") from error
    for name, value in pairs:
        params.setdefault(name, []).append(value)
    return params


def verify_twilio_signature(
    public_url: str, params: Mapping[str, list[str]], signature: str | None, auth_token: str
) -> None:
    """Raise Unauthorized unless `signature` is Twilio's for this URL and these fields; refuse
    everything (SecretNotSet, 503) while the Auth Token is not really set."""
    from twilio.request_validator import RequestValidator

    auth_token = require_credential(auth_token, AUTH_TOKEN)
    if not signature:
        raise Unauthorized("missing X-Twilio-Signature")
    form = params if isinstance(params, FormParams) else FormParams(params)
    if not RequestValidator(auth_token).validate(public_url, form, signature):
        raise Unauthorized("X-Twilio-Signature does not match")


def parse_twilio_form(
    fields: Mapping[str, str],
    numbers: Mapping[str, BusinessNumber],
    received_at: datetime | None = None,
) -> list[InboundEvent]:
    """Twilio's fields as the same events a Meta webhook gives (`message.received`, or
    `message.status` for a status callback; none for statuses Parley does not track). The business
    number is the configured one whose `twilio_from` is the business side's address."""
    try:
        form = TwilioForm.from_fields(fields)
        return _twilio_events(form, numbers, received_at or datetime.now(UTC))
    except ValueError as error:  # pydantic's ValidationError too: fields that form no event
        raise InvalidInput(f"not a Twilio webhook: {error}") from error


def _twilio_events(
    form: TwilioForm, numbers: Mapping[str, BusinessNumber], at: datetime
) -> list[InboundEvent]:
    if form.is_status_callback:
        status = to_message_status(form, at)
        if status is None:
            return []
        business = business_number_id(form.from_, numbers)
        return [
            MessageStatusEvent(
                event_id=event_id("message.status", status.message_id, status.status),
                conversation=conversation_key(business, status.recipient),
                occurred_at=at,
                producer=PRODUCER,
                payload=status,
            )
        ]
    message = to_message_received(form, business_number_id(form.to, numbers), at)
    return [
        MessageReceivedEvent(
            event_id=event_id("message.received", message.message_id),
            conversation=conversation_key(message.business_phone_number_id, message.wa_id),
            occurred_at=at,
            producer=PRODUCER,
            payload=message,
        )
    ]


def business_number_id(to: str, numbers: Mapping[str, BusinessNumber]) -> str:
    wanted = digits(to)
    for key, number in numbers.items():
        if number.twilio_from and digits(number.twilio_from) == wanted:
            return key
    return wanted


@dataclass(frozen=True)
class TwilioWebhookConfig:
    """What the webhook route needs: the URL Twilio signs, the Auth Token, limits, numbers."""

    public_url: str | None
    auth_token: str
    max_bytes: int
    numbers: Mapping[str, BusinessNumber]

    @classmethod
    def from_settings(cls, settings: IngestionSettings) -> TwilioWebhookConfig:
        """The Auth Token comes from the Twilio secret (cached per container by parley.secrets)."""
        auth_token = Credential(settings.twilio_secret_id, "auth_token", AUTH_TOKEN).value()
        return cls(
            public_url=settings.twilio_webhook_url,
            auth_token=auth_token,
            max_bytes=settings.webhook_max_bytes,
            numbers=settings.business_numbers,
        )


def read_twilio_webhook(
    raw_body: bytes | str, signature: str | None, config: TwilioWebhookConfig
) -> list[InboundEvent]:
    """Size check, signature check, then parse: nothing is parsed before the signature passes."""
    if len(raw_body) > config.max_bytes:
        raise PayloadTooLarge(f"body over {config.max_bytes} bytes")
    if not config.public_url:
        raise InvalidSettings("TWILIO_WEBHOOK_URL is not set: cannot check Twilio signatures")
    params = decode_form(raw_body)
    verify_twilio_signature(config.public_url, params, signature, config.auth_token)
    return parse_twilio_form(params.last(), config.numbers)


class TwilioWebhook:
    """What the `/webhooks/twilio` route runs: check, parse, then the same processor as the Meta
    webhook. Answers the empty TwiML document (Twilio then sends nothing back by itself)."""

    def __init__(
        self,
        processor: InboundProcessor,
        config: Callable[[], TwilioWebhookConfig],
        logger: Any,
    ) -> None:
        self._processor = processor
        self._config = config
        self._logger = logger

    @classmethod
    def from_settings(
        cls, settings: IngestionSettings, processor: InboundProcessor, logger: Any
    ) -> TwilioWebhook:
        return cls(processor, lambda: TwilioWebhookConfig.from_settings(settings), logger)

    def receive(self, raw: bytes | str | None, signature: str | None) -> str:
        events = read_twilio_webhook(raw or b"", signature, self._config())
        outcome = self._processor.process(events).as_dict()
        self._logger.info("Twilio webhook processed", extra={"events": len(events), **outcome})
        return TWIML_EMPTY


# --- outbound ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TwilioCredentials:
    account_sid: str
    auth_token: str


def credentials_from_secret(secret_id: str) -> Callable[[], TwilioCredentials]:
    """Reads the secret (`account_sid`, `auth_token`) on use; parley.secrets caches it."""

    def load() -> TwilioCredentials:
        from parley.secrets import secret_json

        value = secret_json(secret_id)
        return TwilioCredentials(
            require_credential(value.get("account_sid"), ACCOUNT_SID),
            require_credential(value.get("auth_token"), AUTH_TOKEN),
        )

    return load


class TwilioWhatsAppChannel:
    """Sends Meta-shaped bodies through Twilio's Messages API (`WhatsAppChannel`)."""

    def __init__(
        self,
        api_url: str,
        credentials: Callable[[], TwilioCredentials],
        status_callback_url: str | None = None,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = TIMEOUT,
    ) -> None:
        self._api_url = api_url.rstrip("/")
        self._credentials = credentials
        self._status_callback_url = status_callback_url
        self._session = session
        self._timeout = timeout
        self._lock = threading.Lock()
        self._sent_parts: dict[str, list[str]] = {}  # long texts interrupted by an error

    @classmethod
    def from_settings(cls, settings: IngestionSettings) -> TwilioWhatsAppChannel:
        return cls(
            settings.twilio_api_url,
            credentials_from_secret(settings.twilio_secret_id),
            status_callback_url=settings.twilio_webhook_url,
        )

    def send(self, phone_number_id: str, number: BusinessNumber, body: dict[str, Any]) -> str:
        """Returns Twilio's message SID (`SM…`), which status callbacks carry as MessageSid."""
        if "status" in body:
            return ""  # read receipts and typing: Twilio's Messages API has no equivalent
        if not number.twilio_from:
            raise WhatsAppApiError(
                f"business number {phone_number_id} has no twilio_from", retryable=False
            )
        creds = self._credentials()
        path = url_path("2010-04-01", "Accounts", creds.account_sid, "Messages.json")
        url = f"{self._api_url}/{path}"
        parts = [self._form(number.twilio_from, body, f) for f in self._messages(body)]
        if len(parts) == 1:
            return str(self._post(url, parts[0], creds)["sid"])
        return self._send_parts(url, parts, creds)

    def _send_parts(
        self, url: str, parts: list[list[tuple[str, str]]], creds: TwilioCredentials
    ) -> str:
        """A text over Twilio's limit goes as several messages, in order. Parts already sent are
        remembered until the whole text is, so the sender's retry after a failed part does not
        send the earlier parts twice. Returns the last part's SID (it arrives last)."""
        key = hashlib.sha256(repr(parts).encode()).hexdigest()
        with self._lock:
            sent = self._sent_parts.pop(key, [])
        try:
            for form in parts[len(sent) :]:
                sent.append(str(self._post(url, form, creds)["sid"]))
        except WhatsAppApiError:
            with self._lock:
                self._sent_parts[key] = sent
                while len(self._sent_parts) > MAX_REMEMBERED_TEXTS:
                    self._sent_parts.pop(next(iter(self._sent_parts)))
            raise
        return sent[-1]

    @staticmethod
    def _messages(body: Mapping[str, Any]) -> list[dict[str, str | list[str]]]:
        try:
            fields = twilio_fields(body)
        except Unsupported as error:
            raise WhatsAppApiError(str(error), meta_code=131051, retryable=False) from error
        text = fields.get("Body")
        if not isinstance(text, str) or len(text) <= MAX_BODY or "MediaUrl" in fields:
            return [fields]
        return [{**fields, "Body": part} for part in split_text(text, MAX_BODY)]

    def _form(
        self, sender: str, body: Mapping[str, Any], fields: Mapping[str, str | list[str]]
    ) -> list[tuple[str, str]]:
        to = WHATSAPP_PREFIX + "+" + digits(str(body.get("to", "")))
        form = [("From", sender), ("To", to)]
        if self._status_callback_url:
            form.append(("StatusCallback", self._status_callback_url))
        for name, value in fields.items():
            values = value if isinstance(value, list) else [value]
            form += [(name, v) for v in values]
        return form

    def _post(
        self, url: str, form: list[tuple[str, str]], creds: TwilioCredentials
    ) -> dict[str, Any]:
        import requests

        try:
            response = self._http().post(
                url, data=form, auth=(creds.account_sid, creds.auth_token), timeout=self._timeout
            )
        except requests.RequestException as error:
            reason = f"Twilio unreachable: {type(error).__name__}"
            raise api_error(None, http_status=None, message=reason) from error
        try:
            answer: Any = response.json()
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        if response.status_code >= 300 or "sid" not in answer:
            raise twilio_error(response.status_code, answer)
        return answer

    def _http(self) -> requests.Session:
        import requests

        with self._lock:
            if self._session is None:
                self._session = requests.Session()
            return self._session


def twilio_error(http_status: int, answer: Mapping[str, Any]) -> WhatsAppApiError:
    """Twilio's error answer (`{"code", "message", "more_info", "status"}`) as WhatsAppApiError,
    classified by the equivalent Meta code when there is one (63016 -> 131047, 63018 -> 130429),
    else by HTTP status: 429 and 5xx are retried, other 4xx are not."""
    raw_code = answer.get("code")
    code = int(raw_code) if isinstance(raw_code, int | str) and str(raw_code).isdigit() else None
    meta_code = META_CODE_OF_TWILIO.get(code) if code is not None else None
    status = 429 if code in RETRYABLE_TWILIO_CODES else http_status
    message = str(answer.get("message") or f"Twilio answered HTTP {http_status}")
    return api_error(
        meta_code,
        http_status=status,
        message=f"Twilio error {code}: {message}",
        extra={"twilio_code": code, "more_info": answer.get("more_info")},
    )
