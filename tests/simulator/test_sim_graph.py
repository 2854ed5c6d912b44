"""Fake Graph API: send kinds, Meta validation errors, auth, media round trip, faults, records."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import requests
from conftest import PHONE_ID, Graph

from infra.local.simulator import RunningSimulator

TO = "15551234567"
BUTTONS = {
    "type": "button",
    "body": {"text": "Pick one"},
    "action": {
        "buttons": [
            {"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
            {"type": "reply", "reply": {"id": "no", "title": "No"}},
        ]
    },
}
LIST = {
    "type": "list",
    "header": {"type": "text", "text": "Menu"},
    "body": {"text": "Choose"},
    "action": {
        "button": "Options",
        "sections": [{"title": "A", "rows": [{"id": "r1", "title": "Row 1", "description": "d"}]}],
    },
}
TEMPLATE = {
    "name": "order_update",
    "language": {"code": "en_US"},
    "components": [{"type": "body", "parameters": [{"type": "text", "text": "ORD-1"}]}],
}


def _upload(graph: Graph, data: bytes, mime: str, name: str = "f.bin") -> str:
    form = {"messaging_product": "whatsapp", "type": mime}
    files = {"file": (name, data, mime)}
    response = graph.session.post(f"{graph.base}/{PHONE_ID}/media", data=form, files=files)
    assert response.status_code == 200, response.text
    media_id: str = response.json()["id"]
    return media_id


def _send_bodies(media_id: str) -> list[dict[str, Any]]:
    return [
        {"type": "text", "text": {"body": "hi\nthere", "preview_url": False}},
        {"type": "interactive", "interactive": BUTTONS},
        {"type": "interactive", "interactive": LIST},
        {"type": "template", "template": TEMPLATE},
        {"type": "image", "image": {"id": media_id, "caption": "pic"}},
        {"type": "image", "image": {"link": "https://example.com/a.jpg"}},
        {"type": "audio", "audio": {"id": media_id}},
        {"type": "video", "video": {"link": "https://example.com/a.mp4"}},
        {"type": "document", "document": {"id": media_id, "filename": "a.pdf"}},
        {"type": "sticker", "sticker": {"link": "https://example.com/a.webp"}},
        {"type": "reaction", "reaction": {"message_id": "wamid.X", "emoji": "👍"}},
        {"type": "location", "location": {"latitude": 40.4, "longitude": -3.7, "name": "HQ"}},
        {"type": "contacts", "contacts": [{"name": {"formatted_name": "Ana"}}]},
        {"type": "text", "text": {"body": "quoted"}, "context": {"message_id": "wamid.Y"}},
    ]


def test_every_send_kind_is_accepted_with_meta_shape(graph: Graph) -> None:
    media_id = _upload(graph, b"\x89PNG fake", "image/png")
    for body in _send_bodies(media_id):
        response = graph.send({"to": "+" + TO, "recipient_type": "individual", **body})
        assert response.status_code == 200, (body, response.text)
        data = response.json()
        assert data["messaging_product"] == "whatsapp"
        assert data["contacts"] == [{"input": "+" + TO, "wa_id": TO}]
        assert data["messages"][0]["id"].startswith("wamid.")


def test_mark_read_and_typing_answer_success(graph: Graph) -> None:
    read = graph.send({"status": "read", "message_id": "wamid.ABC"})
    typing = graph.send(
        {"status": "read", "message_id": "wamid.ABC", "typing_indicator": {"type": "text"}}
    )
    assert read.json() == {"success": True} and typing.json() == {"success": True}
    kinds = [r["kind"] for r in requests.get(f"{graph.sim_url}/_sim/requests").json()["requests"]]
    assert kinds == ["read", "typing"]


def _button(i: int, title: str | None = None) -> dict[str, Any]:
    return {"type": "reply", "reply": {"id": f"b{i}", "title": title or f"Button {i}"}}


def _interactive_with(action: dict[str, Any], itype: str = "button") -> dict[str, Any]:
    interactive = {"type": itype, "body": {"text": "x"}, "action": action}
    return {"to": TO, "type": "interactive", "interactive": interactive}


def _rows(n: int) -> list[dict[str, Any]]:
    return [{"id": f"r{i}", "title": f"Row {i}"} for i in range(n)]


INVALID: list[dict[str, Any]] = [
    {"messaging_product": "sms", "to": TO, "type": "text", "text": {"body": "x"}},
    {"type": "text", "text": {"body": "x"}},
    {"to": "abc", "type": "text", "text": {"body": "x"}},
    {"to": TO, "type": "hologram"},
    {"to": TO, "type": "text", "text": {"body": ""}},
    {"to": TO, "type": "text", "text": {"body": "x" * 4097}},
    {"to": TO, "type": "text"},
    _interactive_with({"buttons": []}),
    _interactive_with({"buttons": [_button(i) for i in range(4)]}),
    _interactive_with({"buttons": [_button(1, "Same"), _button(2, "Same")]}),
    _interactive_with({"buttons": [_button(1, "x" * 21)]}),
    _interactive_with({"button": "Go", "sections": [{"title": "S", "rows": _rows(11)}]}, "list"),
    _interactive_with(
        {"button": "Go", "sections": [{"title": f"S{i}", "rows": _rows(1)} for i in range(11)]},
        "list",
    ),
    {"to": TO, "type": "image", "image": {"id": "999"}},
    {"to": TO, "type": "image", "image": {"link": "ftp://x", "id": "1"}},
    {"to": TO, "type": "audio", "audio": {"link": "https://a/b.ogg", "caption": "no"}},
    {"to": TO, "type": "template", "template": {"name": "t"}},
    {"to": TO, "type": "location", "location": {"latitude": 100, "longitude": 0}},
    {"to": TO, "type": "reaction", "reaction": {"emoji": "x"}},
]


@pytest.mark.parametrize("body", INVALID)
def test_invalid_bodies_get_meta_error_shape(graph: Graph, body: dict[str, Any]) -> None:
    response = graph.session.post(
        f"{graph.base}/{PHONE_ID}/messages", json={"messaging_product": "whatsapp", **body}
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] in (100, 131008, 131009)
    assert error["type"] == "OAuthException"
    assert error["message"].startswith(f"(#{error['code']})")
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert error["error_data"]["details"] and error["fbtrace_id"]


def test_wrong_or_missing_token_is_401_code_190(sim: RunningSimulator) -> None:
    url = f"{sim.graph_url}/{PHONE_ID}/messages"
    body = {"messaging_product": "whatsapp", "to": TO, "text": {"body": "x"}}
    for headers in ({"Authorization": "Bearer nope"}, {}):
        response = requests.post(url, json=body, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == 190
        assert response.json()["error"]["type"] == "OAuthException"


def test_unknown_phone_number_id_is_rejected(graph: Graph) -> None:
    response = graph.session.post(f"{graph.base}/123/messages", json={})
    assert response.status_code == 400 and response.json()["error"]["code"] == 100


def test_media_upload_metadata_download_round_trip(graph: Graph) -> None:
    data = b"%PDF-1.4 fake pdf bytes"
    media_id = _upload(graph, data, "application/pdf", "doc.pdf")
    meta = graph.session.get(f"{graph.base}/{media_id}").json()
    assert meta["id"] == media_id and meta["messaging_product"] == "whatsapp"
    assert meta["mime_type"] == "application/pdf" and meta["file_size"] == len(data)
    assert meta["sha256"] == hashlib.sha256(data).hexdigest()
    assert requests.get(meta["url"]).status_code == 401
    download = graph.session.get(meta["url"])
    assert download.status_code == 200 and download.content == data
    assert download.headers["Content-Type"].startswith("application/pdf")
    assert graph.session.get(f"{graph.base}/404404").json()["error"]["code"] == 100
    assert graph.session.delete(f"{graph.base}/{media_id}").json() == {"success": True}


def test_upload_rejects_unsupported_type_and_missing_file(graph: Graph) -> None:
    url = f"{graph.base}/{PHONE_ID}/media"
    bad = graph.session.post(
        url, data={"messaging_product": "whatsapp"}, files={"file": ("x.exe", b"MZ", "x/exe")}
    )
    missing = graph.session.post(url, data={"messaging_product": "whatsapp"})
    assert bad.status_code == 400 and missing.status_code == 400


@pytest.mark.parametrize(
    ("code", "status"), [(131047, 400), (130429, 429), (131026, 400), (131000, 500)]
)
def test_sync_fault_only_for_recipient_and_n_times(graph: Graph, code: int, status: int) -> None:
    victim, other = "15550000001", "15550000002"
    assert graph.fault(recipient=victim, code=code, times=2).status_code == 201
    assert graph.text(other).status_code == 200
    for _ in range(2):
        response = graph.text(victim)
        assert response.status_code == status
        error = response.json()["error"]
        assert error["code"] == code and error["error_data"]["details"]
    assert graph.text(victim).status_code == 200
    faults = requests.get(f"{graph.sim_url}/_sim/faults").json()["faults"]
    assert faults[0]["remaining"] == 0 and faults[0]["triggered"] == 2


def test_http_500_fault_and_fault_management(graph: Graph) -> None:
    victim = "15550000003"
    graph.fault(recipient=victim, http_status=500)
    response = graph.text(victim)
    assert response.status_code == 500 and "error" in response.json()
    assert graph.text(victim).status_code == 200
    graph.fault(recipient=victim, code=131047, times=None)
    assert [graph.text(victim).status_code for _ in range(3)] == [400, 400, 400]
    assert requests.delete(f"{graph.sim_url}/_sim/faults").json()["deleted"] == 2
    assert graph.text(victim).status_code == 200
    assert graph.fault(recipient=victim).status_code == 400


def test_requests_are_recorded_filtered_and_reset(graph: Graph) -> None:
    graph.text("15550000011", "one")
    graph.send({"to": "15550000012", "type": "template", "template": TEMPLATE})
    graph.text("bad")
    url = f"{graph.sim_url}/_sim/requests"
    records = requests.get(url).json()["requests"]
    assert len(records) == 3
    assert all("Bearer" not in str(r) and "test-access-token" not in str(r) for r in records)
    first = records[0]
    assert first["method"] == "POST" and first["path"].endswith("/messages")
    assert first["body"]["text"]["body"] == "one" and first["status"] == 200
    assert first["response"]["messages"][0]["id"].startswith("wamid.")
    assert records[2]["status"] == 400 and records[2]["response"]["error"]["code"] == 100
    only = requests.get(url, params={"to": "15550000012"}).json()["requests"]
    assert [r["kind"] for r in only] == ["template"]
    assert len(requests.get(url, params={"kind": "text"}).json()["requests"]) == 1
    requests.post(f"{graph.sim_url}/_sim/reset")
    assert requests.get(url).json()["count"] == 0
