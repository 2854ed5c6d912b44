"""AWS End User Messaging Social (EUM), both ways (reference §4).

Inbound: AWS hosts Meta's webhook and publishes each Meta `entry` to the WABA's SNS topic as
`{"context": {...}, "whatsAppWebhookEntry": "<JSON string of ONE entry>", ...}`. `eum_events`
decodes it and hands every `changes[].value` to the same normaliser as the Meta webhook, so both
channels give the same events (channel "eum"). AWS has checked Meta's signature: none to verify.
Outbound: `EumWhatsAppChannel` sends the Meta body unchanged with `send_whatsapp_message` and maps
the API's exceptions to `WhatsAppApiError` (a Meta code found in the message decides retryability).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib.inbound.normalize import InboundEvent, normalize_change_value
from parley.errors import InvalidInput, WhatsAppApiError
from parley.settings import BusinessNumber
from parley.whatsapp.meta_errors import api_error

if TYPE_CHECKING:
    from chalicelib.inbound.processor import InboundProcessor
    from parley.settings import IngestionSettings

AWS_ID_PREFIX = "phone-number-id-"
MAX_MESSAGE_BYTES = 2_048_000  # send_whatsapp_message's limit on the encoded body
# Where a Meta error code may appear in an EUM exception message (format UNCONFIRMED, reference §4):
# Graph style "(#131047) …", a JSON error body `"code": 131047`, or "error code 131047".
_META_CODE = (
    re.compile(r"\(#(\d{1,6})\)"),
    re.compile(r'"code"\s*:\s*(\d{1,6})'),
    re.compile(r"\b(?:error\s*)?code\W{0,3}(\d{1,6})\b", re.IGNORECASE),
)


class _EumModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class MetaPhoneNumberId(_EumModel):
    meta_phone_number_id: str = Field(alias="metaPhoneNumberId")
    arn: str


class MetaWabaId(_EumModel):
    waba_id: str = Field(alias="wabaId")
    arn: str


class EumContext(_EumModel):
    meta_waba_ids: list[MetaWabaId] = Field(default_factory=list, alias="MetaWabaIds")
    meta_phone_number_ids: list[MetaPhoneNumberId] = Field(
        default_factory=list, alias="MetaPhoneNumberIds"
    )


class EumChange(_EumModel):
    field: str = ""
    value: dict[str, Any] = Field(default_factory=dict)


class EumEntry(_EumModel):
    """One Meta webhook `entry` (without Meta's `{"object", "entry": [...]}` wrapper)."""

    id: str | None = None
    changes: list[EumChange] = Field(default_factory=list)


class EumNotification(_EumModel):
    """The JSON that EUM publishes to SNS (the SNS notification's `Message`)."""

    context: EumContext = Field(default_factory=EumContext)
    whatsapp_webhook_entry: str = Field(alias="whatsAppWebhookEntry")
    aws_account_id: str | None = None
    message_timestamp: str | None = None
    message_id: str | None = Field(default=None, alias="messageId")  # absent in real captures

    def entry(self) -> EumEntry:
        try:
            return EumEntry.model_validate_json(self.whatsapp_webhook_entry)
        except ValidationError as error:
            raise InvalidInput(f"whatsAppWebhookEntry is not a Meta entry: {error}") from error

    def origination_ids(self) -> dict[str, str]:
        """Meta phone_number_id -> the EUM id that sends from it (`phone-number-id-…`)."""
        return {
            p.meta_phone_number_id: aws_phone_number_id(p.arn)
            for p in self.context.meta_phone_number_ids
        }


def aws_phone_number_id(arn_or_id: str) -> str:
    """`arn:…:phone-number-id/<id>` (or the id itself) -> `phone-number-id-<id>`."""
    last = arn_or_id.rsplit("/", 1)[-1]
    return last if last.startswith(AWS_ID_PREFIX) else AWS_ID_PREFIX + last


def parse_eum_notification(message: str | bytes | Mapping[str, Any]) -> EumNotification:
    """The EUM notification from an SNS `Message` (a string), or from a whole SNS envelope (an SQS
    body when raw message delivery is off: `{"Type": "Notification", "Message": "…"}`)."""
    try:
        data = json.loads(message) if isinstance(message, str | bytes) else dict(message)
    except ValueError as error:
        raise InvalidInput("the EUM notification is not JSON") from error
    if isinstance(data, dict) and data.get("Type") == "Notification" and "Message" in data:
        return parse_eum_notification(str(data["Message"]))
    try:
        return EumNotification.model_validate(data)
    except ValidationError as error:
        raise InvalidInput(f"not an EUM WhatsApp notification: {error}") from error


def eum_events(message: str | bytes | Mapping[str, Any]) -> list[InboundEvent]:
    """Every message and status of one EUM notification, as the Meta webhook would give them."""
    entry = parse_eum_notification(message).entry()
    events: list[InboundEvent] = []
    for change in entry.changes:
        if change.field == "messages":  # template/account/quality updates carry no messages
            events += normalize_change_value(change.value, "eum")
    return events


class EumInbound:
    """What the EUM SNS handler runs: decode, then the same processor as the Meta webhook (dedupe,
    window, opt-out, rate limit, publish). A notification that is not EUM's raises InvalidInput
    (retrying cannot fix it: the handler parks it in the DLQ with the reason); a processing failure
    raises a retryable error, so Lambda retries, then keeps it in its on-failure destination."""

    def __init__(self, processor: InboundProcessor, logger: Any) -> None:
        self._processor = processor
        self._logger = logger

    def receive(self, message: str | bytes | Mapping[str, Any]) -> dict[str, Any]:
        events = eum_events(message)
        outcome = self._processor.process(events).as_dict()
        self._logger.info("EUM notification processed", extra={"events": len(events), **outcome})
        return {"status": "processed", **outcome}


def sns_messages(lambda_event: Mapping[str, Any]) -> list[str]:
    """The `Message` of each record of a Lambda SNS event (`Records[].Sns.Message`)."""
    records = lambda_event.get("Records") or []
    return [str(r["Sns"]["Message"]) for r in records if isinstance(r, dict) and "Sns" in r]


# --- outbound ----------------------------------------------------------------------------------


class EumWhatsAppChannel:
    """Sends Meta-shaped bodies through EUM Social (`WhatsAppChannel`); the body goes unchanged."""

    def __init__(self, meta_api_version: str, client: Any = None) -> None:
        self._version = meta_api_version
        self._client = client

    @classmethod
    def from_settings(cls, settings: IngestionSettings) -> EumWhatsAppChannel:
        return cls(settings.whatsapp_api_version)

    @property
    def _social(self) -> Any:
        if self._client is None:
            from parley import aws

            self._client = aws.client("socialmessaging")
        return self._client

    def send(self, phone_number_id: str, number: BusinessNumber, body: dict[str, Any]) -> str:
        """Returns the wamid (read receipts and typing answer no message id: "")."""
        if not number.eum_phone_number_id:
            raise WhatsAppApiError(
                f"business number {phone_number_id} has no eum_phone_number_id", retryable=False
            )
        message = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        if len(message) > MAX_MESSAGE_BYTES:
            raise api_error(None, http_status=413, message="message over EUM's 2,048,000 bytes")
        try:
            answer = self._social.send_whatsapp_message(
                originationPhoneNumberId=aws_phone_number_id(number.eum_phone_number_id),
                message=message,
                metaApiVersion=self._version,
            )
        except Exception as error:
            raise eum_error(error) from error
        return str(answer.get("messageId") or "")


# AWS error code -> HTTP status used to classify it when no Meta code is found
_STATUS_OF_AWS_CODE = {
    "ThrottledRequestException": 429,
    "InternalServiceException": 500,
    "DependencyException": 502,
    "InvalidParametersException": 400,
    "ValidationException": 400,
    "ResourceNotFoundException": 404,
    "AccessDeniedException": 403,
    "AccessDeniedByMetaException": 403,
}


def eum_error(error: BaseException) -> WhatsAppApiError:
    """A socialmessaging failure as WhatsAppApiError: throttling and AWS/Meta-side failures are
    retried, bad parameters and missing access are not; a Meta code in a DependencyException's or
    InvalidParametersException's message is classified by Meta's table."""
    response = getattr(error, "response", None)
    if not isinstance(response, dict):  # connection failure, timeout (botocore errors)
        return api_error(None, http_status=None, message=f"EUM unreachable: {type(error).__name__}")
    aws_code = str(response.get("Error", {}).get("Code", ""))
    text = str(response.get("Error", {}).get("Message", ""))
    status = _STATUS_OF_AWS_CODE.get(aws_code) or int(
        response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 500
    )
    meta_code = None
    if aws_code in ("DependencyException", "InvalidParametersException"):
        meta_code = meta_code_in(text)
    mapped = api_error(
        meta_code, http_status=status, message=f"{aws_code}: {text}", extra={"aws_code": aws_code}
    )
    if aws_code == "InvalidParametersException":
        mapped.retryable = False  # the same parameters fail again, whatever Meta code is quoted
    return mapped


def meta_code_in(text: str) -> int | None:
    for pattern in _META_CODE:
        found = pattern.search(text)
        if found:
            return int(found.group(1))
    return None
