"""The Twilio route and the EUM SNS handler as app.py wires them: the same inbound processor as
the Meta webhook behind each (one `message.received`, deduplicated, the window recorded)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from chalice.test import Client
from inbound_support import (
    CONTEXT_QUEUE,
    PHONE_NUMBER_ID,
    contact,
    load,
    of_type,
    personalise,
    take,
)
from twilio.request_validator import RequestValidator

from chalicelib.inbound import normalize_change_value
from infra.local.provisioner import DEV_SECRETS_PATH
from infra.local.service_contract import Service

TWILIO_URL = "https://hooks.example.com/api/webhooks/twilio"
TWILIO_TOKEN = json.loads(DEV_SECRETS_PATH.read_text())["twilio"]["auth_token"]
TWILIO_NUMBER_ID = "200000000000002"
NUMBERS = {
    PHONE_NUMBER_ID: {"channel": "meta"},
    TWILIO_NUMBER_ID: {"channel": "twilio", "twilio_from": "whatsapp:+14155238886"},
}


@pytest.fixture
def channels(service: Service, queues: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from chalicelib.wiring import runtime

    monkeypatch.setenv("TWILIO_WEBHOOK_URL", TWILIO_URL)
    monkeypatch.setenv("BUSINESS_NUMBERS", json.dumps(NUMBERS))
    runtime.reset()
    yield
    runtime.reset()


def twilio_post(client: Client, form: dict[str, str], signature: str) -> Any:
    return client.http.post(
        "/webhooks/twilio",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        },
        body=urlencode(form).encode(),
    )


def twilio_form(customer: str) -> dict[str, str]:
    sid = "SM" + customer.rjust(32, "0")
    return {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": "AC00000000000000000000000000000000",
        "From": f"whatsapp:+{customer}",
        "To": "whatsapp:+14155238886",
        "WaId": customer,
        "ProfileName": "Alex Demo",
        "Body": "Hola",
        "NumMedia": "0",
        "MessageType": "text",
        "ApiVersion": "2010-04-01",
    }


def test_twilio_route_publishes_a_signed_message_once(
    client: Client, channels: None, customer: str
) -> None:
    form = twilio_form(customer)
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(TWILIO_URL, form)
    first = twilio_post(client, form, signature)
    assert first.status_code == 200
    assert first.headers["Content-Type"].startswith("text/xml")
    assert twilio_post(client, form, signature).status_code == 200  # Twilio retried
    [event] = of_type(take(CONTEXT_QUEUE), "message.received")
    assert event["conversation"] == f"{TWILIO_NUMBER_ID}:{customer}"
    assert (event["payload"]["channel"], event["payload"]["text"]) == ("twilio", "Hola")


def test_twilio_route_refuses_a_tampered_message(
    client: Client, channels: None, customer: str
) -> None:
    form = twilio_form(customer)
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(TWILIO_URL, form)
    response = twilio_post(client, {**form, "Body": "Hack"}, signature)
    assert response.status_code == 401
    assert take(CONTEXT_QUEUE) == []


def eum_notification(entry: dict[str, Any]) -> str:
    arn = "arn:aws:social-messaging:us-east-1:123456789012"
    return json.dumps(
        {
            "context": {
                "MetaWabaIds": [{"wabaId": entry["id"], "arn": f"{arn}:waba/abc"}],
                "MetaPhoneNumberIds": [
                    {"metaPhoneNumberId": PHONE_NUMBER_ID, "arn": f"{arn}:phone-number-id/abc"}
                ],
            },
            "whatsAppWebhookEntry": json.dumps(entry),
            "aws_account_id": "123456789012",
            "message_timestamp": "2025-01-08T23:30:43.271279391Z",
        }
    )


def test_eum_handler_gives_the_same_event_as_the_meta_webhook(
    client: Client, channels: None, meta: Any, customer: str
) -> None:
    payload = personalise(load("image"), customer)
    sns_event = client.events.generate_sns_event(eum_notification(payload["entry"][0]))
    client.lambda_.invoke("receive_eum_inbound", sns_event)
    client.lambda_.invoke("receive_eum_inbound", sns_event)  # SNS delivers at least once
    [eum] = of_type(take(CONTEXT_QUEUE), "message.received")
    assert eum["payload"]["channel"] == "eum"
    assert "last_inbound_at" in contact(customer)
    assert meta.post(payload).json_body["duplicates"] == 1  # the same message by the Meta route
    expected = {**eum["payload"], "channel": "meta"}
    [as_meta] = normalize_change_value(payload["entry"][0]["changes"][0]["value"], "meta")
    assert json.loads(as_meta.payload.model_dump_json()) == expected
