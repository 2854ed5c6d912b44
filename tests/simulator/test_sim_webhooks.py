"""Customer actions become signed Meta webhooks; business sends produce status webhooks."""

from __future__ import annotations

import hashlib
from typing import Any

import requests
from conftest import PHONE_ID, Graph, Receiver, make_config

from infra.local.simulator import start_in_thread

CUSTOMER = "15551234567"


def _check_envelope(hook: Any) -> dict[str, Any]:
    assert hook.signature_ok(), "X-Hub-Signature-256 must be HMAC-SHA256 of the raw body"
    assert not hook.signature_ok("wrong-secret")
    body = hook.body
    assert body["object"] == "whatsapp_business_account"
    entry = body["entry"][0]
    assert entry["id"] == "200000000000001"
    change = entry["changes"][0]
    assert change["field"] == "messages"
    value: dict[str, Any] = change["value"]
    assert value["messaging_product"] == "whatsapp"
    assert value["metadata"]["phone_number_id"] == PHONE_ID
    assert value["metadata"]["display_phone_number"] == "15550001111"
    return value


def _last_message(receiver: Receiver) -> tuple[dict[str, Any], dict[str, Any]]:
    hook = receiver.messages()[-1]
    value = _check_envelope(hook)
    return value["contacts"][0], value["messages"][0]


def test_customer_text_becomes_signed_webhook(graph: Graph, receiver: Receiver) -> None:
    response = graph.customer(text="Hola, ¿qué tal?", name="Ana", **{"from": "34600111222"})
    assert response.status_code == 200
    assert response.json()["webhook"] == {"status": 200, "ok": True, "error": None}
    hook = receiver.messages()[-1]
    assert b"\\u00bfqu\\u00e9" in hook.raw  # non-ASCII escaped like Meta
    contact, message = _last_message(receiver)
    assert contact == {"profile": {"name": "Ana"}, "wa_id": "34600111222"}
    assert message["from"] == "34600111222" and message["type"] == "text"
    assert message["text"] == {"body": "Hola, ¿qué tal?"}
    assert message["id"] == response.json()["wamid"] and message["timestamp"].isdigit()
    assert hook.headers["Content-Type"] == "application/json"


def _media_roundtrip(graph: Graph, media: dict[str, Any], data: bytes) -> None:
    meta = graph.session.get(f"{graph.base}/{media['id']}").json()
    assert meta["sha256"] == media["sha256"] == hashlib.sha256(data).hexdigest()
    assert graph.session.get(meta["url"]).content == data


def test_customer_image_voice_and_document(graph: Graph, receiver: Receiver) -> None:
    image = graph.customer_upload(b"\xff\xd8\xff jpeg", "image/jpeg", "photo.jpg")
    graph.customer(type="image", media_id=image["id"], caption="my receipt")
    _, message = _last_message(receiver)
    assert message["type"] == "image"
    assert message["image"] == {
        "id": image["id"],
        "mime_type": "image/jpeg",
        "sha256": image["sha256"],
        "caption": "my receipt",
    }
    _media_roundtrip(graph, message["image"], b"\xff\xd8\xff jpeg")

    voice = graph.customer_upload(b"OggS voice", "audio/ogg", "voice.ogg")
    graph.customer(type="audio", media_id=voice["id"], voice=True)
    _, message = _last_message(receiver)
    assert message["audio"]["voice"] is True
    assert message["audio"]["mime_type"] == "audio/ogg; codecs=opus"
    _media_roundtrip(graph, message["audio"], b"OggS voice")

    doc = graph.customer_upload(b"%PDF-1.7", "application/pdf", "invoice.pdf")
    graph.customer(type="document", media_id=doc["id"])
    _, message = _last_message(receiver)
    assert message["document"]["filename"] == "invoice.pdf"
    assert message["document"]["mime_type"] == "application/pdf"


def test_reply_context_and_button_and_list_replies(graph: Graph, receiver: Receiver) -> None:
    buttons = {
        "type": "button",
        "body": {"text": "Helpful?"},
        "action": {"buttons": [{"type": "reply", "reply": {"id": "y", "title": "Yes"}}]},
    }
    sent = graph.send({"to": CUSTOMER, "type": "interactive", "interactive": buttons})
    wamid = sent.json()["messages"][0]["id"]
    assert graph.customer(type="interactive", reply_to=wamid, button_id="y").status_code == 200
    _, message = _last_message(receiver)
    assert message["interactive"] == {
        "type": "button_reply",
        "button_reply": {"id": "y", "title": "Yes"},
    }
    assert message["context"] == {"from": "15550001111", "id": wamid}

    rows = [{"id": "r2", "title": "Track", "description": "Where is it"}]
    listing = {
        "type": "list",
        "body": {"text": "Menu"},
        "action": {"button": "Open", "sections": [{"title": "S", "rows": rows}]},
    }
    sent = graph.send({"to": CUSTOMER, "type": "interactive", "interactive": listing})
    list_id = sent.json()["messages"][0]["id"]
    graph.customer(type="interactive", reply_to=list_id, button_id="r2")
    _, message = _last_message(receiver)
    assert message["interactive"] == {"type": "list_reply", "list_reply": rows[0]}

    graph.customer(text="about that", reply_to=wamid)
    _, message = _last_message(receiver)
    assert message["context"]["id"] == wamid
    assert graph.customer(type="interactive", reply_to=wamid, button_id="nope").status_code == 400


def test_status_webhooks_sent_delivered_read(graph: Graph, receiver: Receiver) -> None:
    wamid = graph.text(CUSTOMER).json()["messages"][0]["id"]
    statuses = receiver.wait_for(lambda: (s := receiver.statuses(wamid)) and len(s) == 3 and s)
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    for hook in receiver.hooks:
        _check_envelope(hook)
    sent = statuses[0]
    assert sent["recipient_id"] == CUSTOMER and sent["timestamp"].isdigit()
    assert sent["conversation"]["origin"]["type"] == "service"
    assert "expiration_timestamp" in sent["conversation"]
    assert sent["pricing"] == {
        "billable": False,
        "pricing_model": "PMP",
        "category": "service",
        "type": "free_customer_service",
    }
    assert "expiration_timestamp" not in statuses[1]["conversation"]


def test_async_fault_delivers_failed_status(graph: Graph, receiver: Receiver) -> None:
    graph.fault(recipient=CUSTOMER, code=131047, delivery="async")
    response = graph.text(CUSTOMER)
    assert response.status_code == 200
    wamid = response.json()["messages"][0]["id"]
    failed = receiver.wait_for(lambda: receiver.statuses(wamid))
    assert [s["status"] for s in failed] == ["failed"]
    error = failed[0]["errors"][0]
    assert error["code"] == 131047 and error["title"] == "Re-engagement message"
    assert error["error_data"]["details"]
    ok = graph.text(CUSTOMER).json()["messages"][0]["id"]
    receiver.wait_for(lambda: len(receiver.statuses(ok)) == 3)


def test_mark_read_and_typing_update_the_chat(graph: Graph, receiver: Receiver) -> None:
    first = graph.customer(text="one").json()["wamid"]
    second = graph.customer(text="two").json()["wamid"]
    graph.send({"status": "read", "message_id": second, "typing_indicator": {"type": "text"}})
    chat = requests.get(f"{graph.sim_url}/_sim/chat", params={"wa_id": CUSTOMER}).json()
    by_id = {m["wamid"]: m for m in chat["messages"]}
    assert by_id[first]["status"] == by_id[second]["status"] == "read"
    assert 20 < chat["typing_seconds"] <= 25
    graph.text(CUSTOMER, "answer")
    chat = requests.get(f"{graph.sim_url}/_sim/chat", params={"wa_id": CUSTOMER}).json()
    assert chat["typing_seconds"] == 0


def test_webhook_failures_are_visible(receiver: Receiver) -> None:
    receiver.status = 500
    sim = start_in_thread(make_config(receiver.url))
    try:
        graph = Graph(sim)
        response = graph.customer(text="hi")
        assert response.status_code == 502
        assert response.json()["webhook"]["status"] == 500
    finally:
        sim.stop()
    sim = start_in_thread(make_config("http://127.0.0.1:9/webhooks/meta"))
    try:
        response = Graph(sim).customer(text="hi")
        assert response.status_code == 502
        webhook = response.json()["webhook"]
        assert webhook["status"] is None and "Connection" in webhook["error"]
    finally:
        sim.stop()
