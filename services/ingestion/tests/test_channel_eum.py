"""AWS End User Messaging Social: SNS notifications -> the same events as Meta's webhook; sends and
media requests checked against the socialmessaging service model with botocore's Stubber."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from chalice import Chalice
from chalice.app import SNSEvent
from chalice.test import Client

from chalicelib.channels import eum
from chalicelib.inbound.normalize import normalize_change_value
from parley.batch import process_sns_event
from parley.errors import InvalidInput, StorageError, WhatsAppApiError
from parley.settings import BusinessNumber
from parley.whatsapp.meta_errors import MetaErrorAction, action_of

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "meta"
REGION, ACCOUNT = "us-east-1", "123456789012"
AWS_PHONE_ID = "phone-number-id-976c72a700aac43eaf573ae050example"
META_PHONE_ID = "100000000000001"
NUMBER = BusinessNumber(channel="eum", eum_phone_number_id=AWS_PHONE_ID)
TEXT_ENTRY = json.loads((FIXTURES / "text.json").read_text())["entry"][0]


def notification(entry: dict[str, Any], *, with_message_id: bool = True) -> dict[str, Any]:
    """The SNS message body EUM publishes (reference §4; AWS docs example and a 2025 capture)."""
    body: dict[str, Any] = {
        "context": {
            "MetaWabaIds": [
                {
                    "wabaId": entry.get("id", "102290129340398"),
                    "arn": f"arn:aws:social-messaging:{REGION}:{ACCOUNT}:waba/a1b2c3d4e5f6",
                }
            ],
            "MetaPhoneNumberIds": [
                {
                    "metaPhoneNumberId": META_PHONE_ID,
                    "arn": f"arn:aws:social-messaging:{REGION}:{ACCOUNT}:phone-number-id/"
                    + AWS_PHONE_ID.removeprefix("phone-number-id-"),
                }
            ],
        },
        "whatsAppWebhookEntry": json.dumps(entry),
        "aws_account_id": ACCOUNT,
        "message_timestamp": "2025-01-08T23:30:43.271279391Z",
    }
    if with_message_id:
        body["messageId"] = "6d69f07a-c317-4278-9d5c-6a84078419ec"
    return body


def lambda_sns_event(message: str) -> dict[str, Any]:
    """A Lambda invocation from an SNS standard topic (AWS's documented record shape)."""
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:parley-prod-eum-inbound"
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                    "TopicArn": topic,
                    "Subject": None,
                    "Message": message,
                    "Timestamp": "2025-01-08T23:30:43.512Z",
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0Q==",
                    "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
                    "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
                    "MessageAttributes": {},
                },
            }
        ]
    }


def comparable(events: list[Any]) -> list[dict[str, Any]]:
    """Events as dicts, without the one field that must differ (the channel)."""
    dumped = [e.model_dump(mode="json") for e in events]
    for event in dumped:
        event["payload"].pop("channel", None)
    return dumped


def meta_events(entry: dict[str, Any]) -> list[Any]:
    events: list[Any] = []
    for change in entry["changes"]:
        if change.get("field") == "messages":
            events += normalize_change_value(change["value"], "meta")
    return events


# --- inbound -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", sorted(p.stem for p in FIXTURES.glob("*.json")))
def test_every_meta_webhook_gives_the_same_events_through_eum(fixture: str) -> None:
    payload = json.loads((FIXTURES / f"{fixture}.json").read_text())
    for entry in payload["entry"]:  # EUM publishes one notification per entry
        message = json.dumps(notification(entry))

        through_eum = eum.eum_events(
            json.loads(lambda_sns_event(message)["Records"][0]["Sns"]["Message"])
        )

        expected = meta_events(entry)
        assert comparable(through_eum) == comparable(expected)
        assert {getattr(e.payload, "channel", "eum") for e in through_eum} <= {"eum"}


def test_lambda_sns_event_text_message() -> None:
    event = lambda_sns_event(json.dumps(notification(TEXT_ENTRY, with_message_id=False)))

    (message,) = eum.sns_messages(event)
    (received,) = eum.eum_events(message)

    assert received.type == "message.received"
    assert received.payload.channel == "eum"
    assert received.payload.business_phone_number_id == META_PHONE_ID
    assert received.conversation == f"{META_PHONE_ID}:{received.payload.wa_id}"


def test_sqs_body_with_the_sns_envelope_is_unwrapped() -> None:
    # SNS -> SQS without raw message delivery: three JSON layers (reference §4)
    envelope = {"Type": "Notification", "Message": json.dumps(notification(TEXT_ENTRY))}

    events = eum.eum_events(json.dumps(envelope))

    assert comparable(events) == comparable(meta_events(TEXT_ENTRY))


def test_phone_number_ids_map_to_eum_origination_ids() -> None:
    parsed = eum.parse_eum_notification(json.dumps(notification(TEXT_ENTRY)))

    assert parsed.origination_ids() == {META_PHONE_ID: AWS_PHONE_ID}
    assert parsed.aws_account_id == ACCOUNT


def test_other_fields_give_no_events() -> None:
    entry = {"id": "1", "changes": [{"field": "message_template_status_update", "value": {}}]}

    assert eum.eum_events(json.dumps(notification(entry))) == []


@pytest.mark.parametrize(
    "message",
    [
        "not json",
        json.dumps({"context": {}}),
        json.dumps({"whatsAppWebhookEntry": "{not json"}),
        json.dumps({"whatsAppWebhookEntry": json.dumps({"changes": "nope"})}),
        json.dumps([1, 2]),
    ],
)
def test_what_is_not_an_eum_notification_is_invalid_input(message: str) -> None:
    with pytest.raises(InvalidInput):
        eum.eum_events(message)


class FakeOutcome:
    def as_dict(self) -> dict[str, int]:
        return {"received": 1}


class FakeProcessor:
    def __init__(self) -> None:
        self.events: list[Any] = []

    def process(self, events: list[Any]) -> FakeOutcome:
        self.events += events
        return FakeOutcome()


class FakeLogger:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict[str, Any]]] = []

    def info(self, msg: str, extra: dict[str, Any] | None = None) -> None:
        self.lines.append(("info", msg, extra or {}))

    def warning(self, msg: str, extra: dict[str, Any] | None = None) -> None:
        self.lines.append(("warning", msg, extra or {}))


def test_sns_handler_as_wired_in_app_py() -> None:
    processor, logger = FakeProcessor(), FakeLogger()
    parked: list[tuple[str, str]] = []
    app = Chalice(app_name="eum-handler-test")

    def park(record: Any, error: BaseException) -> None:
        parked.append((record["Sns"]["Message"], getattr(error, "code", "")))

    @app.on_sns_message(topic="parley-local-eum-inbound")
    def receive_eum_inbound(event: SNSEvent) -> None:
        receive = eum.EumInbound(processor, logger).receive  # type: ignore[arg-type]
        process_sns_event(event.to_dict(), receive, service="ingestion", park=park)

    with Client(app) as client:
        sns_event = client.events.generate_sns_event(json.dumps(notification(TEXT_ENTRY)))
        client.lambda_.invoke("receive_eum_inbound", sns_event)
        client.lambda_.invoke("receive_eum_inbound", client.events.generate_sns_event("garbage"))

    assert comparable(processor.events) == comparable(meta_events(TEXT_ENTRY))
    assert [(level, msg) for level, msg, _ in logger.lines] == [
        ("info", "EUM notification processed"),
    ]
    assert parked == [("garbage", "invalid_input")]  # parked at once, not retried


def test_a_failing_processor_fails_the_invocation_for_lambda_to_retry() -> None:
    class Down(FakeProcessor):
        def process(self, events: list[Any]) -> FakeOutcome:
            raise StorageError("table unreachable")

    parked: list[Any] = []
    inbound = eum.EumInbound(Down(), FakeLogger())  # type: ignore[arg-type]
    event = lambda_sns_event(json.dumps(notification(TEXT_ENTRY)))

    with pytest.raises(StorageError):
        process_sns_event(
            event, inbound.receive, service="ingestion", park=lambda *a: parked.append(a)
        )

    assert parked == []


# --- outbound ----------------------------------------------------------------------------------


@pytest.fixture
def social() -> Any:
    return boto3.session.Session().client(
        "socialmessaging",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def text_body(text: str = "¿En qué puedo ayudarte?") -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "15551234567",
        "type": "text",
        "text": {"body": text, "preview_url": False},
    }


def test_send_passes_the_meta_body_unchanged(social: Any) -> None:
    body = text_body()
    with Stubber(social) as stub:
        stub.add_response(
            "send_whatsapp_message",
            {"messageId": "wamid.HBgLMTU1NTEyMzQ1NjcVAgARGBI"},
            expected_params={
                "originationPhoneNumberId": AWS_PHONE_ID,
                "message": json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
                "metaApiVersion": "v21.0",
            },
        )
        wamid = eum.EumWhatsAppChannel("v21.0", social).send(META_PHONE_ID, NUMBER, body)
        stub.assert_no_pending_responses()

    assert wamid == "wamid.HBgLMTU1NTEyMzQ1NjcVAgARGBI"


def test_send_accepts_a_configured_arn(social: Any) -> None:
    arn = f"arn:aws:social-messaging:{REGION}:{ACCOUNT}:phone-number-id/" + AWS_PHONE_ID[16:]
    with Stubber(social) as stub:
        stub.add_response(
            "send_whatsapp_message",
            {"messageId": "wamid.X"},
            {"originationPhoneNumberId": AWS_PHONE_ID, "message": ANY, "metaApiVersion": "v21.0"},
        )
        channel = eum.EumWhatsAppChannel("v21.0", social)
        channel.send(
            META_PHONE_ID, BusinessNumber(channel="eum", eum_phone_number_id=arn), text_body()
        )


def test_number_without_eum_id_is_permanent(social: Any) -> None:
    with pytest.raises(WhatsAppApiError) as raised:
        eum.EumWhatsAppChannel("v21.0", social).send(
            META_PHONE_ID, BusinessNumber(channel="eum"), text_body()
        )

    assert raised.value.retryable is False


@pytest.mark.parametrize(
    ("aws_code", "http_status", "message", "meta_code", "action"),
    [
        ("ThrottledRequestException", 429, "Rate exceeded", None, MetaErrorAction.RETRY),
        ("InternalServiceException", 500, "Internal error", None, MetaErrorAction.RETRY),
        ("InvalidParametersException", 400, "message is invalid", None, MetaErrorAction.PERMANENT),
        ("ValidationException", 400, "bad version", None, MetaErrorAction.PERMANENT),
        ("ResourceNotFoundException", 404, "no such phone", None, MetaErrorAction.PERMANENT),
        ("AccessDeniedByMetaException", 403, "denied", None, MetaErrorAction.PERMANENT),
        ("DependencyException", 502, "Meta unavailable", None, MetaErrorAction.RETRY),
        (
            "DependencyException",
            502,
            "(#131047) Re-engagement message",
            131047,
            MetaErrorAction.TEMPLATE,
        ),
        (
            "DependencyException",
            502,
            'Meta error: {"error":{"code":131026,"message":"Message undeliverable"}}',
            131026,
            MetaErrorAction.PERMANENT,
        ),
        ("DependencyException", 502, "Meta error code 130429", 130429, MetaErrorAction.RETRY),
    ],
)
def test_send_errors_are_classified(
    social: Any,
    aws_code: str,
    http_status: int,
    message: str,
    meta_code: int | None,
    action: MetaErrorAction,
) -> None:
    with Stubber(social) as stub:
        stub.add_client_error(
            "send_whatsapp_message",
            service_error_code=aws_code,
            service_message=message,
            http_status_code=http_status,
        )
        with pytest.raises(WhatsAppApiError) as raised:
            eum.EumWhatsAppChannel("v21.0", social).send(META_PHONE_ID, NUMBER, text_body())

    assert raised.value.meta_code == meta_code
    assert action_of(raised.value) is action
    assert raised.value.detail["aws_code"] == aws_code


def test_network_failure_is_retryable() -> None:
    from botocore.exceptions import EndpointConnectionError

    class Unreachable:
        def send_whatsapp_message(self, **_: Any) -> dict[str, Any]:
            raise EndpointConnectionError(
                endpoint_url="https://social-messaging.us-east-1.amazonaws.com"
            )

    with pytest.raises(WhatsAppApiError) as raised:
        eum.EumWhatsAppChannel("v21.0", Unreachable()).send(META_PHONE_ID, NUMBER, text_body())

    assert raised.value.retryable is True
