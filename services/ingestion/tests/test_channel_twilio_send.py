"""Twilio sender against the simulator's fake Twilio Messages API (a real local HTTP server)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask, request
from werkzeug.serving import make_server

from chalicelib.channels import twilio
from infra.local.simulator import RunningSimulator, start_in_thread
from infra.local.simulator.twilio_api import TwilioSimConfig
from parley.errors import WhatsAppApiError
from parley.events import MessageStatusEvent
from parley.settings import BusinessNumber
from parley.whatsapp.meta_errors import MetaErrorAction, action_of

SIM_TWILIO = TwilioSimConfig()
CREDS = twilio.TwilioCredentials(SIM_TWILIO.account_sid, SIM_TWILIO.auth_token)
NUMBER = BusinessNumber(channel="twilio", twilio_from="whatsapp:+14155238886")
BUSINESS_ID = "100000000000001"
CUSTOMER = "15551234567"


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    running = start_in_thread()
    yield running
    running.stop()


class CallbackReceiver:
    """The status-callback side of our webhook: a real HTTP server checking Twilio's signature."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.refused = 0
        app = Flask("twilio-callbacks")
        app.add_url_rule("/webhooks/twilio", "hook", self._hook, methods=["POST"])
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.port}/webhooks/twilio"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _hook(self) -> tuple[str, int]:
        config = twilio.TwilioWebhookConfig(
            self.url, CREDS.auth_token, 1_048_576, {BUSINESS_ID: NUMBER}
        )
        signature = request.headers.get("X-Twilio-Signature")
        try:
            self.events += twilio.read_twilio_webhook(request.get_data(), signature, config)
        except Exception:
            self.refused += 1
            return "", 401
        return twilio.TWIML_EMPTY, 200

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Any]:
        deadline = time.monotonic() + timeout
        while len(self.events) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.events)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    running = CallbackReceiver()
    yield running
    running.stop()


@pytest.fixture
def channel(sim: RunningSimulator, receiver: CallbackReceiver) -> twilio.TwilioWhatsAppChannel:
    requests.post(f"{sim.url}/_sim/twilio/reset", timeout=5).raise_for_status()
    return twilio.TwilioWhatsAppChannel(sim.url, lambda: CREDS, status_callback_url=receiver.url)


def recorded(sim: RunningSimulator) -> list[dict[str, Any]]:
    answer = requests.get(f"{sim.url}/_sim/twilio/requests", timeout=5).json()
    found: list[dict[str, Any]] = answer["requests"]
    return found


def fault(sim: RunningSimulator, **spec: Any) -> None:
    requests.post(f"{sim.url}/_sim/twilio/faults", json=spec, timeout=5).raise_for_status()


def text(body: str) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CUSTOMER,
        "type": "text",
        "text": {"body": body, "preview_url": False},
    }


def test_text_goes_as_twilio_form_with_basic_auth(
    sim: RunningSimulator, channel: twilio.TwilioWhatsAppChannel, receiver: CallbackReceiver
) -> None:
    sid = channel.send(BUSINESS_ID, NUMBER, text("Your order ships today."))

    (req,) = recorded(sim)
    assert sid.startswith("SM") and len(sid) == 34
    assert req["status"] == 201 and req["response"]["sid"] == sid
    assert req["auth"] == {"username": CREDS.account_sid}
    assert req["account_sid"] == CREDS.account_sid
    assert req["form"] == {
        "From": ["whatsapp:+14155238886"],
        "To": ["whatsapp:+15551234567"],
        "StatusCallback": [receiver.url],
        "Body": ["Your order ships today."],
    }


def test_status_callbacks_are_signed_and_become_status_events(
    channel: twilio.TwilioWhatsAppChannel, receiver: CallbackReceiver
) -> None:
    sid = channel.send(BUSINESS_ID, NUMBER, text("hello"))

    events = receiver.wait_for(2)

    assert receiver.refused == 0
    assert all(isinstance(e, MessageStatusEvent) for e in events)
    assert [(e.payload.message_id, e.payload.status) for e in events] == [
        (sid, "sent"),
        (sid, "delivered"),
    ]
    assert events[0].conversation == f"{BUSINESS_ID}:{CUSTOMER}"


def test_async_63016_arrives_as_failed_with_131047(
    sim: RunningSimulator, channel: twilio.TwilioWhatsAppChannel, receiver: CallbackReceiver
) -> None:
    fault(sim, to=CUSTOMER, code=63016, delivery="async")

    sid = channel.send(BUSINESS_ID, NUMBER, text("late reply"))

    failed = receiver.wait_for(2)[-1]
    assert (failed.payload.message_id, failed.payload.status) == (sid, "failed")
    assert failed.payload.errors[0].code == 131047


def test_media_by_link_with_caption(
    sim: RunningSimulator, channel: twilio.TwilioWhatsAppChannel
) -> None:
    body = {
        "messaging_product": "whatsapp",
        "to": "+" + CUSTOMER,
        "type": "image",
        "image": {"link": "https://cdn.example/receipt.png", "caption": "Your receipt"},
    }

    sid = channel.send(BUSINESS_ID, NUMBER, body)

    form = recorded(sim)[0]["form"]
    assert sid.startswith("MM")
    assert form["MediaUrl"] == ["https://cdn.example/receipt.png"]
    assert form["Body"] == ["Your receipt"]
    assert form["To"] == ["whatsapp:+15551234567"]


def test_content_template_goes_as_content_sid(
    sim: RunningSimulator, channel: twilio.TwilioWhatsAppChannel
) -> None:
    template = {
        "name": "HX0123456789abcdef0123456789abcdef",
        "language": {"code": "es"},
        "components": [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": "Alex"}, {"type": "text", "text": "123"}],
            }
        ],
    }
    body = {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "template"}

    channel.send(BUSINESS_ID, NUMBER, {**body, "template": template})

    form = recorded(sim)[0]["form"]
    assert form["ContentSid"] == ["HX0123456789abcdef0123456789abcdef"]
    assert json.loads(form["ContentVariables"][0]) == {"1": "Alex", "2": "123"}
    assert "Body" not in form


def test_meta_template_name_falls_back_to_its_text(
    sim: RunningSimulator, channel: twilio.TwilioWhatsAppChannel
) -> None:
    body = {
        "messaging_product": "whatsapp",
        "to": CUSTOMER,
        "type": "template",
        "template": {"name": "parley_reengage", "language": {"code": "en_US"}},
    }

    channel.send(BUSINESS_ID, NUMBER, body)

    assert recorded(sim)[0]["form"]["Body"] == ["parley_reengage"]


def test_buttons_and_lists_become_numbered_options(
    sim: RunningSimulator, channel: twilio.TwilioWhatsAppChannel
) -> None:
    buttons = {
        "type": "button",
        "body": {"text": "Did that help?"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": "y", "title": "Yes"}},
                {"type": "reply", "reply": {"id": "n", "title": "No"}},
            ]
        },
    }
    rows = [{"id": "a", "title": "Orders"}, {"id": "b", "title": "Returns"}]
    a_list = {
        "type": "list",
        "header": {"type": "text", "text": "Help"},
        "body": {"text": "Pick a topic"},
        "action": {"button": "Topics", "sections": [{"title": "All", "rows": rows}]},
    }
    base = {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "interactive"}

    channel.send(BUSINESS_ID, NUMBER, {**base, "interactive": buttons})
    channel.send(BUSINESS_ID, NUMBER, {**base, "interactive": a_list})

    bodies = [r["form"]["Body"][0] for r in recorded(sim)]
    assert bodies == [
        "Did that help?\n\n1. Yes\n2. No",
        "Help\n\nPick a topic\n\n1. Orders\n2. Returns",
    ]


def test_text_over_twilios_1600_characters_goes_in_parts(
    sim: RunningSimulator, channel: twilio.TwilioWhatsAppChannel
) -> None:
    sentence = "This sentence is part of a long answer. "
    long_text = (sentence * 100).strip()  # 4,000 characters

    sid = channel.send(BUSINESS_ID, NUMBER, text(long_text))

    sent = recorded(sim)
    parts = [r["form"]["Body"][0] for r in sent]
    assert len(parts) == 3
    assert all(len(p) <= 1600 and p.endswith(".") for p in parts)
    assert " ".join(p.strip() for p in parts) == long_text
    assert sid == sent[-1]["response"]["sid"]


def test_retry_after_a_failed_part_sends_only_the_rest(
    sim: RunningSimulator, channel: twilio.TwilioWhatsAppChannel
) -> None:
    long_text = " ".join(f"Sentence number {i} of a long answer." for i in range(120))
    fault(sim, to=CUSTOMER, code=20500, http_status=500, after=1)  # the second part fails

    with pytest.raises(WhatsAppApiError) as raised:
        channel.send(BUSINESS_ID, NUMBER, text(long_text))
    assert raised.value.retryable is True
    sid = channel.send(BUSINESS_ID, NUMBER, text(long_text))  # what the sender's retry does

    delivered = [r for r in recorded(sim) if r["status"] == 201]
    assert len(delivered) == 3  # part 1 once, then parts 2 and 3
    assert len({r["form"]["Body"][0] for r in delivered}) == 3
    assert sid == delivered[-1]["response"]["sid"]


def test_read_and_typing_send_nothing(
    sim: RunningSimulator, channel: twilio.TwilioWhatsAppChannel
) -> None:
    read = {"messaging_product": "whatsapp", "status": "read", "message_id": "SMx"}

    assert channel.send(BUSINESS_ID, NUMBER, read) == ""
    assert channel.send(BUSINESS_ID, NUMBER, {**read, "typing_indicator": {"type": "text"}}) == ""
    assert recorded(sim) == []


@pytest.mark.parametrize(
    "body",
    [
        {"type": "reaction", "reaction": {"message_id": "SMx", "emoji": "👍"}},
        {"type": "image", "image": {"id": "1234567890"}},
    ],
)
def test_what_twilio_cannot_send_is_a_permanent_131051(
    sim: RunningSimulator, channel: twilio.TwilioWhatsAppChannel, body: dict[str, Any]
) -> None:
    with pytest.raises(WhatsAppApiError) as raised:
        channel.send(BUSINESS_ID, NUMBER, {"messaging_product": "whatsapp", "to": CUSTOMER, **body})

    assert (raised.value.meta_code, raised.value.retryable) == (131051, False)
    assert recorded(sim) == []


def test_number_without_twilio_from_is_permanent(channel: twilio.TwilioWhatsAppChannel) -> None:
    with pytest.raises(WhatsAppApiError) as raised:
        channel.send(BUSINESS_ID, BusinessNumber(channel="twilio"), text("hi"))

    assert raised.value.retryable is False


@pytest.mark.parametrize(
    ("code", "http_status", "meta_code", "action"),
    [
        (63016, 400, 131047, MetaErrorAction.TEMPLATE),
        (63018, 429, 130429, MetaErrorAction.RETRY),
        (20429, 429, None, MetaErrorAction.RETRY),
        (20500, 500, None, MetaErrorAction.RETRY),
        (21211, 400, None, MetaErrorAction.PERMANENT),
        (63024, 400, 131026, MetaErrorAction.PERMANENT),
    ],
)
def test_twilio_errors_map_to_metas_classification(
    sim: RunningSimulator,
    channel: twilio.TwilioWhatsAppChannel,
    code: int,
    http_status: int,
    meta_code: int | None,
    action: MetaErrorAction,
) -> None:
    fault(sim, to=CUSTOMER, code=code, http_status=http_status, message="refused")

    with pytest.raises(WhatsAppApiError) as raised:
        channel.send(BUSINESS_ID, NUMBER, text("hi"))

    assert raised.value.meta_code == meta_code
    assert action_of(raised.value) is action
    assert raised.value.detail["twilio_code"] == code


def test_wrong_auth_token_is_permanent(sim: RunningSimulator) -> None:
    wrong = twilio.TwilioCredentials(CREDS.account_sid, "not-the-token")
    channel = twilio.TwilioWhatsAppChannel(sim.url, lambda: wrong)

    with pytest.raises(WhatsAppApiError) as raised:
        channel.send(BUSINESS_ID, NUMBER, text("hi"))

    assert (raised.value.meta_code, raised.value.retryable) == (190, False)


def test_unreachable_twilio_is_retryable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: nothing listens there
    channel = twilio.TwilioWhatsAppChannel(f"http://127.0.0.1:{port}", lambda: CREDS)

    with pytest.raises(WhatsAppApiError) as raised:
        channel.send(BUSINESS_ID, NUMBER, text("hi"))

    assert raised.value.retryable is True
