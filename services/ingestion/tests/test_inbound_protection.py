"""Opt-out/opt-in keywords and the per-sender inbound rate limit, through the signed HTTP route."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
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
from parley.business_profile import load_profile


def text_webhook(customer: str, body: str) -> dict[str, Any]:
    payload = personalise(load("text"), customer)
    messages_of(payload)[0]["text"]["body"] = body
    return payload


@pytest.mark.parametrize(
    ("word", "opted_out", "undo"),
    [
        ("STOP", True, "START"),
        (" baja ", True, "ALTA"),
        ("Stop.", True, "START"),
        ("START", False, "STOP"),
        ("alta", False, "BAJA"),
    ],
)
def test_opt_keywords_are_recorded_confirmed_and_not_forwarded(
    meta: Any, customer: str, word: str, opted_out: bool, undo: str
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
    # In the keyword's language, naming the keyword that undoes it.
    assert undo in confirmations[0]["text"]


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


def test_excess_messages_are_held_for_a_later_answer_and_noticed_once(
    meta: Any, customer: str, tight_limit: int
) -> None:
    from chalicelib.inbound.processor import RATE_LIMIT_HOLD_SECONDS

    sent = [text_webhook(customer, f"mensaje {n}") for n in range(tight_limit + 4)]
    answers = [meta.post(payload) for payload in sent]
    assert all(a.status_code == 200 for a in answers)
    assert sum(a.json_body["rate_limited"] for a in answers) == 4
    forwarded = of_type(take(CONTEXT_QUEUE), "message.received")
    # Every message is recorded (the notice promises an answer to what was sent); the ones over
    # the limit carry the time from which context may answer them.
    assert [e["payload"]["text"] for e in forwarded] == [f"mensaje {n}" for n in range(7)]
    assert [e["payload"]["hold_until"] is None for e in forwarded] == [True] * 3 + [False] * 4
    held = datetime.fromisoformat(forwarded[-1]["payload"]["hold_until"])
    sent_at = datetime.fromisoformat(forwarded[-1]["payload"]["sent_at"])
    assert (held - sent_at).total_seconds() >= RATE_LIMIT_HOLD_SECONDS
    replies = [e["payload"] for e in take(OUTBOUND_QUEUE)]
    notices = [r for r in replies if r["kind"] == "text"]
    assert len(notices) == 1 and notices[0]["origin"] == "system"
    assert [r["kind"] for r in replies].count("typing") == tight_limit
    assert [r["kind"] for r in replies].count("read") == 4  # received, not answered
    last = messages_of(sent[-1])[0]
    assert float(contact(customer)["last_inbound_at"]["N"]) == float(last["timestamp"])


@pytest.mark.parametrize(
    ("text", "language"),
    [("hola, ¿me pueden ayudar con la solicitud?", "es"), ("hi, can you help me?", "en")],
)
def test_the_rate_limit_notice_is_in_the_language_the_customer_writes(
    meta: Any, customer: str, tight_limit: int, text: str, language: str
) -> None:
    for _ in range(tight_limit + 2):
        meta.post(text_webhook(customer, text))
    notices = [e["payload"] for e in take(OUTBOUND_QUEUE) if e["payload"]["kind"] == "text"]
    assert [n["text"] for n in notices] == [load_profile().say("ingestion.rate_limited", language)]


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
