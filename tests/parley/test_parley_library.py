"""The shared library's own behaviour: redaction, events, settings errors, claim-checks."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import boto3
import pytest

from parley import aws
from parley.errors import (
    ConfigurationError,
    DependencyError,
    InvalidInput,
    WhatsAppApiError,
    is_retryable,
)
from parley.events import MessageReceivedEvent, parse_event
from parley.logs import redact_record
from parley.publishing import CLAIM_CHECK_KEY, ClaimCheckStore, QueueSender, resolve_body
from parley.redaction import redact_text
from parley.settings import MediaSettings, load_settings


@pytest.mark.parametrize(
    ("text", "placeholder", "secret"),
    [
        ("call me at +34 612 345 678 please", "[PHONE]", "612 345 678"),
        ("write to ana.lopez@example.com", "[EMAIL]", "ana.lopez@example.com"),
        ("card 4111 1111 1111 1111 exp 12/28", "[CARD]", "4111 1111 1111 1111"),
        ("my DNI is 12345678Z", "[ID_DOC]", "12345678Z"),
        ("ssn 123-45-6789", "[ID_DOC]", "123-45-6789"),
    ],
)
def test_pii_is_replaced_by_a_placeholder(text: str, placeholder: str, secret: str) -> None:
    redacted = redact_text(text)
    assert placeholder in redacted and secret not in redacted


def test_a_number_that_fails_luhn_is_not_called_a_card() -> None:
    assert "[CARD]" not in redact_text("order 4111 1111 1111 1112")


def test_log_records_keep_structure_but_lose_pii() -> None:
    record = redact_record(
        {
            "level": "INFO",
            "event_id": "e1",
            "message": "reply to bob@example.com",
            "text": "anything at all",
            "wa_id": "15551234567",
        }
    )
    assert record["level"] == "INFO" and record["event_id"] == "e1"
    assert record["message"] == "reply to [EMAIL]"
    assert record["text"] == "[REDACTED]" and record["wa_id"] == "[REDACTED]"


def _received(**overrides: object) -> MessageReceivedEvent:
    payload = {
        "channel": "meta",
        "business_phone_number_id": "1001",
        "wa_id": "15551234567",
        "message_id": "wamid.A",
        "kind": "text",
        "text": "hola",
        "sent_at": datetime.now(UTC).isoformat(),
    }
    payload.update(overrides)
    return MessageReceivedEvent.model_validate(
        {"conversation": "1001:15551234567", "producer": "test", "payload": payload}
    )


def test_an_event_survives_the_wire_with_its_type() -> None:
    event = _received()
    parsed = parse_event(event.model_dump_json())
    assert isinstance(parsed, MessageReceivedEvent) and parsed == event


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ('{"type": "nope"}', "does not match any of the expected tags"),
        ("{not json", "invalid event"),
        (
            '{"type": "message.received", "conversation": "no-colon", "producer": "x",'
            ' "payload": {}}',
            "conversation",
        ),
    ],
)
def test_invalid_events_raise_invalid_input_naming_the_problem(raw: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_event(raw)
    assert fragment in str(caught.value)
    assert not is_retryable(caught.value)


def test_retryability_is_a_property_of_the_error() -> None:
    assert is_retryable(DependencyError("timeout"))
    assert not is_retryable(WhatsAppApiError("re-engagement", meta_code=131047, retryable=False))
    assert is_retryable(RuntimeError("bug"))  # unknown: retried, then the DLQ


def test_missing_settings_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARLEY_STAGE", "local")
    for name in ("MEDIA_QUEUE", "MEDIA_BUCKET", "EVENTS_TOPIC"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigurationError) as caught:
        load_settings(MediaSettings)
    message = str(caught.value)
    assert "MEDIA_QUEUE (missing)" in message and "EVENTS_TOPIC (missing)" in message


def test_a_payload_over_200_kb_travels_as_an_s3_pointer(moto_endpoint: str) -> None:
    aws.reset_clients()
    bucket, queue = f"payloads-{uuid.uuid4().hex[:8]}", f"q-{uuid.uuid4().hex[:8]}.fifo"
    boto3.client("s3").create_bucket(Bucket=bucket)
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=queue, Attributes={"FifoQueue": "true"})["QueueUrl"]
    big = _received(text="x" * 250_000)
    QueueSender(queue, ClaimCheckStore(bucket, "test")).send(big)
    QueueSender(queue, ClaimCheckStore(bucket, "test")).send(_received(message_id="wamid.B"))
    bodies = [
        m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    ]
    assert CLAIM_CHECK_KEY in bodies[0] and len(bodies[0]) < 1000
    assert CLAIM_CHECK_KEY not in bodies[1]
    assert parse_event(resolve_body(bodies[0])) == big
    assert json.loads(resolve_body(bodies[1]))["payload"]["message_id"] == "wamid.B"


def test_edit_distance_counts_a_swap_of_neighbours_as_one_edit_and_stops_past_its_limit() -> None:
    from parley.edit_distance import edit_distance

    assert edit_distance("tution", "tuition", 2) == 1
    assert edit_distance("becsa", "beca", 2) == 1
    assert edit_distance("fro", "for", 1) == 1  # a swap
    assert edit_distance("deadline", "dead", 2) == 3  # limit + 1: certainly further
    assert edit_distance("visa", "visa", 0) == 0
