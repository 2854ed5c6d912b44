"""Every inbound message type of reference §1.4, through the signed HTTP route: the one
`message.received` it becomes, media also on media.fifo, the typing indicator on outbound.fifo."""

from __future__ import annotations

from typing import Any

import pytest
from inbound_support import (
    CONTEXT_QUEUE,
    MEDIA_QUEUE,
    OUTBOUND_QUEUE,
    PHONE_NUMBER_ID,
    Json,
    contact,
    load,
    messages_of,
    of_type,
    personalise,
    take,
)


def received(meta: Any, fixture: str, customer: str) -> tuple[Json, Json]:
    """POST the fixture; returns (the message as sent, the one message.received payload)."""
    payload = personalise(load(fixture), customer)
    response = meta.post(payload)
    assert response.status_code == 200, response.body
    [event] = of_type(take(CONTEXT_QUEUE), "message.received")
    [message] = messages_of(payload)
    assert event["payload"]["message_id"] == message["id"]
    assert event["event_id"] and event["producer"] == "ingestion"
    return message, event["payload"]


def test_text(meta: Any, customer: str) -> None:
    _, p = received(meta, "text", customer)
    assert p["kind"] == "text"
    assert p["text"] == "Hola, ¿tienen plazas para el máster?"  # Meta's \u escapes decoded
    assert (p["channel"], p["business_phone_number_id"], p["wa_id"]) == (
        "meta",
        PHONE_NUMBER_ID,
        customer,
    )
    assert p["profile_name"] == "Sheena Nelson"
    assert p["sent_at"].startswith("2025-06-08T")
    assert p["reply_context"] is None and p["media"] is None


def test_event_is_keyed_by_the_conversation(meta: Any, customer: str) -> None:
    payload = personalise(load("text"), customer)
    meta.post(payload)
    [event] = take(CONTEXT_QUEUE)
    assert event["conversation"] == f"{PHONE_NUMBER_ID}:{customer}"


def test_text_reply_carries_the_replied_to_message(meta: Any, customer: str) -> None:
    message, p = received(meta, "text_reply", customer)
    assert p["reply_context"]["message_id"] == message["context"]["id"]
    assert p["reply_context"]["forwarded"] is False


def test_forwarded_text(meta: Any, customer: str) -> None:
    _, p = received(meta, "text_forwarded", customer)
    assert p["reply_context"] == {
        "message_id": None,
        "forwarded": True,
        "frequently_forwarded": True,
    }


def test_text_from_an_ad_keeps_the_referral(meta: Any, customer: str) -> None:
    message, p = received(meta, "text_referral", customer)
    assert p["referral"]["source_type"] == "ad"
    assert p["referral"]["ctwa_clid"] == message["referral"]["ctwa_clid"]
    assert p["referral"]["headline"] == "Admissions open"


@pytest.mark.parametrize(
    ("fixture", "kind", "text"),
    [
        ("image", "image", "Mi recibo"),
        ("audio_voice", "audio", None),
        ("audio_file", "audio", None),
        ("video", "video", "Así llega el paquete"),
        ("document", "document", "Mi expediente"),
        ("sticker", "sticker", None),
    ],
)
def test_media_is_published_and_also_queued_for_the_media_service(
    meta: Any, customer: str, fixture: str, kind: str, text: str | None
) -> None:
    message, p = received(meta, fixture, customer)
    sent = message[kind]
    assert (p["kind"], p["text"]) == (kind, text)
    assert p["media"]["media_id"] == sent["id"]
    assert p["media"]["mime_type"] == sent["mime_type"]
    assert p["media"]["sha256"] == sent["sha256"]
    assert p["media"]["voice"] is bool(sent.get("voice", False))
    assert p["media"]["filename"] == sent.get("filename")
    assert p["media"]["url"] == sent.get("url")
    [job] = take(MEDIA_QUEUE)
    assert job["type"] == "message.received"
    assert job["payload"] == p


def test_voice_flag_distinguishes_voice_notes_from_audio_files(meta: Any, customer: str) -> None:
    _, voice = received(meta, "audio_voice", customer)
    _, audio = received(meta, "audio_file", customer)
    assert (voice["media"]["voice"], audio["media"]["voice"]) == (True, False)


def test_text_messages_are_not_media_jobs(meta: Any, customer: str) -> None:
    received(meta, "text", customer)
    assert take(MEDIA_QUEUE) == []


def test_location_of_a_place(meta: Any, customer: str) -> None:
    _, p = received(meta, "location", customer)
    assert p["location"] == {
        "latitude": 37.483307,
        "longitude": -122.148981,
        "name": "Meta Headquarters",
        "address": "1 Hacker Way, Menlo Park, CA 94025",
        "url": "https://meta.com",
    }
    assert p["text"] == "Meta Headquarters"


def test_current_location_without_a_name(meta: Any, customer: str) -> None:
    _, p = received(meta, "location_current", customer)
    assert (p["kind"], p["text"]) == ("location", None)
    assert (p["location"]["latitude"], p["location"]["longitude"]) == (40.4168, -3.7038)


def test_shared_contacts(meta: Any, customer: str) -> None:
    message, p = received(meta, "contacts", customer)
    assert p["kind"] == "contacts"
    assert p["contacts"] == message["contacts"]


def test_interactive_button_reply(meta: Any, customer: str) -> None:
    message, p = received(meta, "interactive_button_reply", customer)
    assert p["kind"] == "interactive"
    assert p["interactive"]["kind"] == "button_reply"
    assert (p["interactive"]["id"], p["text"]) == ("admissions", "Admisiones")
    assert p["reply_context"]["message_id"] == message["context"]["id"]


def test_interactive_list_reply(meta: Any, customer: str) -> None:
    _, p = received(meta, "interactive_list_reply", customer)
    assert p["interactive"] == {
        "kind": "list_reply",
        "id": "row-mba",
        "title": "MBA",
        "description": "Máster en administración",
        "response_json": None,
    }
    assert p["text"] == "MBA"


def test_interactive_flow_completion(meta: Any, customer: str) -> None:
    _, p = received(meta, "interactive_flow", customer)
    assert p["interactive"]["kind"] == "nfm_reply"
    assert p["interactive"]["response_json"] == '{"flow_token": "unused", "programme": "mba"}'


def test_template_quick_reply_button(meta: Any, customer: str) -> None:
    message, p = received(meta, "button", customer)
    assert p["kind"] == "button"
    assert p["interactive"]["kind"] == "template_button"
    assert (p["interactive"]["id"], p["text"]) == ("talk-to-agent", "Hablar con alguien")
    assert p["reply_context"]["message_id"] == message["context"]["id"]


def test_reaction(meta: Any, customer: str) -> None:
    message, p = received(meta, "reaction", customer)
    assert p["reaction"] == {"message_id": message["reaction"]["message_id"], "emoji": "👍"}


def test_reaction_removed(meta: Any, customer: str) -> None:
    message, p = received(meta, "reaction_removed", customer)
    assert p["kind"] == "reaction"
    assert p["reaction"] == {"message_id": message["reaction"]["message_id"], "emoji": None}


def test_order(meta: Any, customer: str) -> None:
    _, p = received(meta, "order", customer)
    assert (p["kind"], p["text"]) == ("order", "Lo antes posible")


def test_system_message_without_contacts(meta: Any, customer: str) -> None:
    _, p = received(meta, "system", customer)
    assert p["kind"] == "system"
    assert p["system"]["type"] == "user_changed_number"
    assert p["profile_name"] is None
    assert take(OUTBOUND_QUEUE) == []  # nobody typed it: no typing indicator


@pytest.mark.parametrize("fixture", ["unsupported", "unknown_legacy", "new_type"])
def test_unsupported_unknown_and_future_types_are_unsupported(
    meta: Any, customer: str, fixture: str
) -> None:
    _, p = received(meta, fixture, customer)
    assert p["kind"] == "unsupported"
    if fixture != "new_type":
        assert p["errors"][0]["code"] == 131051


def test_interactive_without_its_object_is_tolerated(meta: Any, customer: str) -> None:
    _, p = received(meta, "interactive_with_error", customer)
    assert (p["kind"], p["interactive"], p["text"]) == ("interactive", None, None)


def test_message_without_from_uses_the_business_scoped_user_id(meta: Any, customer: str) -> None:
    _, p = received(meta, "no_from_user_id", customer)
    assert p["wa_id"] == "US.13491208655302741918"
    assert p["profile_name"] == "Sin Número"


def test_many_entries_changes_and_messages_in_one_post(meta: Any, customer: str) -> None:
    payload = personalise(load("many"), customer)
    response = meta.post(payload)
    assert response.status_code == 200
    assert response.json_body["received"] == 4
    events = of_type(take(CONTEXT_QUEUE), "message.received")
    sent_ids = [m["id"] for m in messages_of(payload)]
    assert [e["payload"]["message_id"] for e in events] == sent_ids  # FIFO keeps their order
    assert [e["payload"]["text"] for e in events] == ["uno", "dos", None, "tres"]
    assert len(take(MEDIA_QUEUE)) == 1


def test_customer_message_records_the_24h_window_and_profile(meta: Any, customer: str) -> None:
    received(meta, "text", customer)
    item = contact(customer)
    assert float(item["last_inbound_at"]["N"]) == 1749416383
    assert item["profile_name"]["S"] == "Sheena Nelson"


def test_typing_indicator_is_enqueued_for_the_message(meta: Any, customer: str) -> None:
    message, _ = received(meta, "text", customer)
    [reply] = take(OUTBOUND_QUEUE)
    assert reply["type"] == "reply.requested"
    assert reply["conversation"] == f"{PHONE_NUMBER_ID}:{customer}"
    p = reply["payload"]
    assert (p["kind"], p["to"], p["reply_to"], p["origin"]) == (
        "typing",
        customer,
        message["id"],
        "system",
    )


def test_a_reaction_is_marked_read_without_typing(meta: Any, customer: str) -> None:
    message, _ = received(meta, "reaction", customer)
    [reply] = take(OUTBOUND_QUEUE)
    assert (reply["payload"]["kind"], reply["payload"]["reply_to"]) == ("read", message["id"])
