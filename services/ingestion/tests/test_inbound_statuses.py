"""Delivery statuses through the signed HTTP route: each becomes one `message.status` for a message
we sent, statuses never move a message backwards, and a 131047 failure sends the template once."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from inbound_support import (
    CONTEXT_QUEUE,
    OUTBOUND_QUEUE,
    PHONE_NUMBER_ID,
    Json,
    load,
    of_type,
    personalise,
    statuses_of,
    take,
    tracked_status,
)


def sent_by_us(customer: str) -> tuple[str, str]:
    """Track an outbound message as the sender does; returns (wamid, request_id)."""
    from chalicelib.wiring import runtime

    wamid = f"wamid.OUT.{uuid.uuid4().hex}"
    request_id = uuid.uuid4().hex
    conversation = f"{PHONE_NUMBER_ID}:{customer}"
    runtime.store.track_outbound(request_id, wamid, conversation, "text", customer)
    return wamid, request_id


def status_webhook(fixture: str, customer: str, wamid: str) -> Json:
    payload = personalise(load(fixture), customer)
    for status in statuses_of(payload):
        status["id"] = wamid
    return payload


@pytest.mark.parametrize("status", ["sent", "delivered", "read", "played", "failed"])
def test_each_status_of_a_tracked_message_is_published(
    meta: Any, customer: str, status: str
) -> None:
    wamid, request_id = sent_by_us(customer)
    response = meta.post(status_webhook(f"status_{status}", customer, wamid))
    assert response.status_code == 200
    [event] = of_type(take(CONTEXT_QUEUE), "message.status")
    assert event["conversation"] == f"{PHONE_NUMBER_ID}:{customer}"
    p = event["payload"]
    assert (p["message_id"], p["status"], p["recipient"]) == (wamid, status, customer)
    assert p["request_id"] == request_id
    assert p["at"].startswith("2025-06-08T")
    assert tracked_status(wamid) == status


def test_failed_status_carries_its_errors(meta: Any, customer: str) -> None:
    wamid, _ = sent_by_us(customer)
    meta.post(status_webhook("status_failed_undeliverable", customer, wamid))
    [event] = of_type(take(CONTEXT_QUEUE), "message.status")
    assert event["payload"]["errors"] == [
        {"code": 131026, "title": "Message undeliverable", "details": "Message Undeliverable."}
    ]
    assert take(OUTBOUND_QUEUE) == []  # only 131047 calls for the template


def test_statuses_out_of_order_end_at_the_latest(meta: Any, customer: str) -> None:
    wamid, _ = sent_by_us(customer)
    for status in ("read", "sent", "delivered"):
        assert meta.post(status_webhook(f"status_{status}", customer, wamid)).status_code == 200
    published = of_type(take(CONTEXT_QUEUE), "message.status")
    assert [e["payload"]["status"] for e in published] == ["read"]
    assert tracked_status(wamid) == "read"


def test_failed_is_terminal(meta: Any, customer: str) -> None:
    wamid, _ = sent_by_us(customer)
    for status in ("sent", "failed_undeliverable", "delivered", "read"):
        meta.post(status_webhook(f"status_{status}", customer, wamid))
    published = of_type(take(CONTEXT_QUEUE), "message.status")
    assert [e["payload"]["status"] for e in published] == ["sent", "failed"]
    assert tracked_status(wamid) == "failed"


def test_repeated_status_is_published_once(meta: Any, customer: str) -> None:
    wamid, _ = sent_by_us(customer)
    payload = status_webhook("status_delivered", customer, wamid)
    meta.post(payload)
    again = meta.post(payload)
    assert again.json_body["duplicates"] == 1
    assert len(of_type(take(CONTEXT_QUEUE), "message.status")) == 1


def test_status_of_a_message_we_did_not_send_is_not_published(meta: Any, customer: str) -> None:
    payload = personalise(load("status_read"), customer)
    assert meta.post(payload).status_code == 200
    assert take(CONTEXT_QUEUE) == []


def test_re_engagement_failure_sends_the_fallback_template_once(meta: Any, customer: str) -> None:
    wamid, _ = sent_by_us(customer)
    payload = status_webhook("status_failed", customer, wamid)
    assert meta.post(payload).status_code == 200
    [reply] = take(OUTBOUND_QUEUE)
    assert reply["type"] == "reply.requested"
    assert reply["conversation"] == f"{PHONE_NUMBER_ID}:{customer}"
    p = reply["payload"]
    assert (p["kind"], p["to"], p["origin"]) == ("template", customer, "system")
    assert p["template"]["name"] == "parley_reengage"  # BusinessNumber's default
    assert p["template"]["language"] == "en_US"
    # The same failure again (a retry, or a second webhook subscriber) sends nothing more.
    other = personalise(load("status_failed"), customer)
    statuses_of(other)[0]["id"] = wamid
    meta.post(other)
    assert take(OUTBOUND_QUEUE) == []


def test_statuses_and_messages_in_one_post(meta: Any, customer: str) -> None:
    wamid, _ = sent_by_us(customer)
    payload = personalise(load("text"), customer)
    status = status_webhook("status_delivered", customer, wamid)
    value = payload["entry"][0]["changes"][0]["value"]
    value["statuses"] = statuses_of(status)
    response = meta.post(payload)
    assert (response.json_body["received"], response.json_body["statuses"]) == (1, 1)
    events = take(CONTEXT_QUEUE)
    assert sorted(e["type"] for e in events) == ["message.received", "message.status"]
