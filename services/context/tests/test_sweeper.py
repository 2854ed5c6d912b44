"""The every-minute sweeper (`handlers.sweep_sessions(now)`, the schedule's entry point): late
turns are requested again once then handed off, media that waited too long is released, idle
sessions are closed. Published events are read from the topic's escalation.fifo subscription."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from context_support import Driver, at, completed, new_conversation, received, texts


def sweep(now: datetime) -> dict[str, int]:
    from chalicelib.handlers import sweep_sessions

    return sweep_sessions(now)


def test_a_late_turn_is_requested_again_once_then_handed_off(ctx: Driver) -> None:
    c = new_conversation()
    ctx.apply(received(c, "m0", at(0), "¿hay alguien?"))
    first = ctx.one_turn(c)
    start = datetime.now(UTC)
    sweep(start + timedelta(seconds=60))
    assert ctx.turns(c, wait=0.3) == []  # not late yet (TURN_TIMEOUT_SECONDS = 120)

    report = sweep(start + timedelta(seconds=121))
    again = ctx.one_turn(c)
    assert report["re_requested"] >= 1
    assert again["payload"]["turn_id"] == first["payload"]["turn_id"]
    assert again["payload"]["attempt"] == 2 and again["event_id"] != first["event_id"]
    assert texts(again["payload"]["messages"]) == ["¿hay alguien?"]

    sweep(start + timedelta(seconds=200))
    assert ctx.turns(c, wait=0.3) == []  # the second attempt has its own deadline
    report = sweep(start + timedelta(seconds=121 + 121))
    assert report["handed_off"] >= 1
    assert ctx.turns(c, wait=0.3) == []
    [handoff] = ctx.published(c, "handoff.requested")
    assert handoff["payload"]["reason"] == "turn_timeout"
    assert handoff["payload"]["turn_id"] == first["payload"]["turn_id"]
    session = ctx.session(c)
    assert (session.mode, session.turn) == ("pending_human", None)

    sweep(start + timedelta(seconds=600))
    assert ctx.published(c, "handoff.requested") == [handoff]  # once
    assert ctx.turns(c, wait=0.3) == []


def test_a_late_answer_after_the_retry_is_still_stored(ctx: Driver) -> None:
    c = new_conversation()
    ctx.apply(received(c, "m0", at(0), "hola"))
    first = ctx.one_turn(c)
    sweep(datetime.now(UTC) + timedelta(seconds=121))
    ctx.one_turn(c)
    ctx.apply(completed(first, at(1), "¡Hola!"))
    session = ctx.session(c)
    assert (session.turn, session.unanswered, session.mode) == (None, [], "bot")
    assert [m.role for m in ctx.history(c)] == ["customer", "bot"]


def test_media_that_waited_too_long_is_marked_unavailable_and_the_turn_goes_out(
    ctx: Driver,
) -> None:
    c = new_conversation()
    ctx.apply(received(c, "doc", at(0), "mi factura", kind="document"))
    assert ctx.turns(c, wait=0.3) == []
    report = sweep(datetime.now(UTC) + timedelta(seconds=61))
    assert report["media_released"] >= 1 and report["turns_requested"] >= 1
    [doc] = ctx.one_turn(c)["payload"]["messages"]
    assert doc["text"] == "mi factura"
    assert doc["media_note"] == "[document unavailable: its content could not be read]"
    assert ctx.history(c)[0].media_status == "unavailable"


def test_an_idle_session_is_closed_and_a_new_message_reopens_it(ctx: Driver) -> None:
    c = new_conversation()
    ctx.apply(received(c, "m0", at(0), "hola"))
    ctx.apply(completed(ctx.one_turn(c), at(1), "¡Hola!"))
    sweep(datetime.now(UTC) + timedelta(hours=23))
    assert not ctx.session(c).closed and ctx.published(c, "session.closed") == []

    sweep(datetime.now(UTC) + timedelta(hours=24, minutes=1))
    session = ctx.session(c)
    assert session.closed
    [closed] = ctx.published(c, "session.closed")
    assert closed["payload"]["reason"] == "idle"
    from chalicelib.wiring import runtime

    assert c not in {s.conversation for s in runtime.dynamo_sessions.open_sessions()}

    ctx.apply(received(c, "m1", at(90_000), "¿sigues ahí?"))
    assert texts(ctx.one_turn(c)["payload"]["messages"]) == ["¿sigues ahí?"]
    assert not ctx.session(c).closed
    assert c in {s.conversation for s in runtime.dynamo_sessions.open_sessions()}


def held(
    conversation: str, message_id: str, sent: datetime, text: str, until: datetime
) -> dict[str, Any]:
    event: dict[str, Any] = received(conversation, message_id, sent, text)
    event["payload"]["hold_until"] = until.isoformat()
    return event


def test_messages_over_the_rate_limit_are_answered_together_after_the_hold(ctx: Driver) -> None:
    c = new_conversation()
    now = datetime.now(UTC)
    ctx.apply(received(c, "m0", at(0), "hola"))
    first = ctx.one_turn(c)
    ctx.apply(held(c, "m1", at(1), "una pregunta", now + timedelta(seconds=60)))
    ctx.apply(held(c, "m2", at(2), "¿cuánto cuesta?", now + timedelta(seconds=61)))
    ctx.apply(completed(first, at(3), "¡Hola!"))
    assert ctx.turns(c, wait=0.3) == []  # held: recorded, not answered yet

    sweep(now + timedelta(seconds=30))
    assert ctx.turns(c, wait=0.3) == []

    report = sweep(now + timedelta(seconds=62))
    later = ctx.one_turn(c)
    assert report["turns_requested"] >= 1
    assert texts(later["payload"]["messages"]) == ["una pregunta", "¿cuánto cuesta?"]
    assert ctx.session(c).hold_until is None
