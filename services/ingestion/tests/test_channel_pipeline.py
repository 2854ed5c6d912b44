"""EUM and Twilio inbound go through the Meta webhook's pipeline (dedupe, window, publish), on the
service's real emulators (moto, redis) with its real wiring."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from inbound_support import CONTEXT_QUEUE, contact, load, of_type, personalise, take
from twilio.request_validator import RequestValidator

from chalicelib.channels import eum, twilio
from infra.local.provisioner import DEV_SECRETS_PATH
from infra.local.service_contract import Service
from parley.errors import Unauthorized

TWILIO_URL = "https://hooks.example.com/prod/webhooks/twilio"
TWILIO_TOKEN = json.loads(DEV_SECRETS_PATH.read_text())["twilio"]["auth_token"]
TWILIO_NUMBER_ID = "200000000000002"
ARN = "arn:aws:social-messaging:us-east-1:123456789012"
NUMBERS = {
    "100000000000001": {"channel": "meta"},
    TWILIO_NUMBER_ID: {"channel": "twilio", "twilio_from": "whatsapp:+14155238886"},
}


@pytest.fixture
def runtime(service: Service, queues: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from chalicelib.wiring import runtime as service_runtime

    monkeypatch.setenv("TWILIO_WEBHOOK_URL", TWILIO_URL)
    monkeypatch.setenv("BUSINESS_NUMBERS", json.dumps(NUMBERS))
    service_runtime.reset()
    yield service_runtime
    service_runtime.reset()


def eum_message(entry: dict[str, Any]) -> str:
    return json.dumps(
        {
            "context": {
                "MetaWabaIds": [
                    {
                        "wabaId": entry["id"],
                        "arn": f"{ARN}:waba/abc",
                    }
                ],
                "MetaPhoneNumberIds": [
                    {
                        "metaPhoneNumberId": "100000000000001",
                        "arn": f"{ARN}:phone-number-id/abc123",
                    }
                ],
            },
            "whatsAppWebhookEntry": json.dumps(entry),
            "aws_account_id": "123456789012",
            "message_timestamp": "2025-01-08T23:30:43.271279391Z",
        }
    )


def test_eum_message_is_published_once_and_opens_the_window(runtime: Any, customer: str) -> None:
    entry = personalise(load("text"), customer)["entry"][0]
    inbound = eum.EumInbound(runtime.inbound, runtime.logger)

    first = inbound.receive(eum_message(entry))
    again = inbound.receive(eum_message(entry))  # SNS delivers at least once

    assert (first["received"], again["duplicates"]) == (1, 1)
    published = of_type(take(CONTEXT_QUEUE), "message.received")
    assert [e["payload"]["channel"] for e in published] == ["eum"]
    assert published[0]["payload"]["wa_id"] == customer
    assert "last_inbound_at" in contact(customer)


def twilio_form(customer: str, sid: str) -> dict[str, str]:
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
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }


def test_signed_twilio_message_is_published_once(runtime: Any, customer: str) -> None:
    from chalicelib.channels.twilio import TwilioWebhook

    hook = TwilioWebhook.from_settings(runtime.settings, runtime.inbound, runtime.logger)
    form = twilio_form(customer, "SM" + customer.rjust(32, "0"))
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(TWILIO_URL, form)

    assert hook.receive(urlencode(form).encode(), signature) == twilio.TWIML_EMPTY
    hook.receive(urlencode(form).encode(), signature)  # Twilio retried

    published = of_type(take(CONTEXT_QUEUE), "message.received")
    assert len(published) == 1
    payload = published[0]["payload"]
    assert (payload["channel"], payload["business_phone_number_id"]) == ("twilio", TWILIO_NUMBER_ID)
    assert published[0]["conversation"] == f"{TWILIO_NUMBER_ID}:{customer}"


def test_tampered_twilio_message_has_no_effect(runtime: Any, customer: str) -> None:
    from chalicelib.channels.twilio import TwilioWebhook

    hook = TwilioWebhook.from_settings(runtime.settings, runtime.inbound, runtime.logger)
    form = twilio_form(customer, "SM" + customer.rjust(32, "1"))
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(TWILIO_URL, form)

    with pytest.raises(Unauthorized):
        hook.receive(urlencode({**form, "Body": "changed"}).encode(), signature)

    assert take(CONTEXT_QUEUE) == []
    assert contact(customer) == {}
