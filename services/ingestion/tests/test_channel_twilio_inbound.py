"""Twilio inbound: signatures made as Twilio makes them; Twilio forms -> the same Parley events."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from chalice import Chalice, Response
from chalice.test import Client
from twilio.request_validator import RequestValidator

from chalicelib.channels import twilio
from parley.errors import InvalidInput, PayloadTooLarge, Unauthorized
from parley.events import MessageReceivedEvent, MessageStatusEvent
from parley.http import answers_errors
from parley.settings import BusinessNumber

TOKEN = "test-twilio-auth-token"
PUBLIC_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/webhooks/twilio"
BUSINESS_ID = "100000000000001"
NUMBERS = {BUSINESS_ID: BusinessNumber(channel="twilio", twilio_from="whatsapp:+14155238886")}
NOW = datetime(2025, 1, 8, 23, 30, tzinfo=UTC)


def base_form(**fields: str) -> dict[str, str]:
    form = {
        "SmsMessageSid": "SM0123456789abcdef0123456789abcdef",
        "NumMedia": "0",
        "ProfileName": "Alex Demo",
        "MessageType": "text",
        "SmsSid": "SM0123456789abcdef0123456789abcdef",
        "WaId": "15551234567",
        "SmsStatus": "received",
        "Body": "Hola, tengo un problema",
        "To": "whatsapp:+14155238886",
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": "SM0123456789abcdef0123456789abcdef",
        "AccountSid": "AC00000000000000000000000000000000",
        "From": "whatsapp:+15551234567",
        "ApiVersion": "2010-04-01",
    }
    form.update(fields)
    return form


def signed(form: dict[str, str], url: str = PUBLIC_URL, token: str = TOKEN) -> str:
    return str(RequestValidator(token).compute_signature(url, form))


def config(public_url: str | None = PUBLIC_URL) -> twilio.TwilioWebhookConfig:
    return twilio.TwilioWebhookConfig(public_url, TOKEN, 1_048_576, NUMBERS)


def only_message(events: list[Any]) -> MessageReceivedEvent:
    assert len(events) == 1
    assert isinstance(events[0], MessageReceivedEvent)
    return events[0]


# --- signature ---------------------------------------------------------------------------------


def test_signed_as_twilio_signs_is_accepted() -> None:
    form = base_form()
    raw = urlencode(form).encode()

    events = twilio.read_twilio_webhook(raw, signed(form), config())

    event = only_message(events)
    assert event.payload.message_id == form["MessageSid"]
    assert event.conversation == f"{BUSINESS_ID}:15551234567"


def test_blank_values_are_part_of_the_signature() -> None:
    form = base_form(Body="", NumMedia="1", MediaUrl0="https://api.twilio.com/m/ME1")
    form["MediaContentType0"] = "image/jpeg"
    raw = urlencode(form).encode()

    events = twilio.read_twilio_webhook(raw, signed(form), config())

    assert only_message(events).payload.kind == "image"


@pytest.mark.parametrize(
    ("case", "tamper"),
    [
        ("changed parameter", lambda f, s: (urlencode({**f, "Body": "send me $$$"}), s)),
        ("added parameter", lambda f, s: (urlencode({**f, "ButtonPayload": "yes"}), s)),
        ("missing header", lambda f, s: (urlencode(f), None)),
        ("empty header", lambda f, s: (urlencode(f), "")),
        ("garbage header", lambda f, s: (urlencode(f), "bm90IGEgc2lnbmF0dXJl")),
    ],
)
def test_tampered_request_is_rejected(case: str, tamper: Any) -> None:
    form = base_form()
    raw, signature = tamper(form, signed(form))

    with pytest.raises(Unauthorized):
        twilio.read_twilio_webhook(raw, signature, config())


def test_signature_for_another_url_is_rejected() -> None:
    # what the function sees behind API Gateway (no stage in the path, another host)
    form = base_form()
    signature = signed(form, url="https://internal.example/webhooks/twilio")

    with pytest.raises(Unauthorized):
        twilio.read_twilio_webhook(urlencode(form), signature, config())


def test_signature_with_another_token_is_rejected() -> None:
    form = base_form()

    with pytest.raises(Unauthorized):
        twilio.read_twilio_webhook(urlencode(form), signed(form, token="other"), config())


def test_oversized_body_is_refused_before_anything_else() -> None:
    raw = b"Body=" + b"x" * 2_000_000

    with pytest.raises(PayloadTooLarge):
        twilio.read_twilio_webhook(raw, None, config())


def test_signed_form_without_message_sid_is_invalid_input() -> None:
    form = {"Body": "hi", "From": "whatsapp:+15551234567"}

    with pytest.raises(InvalidInput):
        twilio.read_twilio_webhook(urlencode(form), signed(form), config())


# --- the route, as app.py wires it -----------------------------------------------------


class Outcome:
    def as_dict(self) -> dict[str, int]:
        return {}


class Processor:
    """Stands in for the inbound processor (dedupe, window, publish) the route hands events to."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    def process(self, events: list[Any]) -> Outcome:
        self.events += events
        return Outcome()


class Logger:
    def info(self, msg: str, extra: dict[str, Any] | None = None) -> None:
        pass


@pytest.fixture
def route() -> Iterator[tuple[Client, list[Any]]]:
    app = Chalice(app_name="twilio-route-test")
    processor = Processor()
    webhook = twilio.TwilioWebhook(processor, config, Logger())  # type: ignore[arg-type]
    handles_errors = answers_errors("ingestion-test")

    # the route as app.py wires it (`webhook` is `runtime.twilio_webhook` there)
    @app.route(
        "/webhooks/twilio",
        methods=["POST"],
        content_types=["application/x-www-form-urlencoded"],
    )
    @handles_errors
    def receive_twilio_webhook() -> Response:
        request = app.current_request
        assert request is not None
        signature = request.headers.get("x-twilio-signature")
        twiml = webhook.receive(request.raw_body, signature)
        return Response(body=twiml, headers={"Content-Type": "text/xml"})

    with Client(app) as client:
        yield client, processor.events


def post(client: Client, form: dict[str, str], signature: str | None) -> Any:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return client.http.post("/webhooks/twilio", headers=headers, body=urlencode(form))


def test_route_answers_empty_twiml_to_a_signed_message(route: tuple[Client, list[Any]]) -> None:
    client, published = route
    form = base_form()

    answer = post(client, form, signed(form))

    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/xml"
    assert answer.body.decode().endswith("<Response/>")
    assert [e.payload.text for e in published] == ["Hola, tengo un problema"]


@pytest.mark.parametrize("signature", [None, "wrong"])
def test_route_refuses_unsigned_or_wrongly_signed(
    route: tuple[Client, list[Any]], signature: str | None
) -> None:
    client, published = route

    answer = post(client, base_form(), signature)

    assert answer.status_code == 401
    assert published == []


def test_route_refuses_a_tampered_message(route: tuple[Client, list[Any]]) -> None:
    client, published = route
    form = base_form()
    signature = signed(form)

    answer = post(client, {**form, "Body": "changed"}, signature)

    assert answer.status_code == 401
    assert published == []


# --- parsing -----------------------------------------------------------------------------------


def parse(**fields: str) -> MessageReceivedEvent:
    return only_message(twilio.parse_twilio_form(base_form(**fields), NUMBERS, NOW))


def test_text_message() -> None:
    event = parse()

    assert event.payload.model_dump(exclude_none=True, exclude_defaults=True) == {
        "channel": "twilio",
        "business_phone_number_id": BUSINESS_ID,
        "wa_id": "15551234567",
        "message_id": "SM0123456789abcdef0123456789abcdef",
        "kind": "text",
        "text": "Hola, tengo un problema",
        "profile_name": "Alex Demo",
        "sent_at": NOW,
    }
    assert event.producer == "ingestion"


def test_unconfigured_business_number_falls_back_to_to_digits() -> None:
    events = twilio.parse_twilio_form(base_form(), {}, NOW)

    assert only_message(events).payload.business_phone_number_id == "14155238886"


def test_image_with_caption() -> None:
    url = "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM1/Media/ME1"
    event = parse(
        MessageType="image",
        Body="my receipt",
        NumMedia="1",
        MediaUrl0=url,
        MediaContentType0="image/jpeg",
    )

    assert event.payload.kind == "image"
    assert event.payload.text == "my receipt"
    media = event.payload.media
    assert media is not None
    assert (media.url, media.mime_type, media.caption, media.voice) == (
        url,
        "image/jpeg",
        "my receipt",
        False,
    )


@pytest.mark.parametrize(
    ("mime", "kind", "voice"),
    [
        ("audio/ogg", "audio", True),
        ("audio/mpeg", "audio", False),
        ("video/mp4", "video", False),
        ("application/pdf", "document", False),
        ("image/webp", "sticker", False),
        ("text/vcard", "contacts", False),
    ],
)
def test_media_kinds(mime: str, kind: str, voice: bool) -> None:
    event = parse(Body="", NumMedia="1", MediaUrl0="https://m.example/1", MediaContentType0=mime)

    assert event.payload.kind == kind
    assert event.payload.media is not None
    assert event.payload.media.voice is voice
    assert event.payload.text is None


def test_location() -> None:
    event = parse(
        MessageType="location",
        Body="",
        Latitude="40.4168",
        Longitude="-3.7038",
        Label="Puerta del Sol",
        Address="Plaza de la Puerta del Sol, Madrid",
    )

    assert event.payload.kind == "location"
    assert event.payload.location is not None
    assert event.payload.location.model_dump(exclude_none=True) == {
        "latitude": 40.4168,
        "longitude": -3.7038,
        "name": "Puerta del Sol",
        "address": "Plaza de la Puerta del Sol, Madrid",
    }
    assert event.payload.text == "Puerta del Sol"


def test_quick_reply_button() -> None:
    event = parse(MessageType="interactive", Body="Yes", ButtonText="Yes", ButtonPayload="confirm")

    assert event.payload.kind == "interactive"
    assert event.payload.text == "Yes"
    assert event.payload.interactive is not None
    assert event.payload.interactive.model_dump(exclude_none=True) == {
        "kind": "button_reply",
        "id": "confirm",
        "title": "Yes",
    }


def test_template_button() -> None:
    event = parse(MessageType="button", Body="Stop", ButtonText="Stop", ButtonPayload="stop")

    assert event.payload.kind == "button"
    assert event.payload.interactive is not None
    assert event.payload.interactive.kind == "template_button"


def test_list_reply() -> None:
    event = parse(MessageType="interactive", Body="Orders", ListId="orders", ListTitle="Orders")

    assert event.payload.interactive is not None
    assert (event.payload.interactive.kind, event.payload.interactive.id) == (
        "list_reply",
        "orders",
    )
    assert event.payload.text == "Orders"


def test_reply_forward_and_referral() -> None:
    event = parse(
        OriginalRepliedMessageSid="SMfeedfeedfeedfeedfeedfeedfeedfeed",
        OriginalRepliedMessageSender="whatsapp:+14155238886",
        Forwarded="true",
        ReferralSourceUrl="https://fb.me/ad",
        ReferralCtwaClid="clid-1",
        ReferralSourceType="ad",
    )

    assert event.payload.reply_context is not None
    assert event.payload.reply_context.message_id == "SMfeedfeedfeedfeedfeedfeedfeedfeed"
    assert event.payload.reply_context.forwarded is True
    assert event.payload.referral is not None
    assert event.payload.referral.ctwa_clid == "clid-1"


def test_same_message_twice_is_the_same_event() -> None:
    assert parse().event_id == parse().event_id  # so dedupe and SNS FIFO dedupe both apply


# --- status callbacks --------------------------------------------------------------------------


def status_form(status: str, **extra: str) -> dict[str, str]:
    return {
        "MessageSid": "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "SmsSid": "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "MessageStatus": status,
        "SmsStatus": status,
        "AccountSid": "AC00000000000000000000000000000000",
        "From": "whatsapp:+14155238886",
        "To": "whatsapp:+15551234567",
        "ChannelPrefix": "whatsapp",
        "ChannelToAddress": "+15551234567",
        "ApiVersion": "2010-04-01",
        **extra,
    }


def test_delivered_status() -> None:
    events = twilio.parse_twilio_form(status_form("delivered"), NUMBERS, NOW)

    assert len(events) == 1
    event = events[0]
    assert isinstance(event, MessageStatusEvent)
    assert event.conversation == f"{BUSINESS_ID}:15551234567"
    assert event.payload.model_dump(exclude_defaults=True) == {
        "message_id": "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "status": "delivered",
        "recipient": "15551234567",
        "at": NOW,
    }


def test_outside_window_failure_carries_metas_131047() -> None:
    form = status_form("undelivered", ErrorCode="63016", ErrorMessage="outside the window")

    (event,) = twilio.parse_twilio_form(form, NUMBERS, NOW)

    assert isinstance(event, MessageStatusEvent)
    assert event.payload.status == "failed"
    error = event.payload.errors[0]
    assert (error.code, error.details) == (131047, "twilio error 63016")


@pytest.mark.parametrize("status", ["queued", "sending", "accepted", "scheduled"])
def test_intermediate_statuses_are_not_events(status: str) -> None:
    assert twilio.parse_twilio_form(status_form(status), NUMBERS, NOW) == []
