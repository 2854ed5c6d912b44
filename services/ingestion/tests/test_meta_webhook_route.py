"""The Meta webhook route over HTTP: verification handshake, what is refused and how, and
exactly-once under concurrent redelivery. Bad input must publish nothing and crash nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from chalice.test import Client
from inbound_support import (
    CONTEXT_QUEUE,
    MEDIA_QUEUE,
    OUTBOUND_QUEUE,
    VERIFY_TOKEN,
    encode,
    headers,
    load,
    of_type,
    personalise,
    sign,
    take,
)

from infra.local.pytest_fixtures import free_port
from infra.local.service_contract import Service


def nothing_published() -> bool:
    return (
        take(CONTEXT_QUEUE) == []
        and take(MEDIA_QUEUE, wait=0) == []
        and (take(OUTBOUND_QUEUE, wait=0) == [])
    )


# --- GET verification ------------------------------------------------------------------------


def test_verification_echoes_the_challenge_as_plain_text(client: Client) -> None:
    query = f"hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444"
    response = client.http.get(f"/webhooks/meta?{query}")
    assert response.status_code == 200
    assert response.body == b"1158201444"
    assert response.headers["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "query",
    [
        "hub.mode=subscribe&hub.verify_token=wrong-token&hub.challenge=1158201444",
        f"hub.mode=unsubscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444",
        f"hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}",
        "",
    ],
    ids=["wrong-token", "wrong-mode", "no-challenge", "no-parameters"],
)
def test_verification_is_refused_with_403(client: Client, query: str) -> None:
    response = client.http.get(f"/webhooks/meta?{query}" if query else "/webhooks/meta")
    assert response.status_code == 403
    assert response.json_body["error"] == "forbidden"
    assert b"1158201444" not in response.body


# --- POST refusals -----------------------------------------------------------------------------


def test_wrong_signature_is_401_and_has_no_side_effect(meta: Any, customer: str) -> None:
    raw = encode(personalise(load("text"), customer))
    response = meta.post_raw(raw, headers(raw, **{"X-Hub-Signature-256": sign(raw, "not-it")}))
    assert response.status_code == 401
    assert response.json_body["error"] == "unauthorized"
    assert nothing_published()
    # The message was not claimed: Meta's correctly signed delivery is still processed.
    assert meta.post(raw).status_code == 200
    assert len(of_type(take(CONTEXT_QUEUE), "message.received")) == 1


@pytest.mark.parametrize(
    "signature",
    [None, "sha1=abc", "sha256=", "sha256=zz", "sha256=é"],
    ids=["missing", "other-algorithm", "empty", "not-hex", "non-ascii"],
)
def test_missing_or_malformed_signature_is_401(
    meta: Any, customer: str, signature: str | None
) -> None:
    raw = encode(personalise(load("text"), customer))
    request_headers = {"Content-Type": "application/json"}
    if signature is not None:
        request_headers["X-Hub-Signature-256"] = signature
    assert meta.post_raw(raw, request_headers).status_code == 401
    assert nothing_published()


def test_body_signed_then_altered_is_401(meta: Any, customer: str) -> None:
    raw = encode(personalise(load("text"), customer))
    tampered = raw.replace(b"Hola", b"Hack")
    assert meta.post_raw(tampered, headers(raw)).status_code == 401
    assert nothing_published()


@pytest.mark.parametrize(
    "raw",
    [b"this is not json", b'{"object": "whatsapp_business_account", "entry": [', b"", b"\xff\xfe"],
    ids=["not-json", "truncated", "empty", "not-utf8"],
)
def test_body_that_is_not_json_is_400(meta: Any, raw: bytes) -> None:
    response = meta.post_raw(raw, headers(raw))
    assert response.status_code == 400
    assert response.json_body["error"] == "invalid_input"
    assert nothing_published()


def test_5_mb_body_is_413_before_anything_else(meta: Any, customer: str) -> None:
    payload = personalise(load("text"), customer)
    payload["padding"] = "x" * (5 * 1024 * 1024)
    raw = encode(payload)
    response = meta.post_raw(raw, headers(raw))
    assert response.status_code == 413
    assert response.json_body["error"] == "payload_too_large"
    unsigned = meta.post_raw(raw, {"Content-Type": "application/json"})
    assert unsigned.status_code == 413  # the size is checked before the signature
    assert nothing_published()


@pytest.mark.parametrize(
    "payload",
    [
        {"object": "page", "entry": [{"id": "1", "changes": []}]},
        {"object": "instagram", "entry": []},
        {"entry": []},
        ["whatsapp_business_account"],
        "whatsapp_business_account",
        {"object": "whatsapp_business_account", "entry": []},
        {"object": "whatsapp_business_account"},
        {"object": "whatsapp_business_account", "entry": "not-a-list"},
        {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [1, 2]}]},
    ],
    ids=[
        "page-object",
        "instagram-object",
        "no-object",
        "json-array",
        "json-string",
        "empty-entry",
        "no-entry",
        "entry-not-a-list",
        "malformed-changes",
    ],
)
def test_valid_json_that_is_not_a_whatsapp_notification_is_200_and_ignored(
    meta: Any, payload: Any
) -> None:
    response = meta.post(payload)
    assert response.status_code == 200
    assert response.json_body["status"] == "ignored"
    assert nothing_published()


def test_fields_other_than_messages_are_acknowledged_and_ignored(meta: Any) -> None:
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "message_template_status_update",
                        "value": {"event": "APPROVED", "message_template_name": "parley"},
                    }
                ],
            }
        ],
    }
    response = meta.post(payload)
    assert response.status_code == 200
    assert nothing_published()


def test_value_errors_only_is_acknowledged_without_events(meta: Any) -> None:
    response = meta.post(load("value_errors"))
    assert response.status_code == 200
    assert response.json_body["status"] == "processed"
    assert nothing_published()


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_other_content_types_are_415(meta: Any, customer: str, content_type: str) -> None:
    raw = encode(personalise(load("text"), customer))
    response = meta.post_raw(raw, headers(raw, **{"Content-Type": content_type}))
    assert response.status_code == 415
    assert nothing_published()


def test_json_content_type_with_charset_is_accepted(meta: Any, customer: str) -> None:
    raw = encode(personalise(load("text"), customer))
    request_headers = headers(raw, **{"Content-Type": "application/json; charset=utf-8"})
    assert meta.post_raw(raw, request_headers).status_code == 200


# --- exactly once --------------------------------------------------------------------------------


@pytest.fixture
def http_server(service: Service) -> Iterator[str]:
    """The app behind Chalice's threaded local server (as `chalice local` and the runner serve
    it), so requests really run concurrently."""
    from chalice.cli.factory import CLIFactory
    from chalice.local import create_local_server

    original_class = service.app.__class__
    config = CLIFactory(str(service.directory)).create_config_obj(
        chalice_stage_name="contract-test"
    )
    port = free_port()
    server = create_local_server(service.app, config, "127.0.0.1", port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/webhooks/meta"
    server.shutdown()
    service.app.__class__ = original_class


def test_same_webhook_delivered_5_times_concurrently_gives_one_message_received(
    http_server: str, queues: None, customer: str
) -> None:
    payload = personalise(load("image"), customer)
    raw = encode(payload)
    barrier = threading.Barrier(5)

    def deliver(_: int) -> int:
        barrier.wait()
        return requests.post(http_server, data=raw, headers=headers(raw), timeout=30).status_code

    with ThreadPoolExecutor(max_workers=5) as pool:
        statuses = list(pool.map(deliver, range(5)))
    # One delivery processes the message; the others are duplicates (200) or, while the first
    # still holds its claim, asked to come back (503): Meta retries those, nothing is dropped.
    assert statuses.count(200) >= 1 and set(statuses) <= {200, 503}, statuses
    for _ in range(statuses.count(503)):
        assert (
            requests.post(http_server, data=raw, headers=headers(raw), timeout=30).status_code
            == 200
        )
    received = of_type(take(CONTEXT_QUEUE, wait=1.0), "message.received")
    assert [e["payload"]["message_id"] for e in received] == [payload_id(payload)]
    assert len(take(MEDIA_QUEUE)) == 1
    typing = [e for e in take(OUTBOUND_QUEUE) if e["payload"]["kind"] == "typing"]
    assert len(typing) == 1


def test_sequential_redelivery_is_deduplicated(meta: Any, customer: str) -> None:
    payload = personalise(load("text"), customer)
    first = meta.post(payload)
    again = meta.post(payload)
    assert first.status_code == again.status_code == 200
    assert again.json_body["duplicates"] == 1
    assert len(of_type(take(CONTEXT_QUEUE), "message.received")) == 1


def payload_id(payload: dict[str, Any]) -> str:
    return str(payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"])
