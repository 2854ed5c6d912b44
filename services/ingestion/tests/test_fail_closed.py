"""Fail closed: a credential that is not really set refuses every request (503, nothing stored or
published); only configured business numbers are served; ids never escape their URL segment;
callers never see AWS internals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from chalice.test import Client
from inbound_support import (
    CONTEXT_QUEUE,
    MEDIA_QUEUE,
    OUTBOUND_QUEUE,
    PHONE_NUMBER_ID,
    WA_MESSAGES_TABLE,
    aws,
    contact,
    encode,
    headers,
    load,
    personalise,
    sign,
    take,
)
from twilio.request_validator import RequestValidator

from infra.local.provisioner import DEV_SECRETS_PATH
from infra.local.service_contract import Service
from parley.errors import InvalidInput, SecretNotSet
from parley.secrets import credential_problem

DEV_SECRETS = json.loads(DEV_SECRETS_PATH.read_text())
WHATSAPP_SECRET_ID = "parley/local/whatsapp"
TWILIO_SECRET_ID = "parley/local/twilio"
TWILIO_URL = "https://hooks.example.com/api/webhooks/twilio"
UNKNOWN_NUMBER_ID = "999999999999999"
ARN_OR_ACCOUNT = ("arn:aws", "123456789012", "parley/local", "parley-local", "botocore")


def nothing_published() -> bool:
    return (
        take(CONTEXT_QUEUE) == []
        and take(MEDIA_QUEUE, wait=0) == []
        and take(OUTBOUND_QUEUE, wait=0) == []
    )


def reveals_internals(body: bytes) -> list[str]:
    text = body.decode("utf-8", "replace")
    return [marker for marker in ARN_OR_ACCOUNT if marker in text]


class SecretValues:
    """Replaces a secret's values on the emulator for one test, then restores them."""

    def __init__(self) -> None:
        self._restore: dict[str, str] = {}

    def set(self, secret_id: str, **values: object) -> None:
        from chalicelib.wiring import runtime

        sm = aws("secretsmanager")
        current = sm.get_secret_value(SecretId=secret_id)["SecretString"]
        self._restore.setdefault(secret_id, current)
        updated = {**json.loads(current), **values}
        updated = {k: v for k, v in updated.items() if v is not None}
        sm.put_secret_value(SecretId=secret_id, SecretString=json.dumps(updated))
        runtime.reset()  # forget the cached copy, as a new container would

    def restore(self) -> None:
        from chalicelib.wiring import runtime

        sm = aws("secretsmanager")
        for secret_id, value in self._restore.items():
            sm.put_secret_value(SecretId=secret_id, SecretString=value)
        runtime.reset()


@pytest.fixture
def secrets(service: Service) -> Iterator[SecretValues]:
    values = SecretValues()
    yield values
    values.restore()


# --- credentials that are not really set -------------------------------------------------------

PLACEHOLDERS = ["REPLACE_ME", "", "   ", "changeme", "<your app secret>", "short", None]


@pytest.mark.parametrize("value", PLACEHOLDERS, ids=repr)
def test_credential_that_is_not_set_is_recognised(value: str | None) -> None:
    assert credential_problem(value) is not None


@pytest.mark.parametrize(
    "value", [DEV_SECRETS["whatsapp"]["app_secret"], "9f86d081884c7d659a2feaa0c55ad015"]
)
def test_real_looking_credential_is_accepted(value: str) -> None:
    assert credential_problem(value) is None


@pytest.mark.parametrize("app_secret", ["REPLACE_ME", "", None], ids=repr)
def test_webhook_signed_with_a_placeholder_secret_is_refused_503(
    meta: Any, secrets: SecretValues, customer: str, app_secret: str | None
) -> None:
    secrets.set(WHATSAPP_SECRET_ID, app_secret=app_secret)
    raw = encode(personalise(load("text"), customer))
    forged = headers(raw, **{"X-Hub-Signature-256": sign(raw, app_secret or "")})
    response = meta.post_raw(raw, forged)
    assert response.status_code == 503
    assert response.json_body["error"] == "configuration_error"
    assert "WhatsApp app_secret is not set" in response.json_body["message"]
    assert reveals_internals(response.body) == []
    assert nothing_published()
    assert contact(customer) == {}  # nothing stored


def test_unsigned_webhook_is_refused_503_too_while_the_secret_is_unset(
    meta: Any, secrets: SecretValues, customer: str
) -> None:
    secrets.set(WHATSAPP_SECRET_ID, app_secret="REPLACE_ME")
    raw = encode(personalise(load("text"), customer))
    response = meta.post_raw(raw, {"Content-Type": "application/json"})
    assert response.status_code == 503
    assert nothing_published()


def test_webhook_is_served_again_once_the_secret_is_set(
    meta: Any, secrets: SecretValues, customer: str
) -> None:
    secrets.set(WHATSAPP_SECRET_ID, app_secret="REPLACE_ME")
    raw = encode(personalise(load("text"), customer))
    assert meta.post_raw(raw, headers(raw)).status_code == 503
    secrets.restore()
    assert meta.post_raw(raw, headers(raw)).status_code == 200
    assert len(take(CONTEXT_QUEUE)) == 1  # Meta's retry of the refused delivery gets through


@pytest.mark.parametrize("verify_token", ["REPLACE_ME", "", None], ids=repr)
def test_verification_handshake_refused_503_with_a_placeholder_verify_token(
    client: Client, secrets: SecretValues, verify_token: str | None
) -> None:
    secrets.set(WHATSAPP_SECRET_ID, verify_token=verify_token)
    token = verify_token or ""
    query = f"hub.mode=subscribe&hub.verify_token={token}&hub.challenge=42"
    response = client.http.get(f"/webhooks/meta?{query}")
    assert response.status_code == 503
    assert "WhatsApp verify_token is not set" in response.json_body["message"]
    assert b"42" not in response.body


@pytest.fixture
def twilio_number(service: Service, queues: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from chalicelib.wiring import runtime

    number_id = "200000000000002"
    numbers = {
        PHONE_NUMBER_ID: {"channel": "meta"},
        number_id: {"channel": "twilio", "twilio_from": "whatsapp:+14155238886"},
    }
    monkeypatch.setenv("TWILIO_WEBHOOK_URL", TWILIO_URL)
    monkeypatch.setenv("BUSINESS_NUMBERS", json.dumps(numbers))
    runtime.reset()
    yield number_id
    runtime.reset()


def twilio_form(customer: str, to: str = "whatsapp:+14155238886") -> dict[str, str]:
    sid = "SM" + customer.rjust(32, "0")
    return {
        "MessageSid": sid,
        "AccountSid": "AC00000000000000000000000000000000",
        "From": f"whatsapp:+{customer}",
        "To": to,
        "WaId": customer,
        "Body": "Hola",
        "NumMedia": "0",
        "MessageType": "text",
    }


def twilio_post(client: Client, form: dict[str, str], token: str) -> Any:
    signature = RequestValidator(token).compute_signature(TWILIO_URL, form)
    return client.http.post(
        "/webhooks/twilio",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        },
        body=urlencode(form).encode(),
    )


@pytest.mark.parametrize("auth_token", ["REPLACE_ME", "", None], ids=repr)
def test_twilio_webhook_with_a_placeholder_auth_token_is_refused_503(
    client: Client, twilio_number: str, secrets: SecretValues, customer: str, auth_token: str | None
) -> None:
    secrets.set(TWILIO_SECRET_ID, auth_token=auth_token)
    response = twilio_post(client, twilio_form(customer), auth_token or "")
    assert response.status_code == 503
    assert "Twilio auth_token is not set" in response.json_body["message"]
    assert nothing_published()


def test_health_details_report_an_unset_credential(client: Client, secrets: SecretValues) -> None:
    secrets.set(WHATSAPP_SECRET_ID, app_secret="REPLACE_ME")
    response = client.http.get("/health/details", headers={"x-api-key": "local-parley-api-key"})
    assert response.status_code == 503
    [down] = [d for d in response.json_body["dependencies"] if not d["reachable"]]
    assert (down["kind"], down["name"]) == ("credential", "WhatsApp app_secret")
    assert "a placeholder" in down["error"]


# --- only our business numbers -----------------------------------------------------------------


def test_notification_for_an_unknown_business_number_is_ignored(
    meta: Any, customer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = personalise(load("text"), customer)
    payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = UNKNOWN_NUMBER_ID
    response = meta.post(payload)
    assert response.status_code == 200
    assert response.json_body["status"] == "ignored"
    assert nothing_published()  # no event, no typing indicator, no read receipt
    key = {"pk": {"S": f"contact#{UNKNOWN_NUMBER_ID}#{customer}"}, "sk": {"S": "profile"}}
    assert "Item" not in aws("dynamodb").get_item(TableName=WA_MESSAGES_TABLE, Key=key)


def test_twilio_message_to_a_number_that_is_not_ours_is_ignored(
    client: Client, twilio_number: str, customer: str
) -> None:
    token = DEV_SECRETS["twilio"]["auth_token"]
    response = twilio_post(client, twilio_form(customer, to="whatsapp:+15550009999"), token)
    assert response.status_code == 200
    assert nothing_published()


@pytest.mark.parametrize("bad", ["123/../456", "../456", "12 3", "abc", "", "1" * 21])
def test_phone_number_id_that_is_not_digits_never_reaches_a_url(bad: str) -> None:
    from parley.whatsapp import ids

    with pytest.raises(InvalidInput):
        ids.phone_number_id(bad)


def test_path_segments_are_escaped_and_dot_segments_refused() -> None:
    from parley.whatsapp import ids

    assert ids.url_path("123/../456", "messages") == "123%2F..%2F456/messages"
    assert ids.url_path("a?b#c%d") == "a%3Fb%23c%25d"
    for bad in ("..", ".", ""):
        with pytest.raises(InvalidInput):
            ids.url_path("v21.0", bad)


def test_graph_call_for_a_traversal_id_sends_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.channels.meta import MetaCloudChannel
    from parley.settings import BusinessNumber
    from parley.whatsapp.graph import GraphClient

    sent: list[str] = []

    class Recorder(requests.Session):
        def request(self, method: str | bytes, url: str | bytes, *a: Any, **k: Any) -> Any:
            sent.append(str(url))
            raise AssertionError("no request may be sent")

    graph = GraphClient("http://127.0.0.1:9", "v21.0", "token-" + "x" * 20, session=Recorder())
    with pytest.raises(InvalidInput):
        MetaCloudChannel(graph).send("123/../456", BusinessNumber(), {"to": "1"})
    assert sent == []


def test_sender_refuses_a_number_that_is_not_configured() -> None:
    from parley.settings import IngestionSettings

    settings = IngestionSettings.model_validate(
        {
            "PARLEY_STAGE": "local",
            "events_topic": "t",
            "idempotency_table": "t",
            "payloads_bucket": "b",
            "wa_messages_table": "t",
            "outbound_queue": "q",
            "media_queue": "q",
            "eum_inbound_topic": "t",
            "whatsapp_secret_id": "s",
            "twilio_secret_id": "s",
            "business_numbers": {PHONE_NUMBER_ID: {"channel": "meta"}},
        }
    )
    assert settings.number(PHONE_NUMBER_ID).channel == "meta"
    with pytest.raises(InvalidInput):
        settings.number(UNKNOWN_NUMBER_ID)


def test_business_numbers_must_be_digit_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    from parley.errors import ConfigurationError
    from parley.settings import IngestionSettings, load_settings

    monkeypatch.setenv("BUSINESS_NUMBERS", json.dumps({"123/../456": {"channel": "meta"}}))
    with pytest.raises(ConfigurationError, match="BUSINESS_NUMBERS"):
        load_settings(IngestionSettings)


# --- nothing internal to strangers -------------------------------------------------------------


def test_aws_failure_answers_no_aws_text_to_an_unauthenticated_caller(
    meta: Any, customer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.wiring import runtime

    runtime.reset()
    # The secret id points at nothing: Secrets Manager answers with its own message and ARN.
    monkeypatch.setenv("WHATSAPP_SECRET_ID", "arn:aws:secretsmanager:us-east-1:123456789012:x")
    raw = encode(personalise(load("text"), customer))
    response = meta.post_raw(raw, headers(raw))
    assert response.status_code >= 500
    assert reveals_internals(response.body) == []
    assert "ResourceNotFound" not in response.body.decode()
    assert nothing_published()
    runtime.reset()


def test_secret_not_set_is_a_public_503() -> None:
    error = SecretNotSet("WhatsApp app_secret is not set (a placeholder)")
    assert error.http_status == 503
    assert error.public_dict()["message"] == "WhatsApp app_secret is not set (a placeholder)"
