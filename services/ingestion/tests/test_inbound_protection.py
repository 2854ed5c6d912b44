"""Opt-out/opt-in keywords and the per-sender inbound rate limit, through the signed HTTP route."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from inbound_support import (
    CONTEXT_QUEUE,
    OUTBOUND_QUEUE,
    contact,
    load,
    messages_of,
    of_type,
    personalise,
    take,
)

from infra.local.service_contract import Service


def text_webhook(customer: str, body: str) -> dict[str, Any]:
    payload = personalise(load("text"), customer)
    messages_of(payload)[0]["text"]["body"] = body
    return payload


@pytest.mark.parametrize(
    ("word", "opted_out"),
    [("STOP", True), (" baja ", True), ("Stop.", True), ("START", False), ("alta", False)],
)
def test_opt_keywords_are_recorded_confirmed_and_not_forwarded(
    meta: Any, customer: str, word: str, opted_out: bool
) -> None:
    payload = text_webhook(customer, word)
    assert meta.post(payload).status_code == 200
    assert contact(customer)["opted_out"]["BOOL"] is opted_out
    assert of_type(take(CONTEXT_QUEUE), "message.received") == []  # not for the AI
    replies = [e["payload"] for e in take(OUTBOUND_QUEUE)]
    confirmations = [r for r in replies if r["kind"] == "text"]
    assert len(confirmations) == 1
    assert confirmations[0]["origin"] == "system"
    assert confirmations[0]["to"] == customer
    assert confirmations[0]["reply_to"] == messages_of(payload)[0]["id"]


def test_opt_out_then_in(meta: Any, customer: str) -> None:
    meta.post(text_webhook(customer, "STOP"))
    assert contact(customer)["opted_out"]["BOOL"] is True
    meta.post(text_webhook(customer, "START"))
    assert contact(customer)["opted_out"]["BOOL"] is False


def test_a_sentence_containing_stop_is_an_ordinary_message(meta: Any, customer: str) -> None:
    meta.post(text_webhook(customer, "please stop the order"))
    assert len(of_type(take(CONTEXT_QUEUE), "message.received")) == 1
    assert "opted_out" not in contact(customer)


@pytest.fixture
def tight_limit(service: Service, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """Burst 3, refilled at 1 a minute: the 4th quick message is over the limit."""
    from chalicelib.wiring import runtime

    monkeypatch.setenv("INBOUND_BURST", "3")
    monkeypatch.setenv("INBOUND_MESSAGES_PER_MINUTE", "1")
    runtime.reset()
    yield 3
    runtime.reset()


def test_excess_messages_are_recorded_not_forwarded_and_noticed_once(
    meta: Any, customer: str, tight_limit: int
) -> None:
    sent = [text_webhook(customer, f"mensaje {n}") for n in range(tight_limit + 4)]
    answers = [meta.post(payload) for payload in sent]
    assert all(a.status_code == 200 for a in answers)
    assert sum(a.json_body["rate_limited"] for a in answers) == 4
    forwarded = of_type(take(CONTEXT_QUEUE), "message.received")
    assert [e["payload"]["text"] for e in forwarded] == [f"mensaje {n}" for n in range(3)]
    replies = [e["payload"] for e in take(OUTBOUND_QUEUE)]
    notices = [r for r in replies if r["kind"] == "text"]
    assert len(notices) == 1 and notices[0]["origin"] == "system"
    assert [r["kind"] for r in replies].count("typing") == tight_limit
    assert [r["kind"] for r in replies].count("read") == 4  # received, not answered
    last = messages_of(sent[-1])[0]
    assert float(contact(customer)["last_inbound_at"]["N"]) == float(last["timestamp"])


def test_limit_is_per_sender(meta: Any, tight_limit: int) -> None:
    first, second = (f"1555{uuid.uuid4().int % 10**8:08d}" for _ in range(2))
    for _ in range(tight_limit):
        meta.post(text_webhook(first, "hola"))
    meta.post(text_webhook(second, "hola"))
    forwarded = of_type(take(CONTEXT_QUEUE), "message.received")
    assert [e["payload"]["wa_id"] for e in forwarded].count(second) == 1


def test_redis_down_fails_open(
    meta: Any, customer: str, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.wiring import runtime

    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    monkeypatch.setenv("INBOUND_BURST", "1")
    runtime.reset()
    for n in range(3):
        assert meta.post(text_webhook(customer, f"hola {n}")).status_code == 200
    assert len(of_type(take(CONTEXT_QUEUE), "message.received")) == 3
