"""Every kind of message the sender sends has Meta's shape (as the WhatsApp simulator recorded
it), and a message that breaks one of WhatsApp's limits is parked with a reason naming the limit.
Fixtures: test_sender_delivery.py."""

# ruff: noqa: F811 - fixtures imported from test_sender_delivery are test parameters

from __future__ import annotations

import uuid
from typing import Any

import pytest
from test_sender_delivery import (  # noqa: F401 - outbound and sim are fixtures
    OK,
    PNID,
    Outbound,
    envelope,
    outbound,
    parked_reason,
    sim,
)

pytest_plugins = ["infra.local.service_contract"]

# --- every kind of message has Meta's shape ------------------------------------------------

MESSAGE_CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "text": (
        {"text": "Hola, ¿en qué te ayudo?"},
        {"type": "text", "text": {"body": "Hola, ¿en qué te ayudo?", "preview_url": False}},
    ),
    "text with a link, as a reply": (
        {"text": "See https://example.com/fees", "reply_to": "wamid.IN1"},
        {
            "type": "text",
            "text": {"body": "See https://example.com/fees", "preview_url": True},
            "context": {"message_id": "wamid.IN1"},
        },
    ),
    "reply buttons": (
        {
            "kind": "buttons",
            "text": "Was this helpful?",
            "buttons": [{"id": "yes", "title": "Yes"}, {"id": "no", "title": "No"}],
        },
        {
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": "Was this helpful?"},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
                        {"type": "reply", "reply": {"id": "no", "title": "No"}},
                    ]
                },
            },
        },
    ),
    "list": (
        {
            "kind": "list",
            "text": "Pick a topic",
            "list_button": "Topics",
            "sections": [
                {
                    "title": "Fees",
                    "rows": [{"id": "t1", "title": "Tuition", "description": "2026"}],
                },
                {"title": "Admission", "rows": [{"id": "a1", "title": "Deadlines"}]},
            ],
        },
        {
            "type": "interactive",
            "interactive": {
                "type": "list",
                "body": {"text": "Pick a topic"},
                "action": {
                    "button": "Topics",
                    "sections": [
                        {
                            "title": "Fees",
                            "rows": [{"id": "t1", "title": "Tuition", "description": "2026"}],
                        },
                        {"title": "Admission", "rows": [{"id": "a1", "title": "Deadlines"}]},
                    ],
                },
            },
        },
    ),
    "template": (
        {
            "kind": "template",
            "template": {
                "name": "order_update",
                "language": "es_ES",
                "components": [{"type": "body", "parameters": [{"type": "text", "text": "O-1"}]}],
            },
        },
        {
            "type": "template",
            "template": {
                "name": "order_update",
                "language": {"code": "es_ES"},
                "components": [{"type": "body", "parameters": [{"type": "text", "text": "O-1"}]}],
            },
        },
    ),
    "document by link": (
        {
            "kind": "media",
            "media_kind": "document",
            "media": {"url": "https://example.com/f.pdf", "caption": "Fees", "filename": "f.pdf"},
        },
        {
            "type": "document",
            "document": {
                "link": "https://example.com/f.pdf",
                "caption": "Fees",
                "filename": "f.pdf",
            },
        },
    ),
    "audio by link": (
        {"kind": "media", "media_kind": "audio", "media": {"url": "https://example.com/a.ogg"}},
        {"type": "audio", "audio": {"link": "https://example.com/a.ogg"}},
    ),
    "video by link": (
        {"kind": "media", "media_kind": "video", "media": {"url": "https://e.com/v.mp4"}},
        {"type": "video", "video": {"link": "https://e.com/v.mp4"}},
    ),
    "sticker by link": (
        {"kind": "media", "media_kind": "sticker", "media": {"url": "https://e.com/s.webp"}},
        {"type": "sticker", "sticker": {"link": "https://e.com/s.webp"}},
    ),
    "reaction": (
        {"kind": "reaction", "reaction": {"message_id": "wamid.IN2", "emoji": "👍"}},
        {"type": "reaction", "reaction": {"message_id": "wamid.IN2", "emoji": "👍"}},
    ),
    "reaction removed": (
        {"kind": "reaction", "reaction": {"message_id": "wamid.IN2"}},
        {"type": "reaction", "reaction": {"message_id": "wamid.IN2", "emoji": ""}},
    ),
}


@pytest.mark.parametrize("case", list(MESSAGE_CASES))
def test_sender_sends_each_kind_in_meta_shape_and_tracks_it(outbound: Outbound, case: str) -> None:
    from chalicelib.store import WaMessagesStore

    payload, expected = MESSAGE_CASES[case]
    wa_id, request_id = outbound.customer(), uuid.uuid4().hex
    assert outbound.send({"to": wa_id, "request_id": request_id, **payload}) == OK
    assert outbound.bodies(wa_id) == [{**envelope(wa_id), **expected}]
    wamid = WaMessagesStore("parley-local-wa-messages").sent_wamid(request_id)
    [status] = outbound.statuses()
    assert status["payload"]["message_id"] == wamid
    assert (status["payload"]["status"], status["payload"]["request_id"]) == (
        "accepted",
        request_id,
    )
    assert status["conversation"] == f"{PNID}:{wa_id}"


def test_sender_sends_uploaded_media_by_id_with_caption(outbound: Outbound) -> None:
    wa_id, media_id = outbound.customer(), outbound.upload_media()
    image = {"media_id": media_id, "caption": "Campus map"}
    assert (
        outbound.send({"to": wa_id, "kind": "media", "media_kind": "image", "media": image}) == OK
    )
    assert outbound.bodies(wa_id) == [
        {**envelope(wa_id), "type": "image", "image": {"id": media_id, "caption": "Campus map"}}
    ]


@pytest.mark.parametrize("kind", ["read", "typing"])
def test_read_and_typing_mark_the_customer_message_and_are_not_tracked(
    outbound: Outbound, kind: str
) -> None:
    from chalicelib.store import WaMessagesStore

    wa_id, request_id = outbound.customer(window=False), uuid.uuid4().hex  # no window needed
    receipt = {"to": wa_id, "request_id": request_id, "kind": kind, "reply_to": "wamid.IN3"}
    assert outbound.send(receipt) == OK
    [sent] = outbound.requests(kind=kind)
    expected: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.IN3",
    }
    if kind == "typing":
        expected["typing_indicator"] = {"type": "text"}
    assert (sent["body"], sent["status"]) == (expected, 200)
    assert WaMessagesStore("parley-local-wa-messages").sent_wamid(request_id) is None
    assert outbound.statuses() == []


# --- limits ---------------------------------------------------------------------------------

LIMIT_CASES: dict[str, tuple[dict[str, Any], str]] = {
    "four buttons": (
        {"buttons": [{"id": str(i), "title": f"B{i}"} for i in range(4)]},
        "reply buttons: 1 to 3 buttons, got 4",
    ),
    "button title over 20": (
        {"buttons": [{"id": "1", "title": "x" * 21}]},
        "button title: at most 20 characters, got 21",
    ),
    "duplicate titles": (
        {"buttons": [{"id": "1", "title": "Yes"}, {"id": "2", "title": "Yes"}]},
        "button titles: must be unique",
    ),
    "button body over 1024": (
        {"text": "x" * 1025, "buttons": [{"id": "1", "title": "Ok"}]},
        "body text: at most 1024 characters, got 1025",
    ),
    "eleven rows": (
        {
            "kind": "list",
            "list_button": "Pick",
            "sections": [{"rows": [{"id": str(i), "title": f"R{i}"} for i in range(11)]}],
        },
        "list: 1 to 10 rows in total, got 11",
    ),
    "eleven sections": (
        {
            "kind": "list",
            "list_button": "Pick",
            "sections": [
                {"title": f"S{i}", "rows": [{"id": str(i), "title": "R"}]} for i in range(11)
            ],
        },
        "list: 1 to 10 sections, got 11",
    ),
    "row description over 72": (
        {
            "kind": "list",
            "list_button": "Pick",
            "sections": [{"rows": [{"id": "1", "title": "R", "description": "d" * 73}]}],
        },
        "row description: at most 72 characters, got 73",
    ),
    "untitled sections": (
        {
            "kind": "list",
            "list_button": "Pick",
            "sections": [
                {"rows": [{"id": "1", "title": "A"}]},
                {"rows": [{"id": "2", "title": "B"}]},
            ],
        },
        "section title: is required",
    ),
    "caption on audio": (
        {
            "kind": "media",
            "media_kind": "audio",
            "media": {"url": "https://e.com/a", "caption": "x"},
        },
        "caption: not allowed on audio",
    ),
}


@pytest.mark.parametrize("case", list(LIMIT_CASES))
def test_limit_violation_is_parked_with_a_reason_naming_the_limit(
    outbound: Outbound, case: str
) -> None:
    extra, reason_part = LIMIT_CASES[case]
    wa_id = outbound.customer()
    payload = {"to": wa_id, "kind": "buttons", "text": "Choose", **extra}
    assert outbound.send(payload) == OK
    assert outbound.requests(wa_id) == []
    failure_code, reason = parked_reason(outbound.service)
    assert failure_code == "invalid_input"
    assert reason_part in reason
