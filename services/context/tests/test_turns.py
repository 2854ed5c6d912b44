"""When the sequencer asks the AI for a turn, and what the turn holds: bursts, handoff modes,
media, delivery statuses — all through the app's SQS handler, turns read from turns.fifo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from context_support import (
    Driver,
    agent_message,
    at,
    completed,
    handoff,
    media_processed,
    new_conversation,
    received,
    status,
    texts,
)


def test_first_message_requests_a_turn_with_the_conversation_facts(ctx: Driver) -> None:
    c = new_conversation()
    ctx.apply(received(c, "m0", at(0), "Hola, tengo un problema"))
    turn = ctx.one_turn(c)
    p = turn["payload"]
    assert turn["type"] == "turn.requested" and turn["conversation"] == c
    assert texts(p["messages"]) == ["Hola, tengo un problema"]
    assert p["attempt"] == 1 and p["history"] == []
    assert p["session"]["profile_name"] == "Ana"
    assert p["session"]["window_expires_at"].startswith("2025-03-02T12:00:00")
    deadline = datetime.fromisoformat(p["deadline"])
    assert timedelta(seconds=100) < deadline - datetime.now(UTC) <= timedelta(seconds=120)
    session = ctx.session(c)
    assert session.turn.turn_id == p["turn_id"] and session.unanswered == ["m0"]


def test_burst_while_a_turn_is_in_flight_gets_exactly_one_next_turn(ctx: Driver) -> None:
    c = new_conversation()
    ctx.apply(received(c, "m0", at(0), "hola"))
    first = ctx.one_turn(c)
    for n, text in enumerate(["tengo un problema", "pedido 123", "no llegó"], start=1):
        ctx.apply(received(c, f"m{n}", at(10 + n * 0.1), text))  # within 300 ms
    assert ctx.turns(c, wait=0.3) == []
    ctx.apply(completed(first, at(11), "¡Hola! ¿En qué puedo ayudarte?"))
    second = ctx.one_turn(c)
    assert texts(second["payload"]["messages"]) == ["tengo un problema", "pedido 123", "no llegó"]
    assert [m["text"] for m in second["payload"]["history"]] == [
        "hola",
        "¡Hola! ¿En qué puedo ayudarte?",
    ]
    ctx.apply(completed(second, at(12), "Lo reviso."))
    assert ctx.turns(c, wait=0.3) == []
    assert ctx.session(c).unanswered == [] and ctx.session(c).turn is None


def test_human_mode_emits_no_turn_and_bot_mode_resumes_with_the_agents_messages(
    ctx: Driver,
) -> None:
    c = new_conversation()
    ctx.apply(received(c, "m0", at(0), "quiero hablar con una persona"))
    ctx.apply(completed(ctx.one_turn(c), at(1), "Te paso con un agente."))
    ctx.apply(handoff(c, "requested", at(2)))
    ctx.apply(received(c, "m1", at(3), "¿hola?"))
    assert ctx.turns(c, wait=0.3) == []
    ctx.apply(handoff(c, "accepted", at(4)))
    assert ctx.session(c).mode == "human"
    ctx.apply(agent_message(c, "agent-msg-1", "Soy Laura, ya lo he resuelto.", at(5)))
    ctx.apply(received(c, "m2", at(6), "gracias Laura"))
    assert ctx.turns(c, wait=0.3) == []
    ctx.apply(handoff(c, "resolved", at(7)))
    assert ctx.turns(c, wait=0.3) == []  # nothing waits for the bot: the agent answered
    ctx.apply(received(c, "m3", at(8), "una pregunta más"))
    turn = ctx.one_turn(c)
    assert texts(turn["payload"]["messages"]) == ["una pregunta más"]
    history = turn["payload"]["history"]
    assert {"role": "agent", "text": "Soy Laura, ya lo he resuelto."}.items() <= next(
        m for m in history if m["role"] == "agent"
    ).items()
    assert texts(history)[-2:] == ["Soy Laura, ya lo he resuelto.", "gracias Laura"]
    stored = ctx.history(c)
    roles = ["customer", "bot", "customer", "agent", "customer", "customer"]
    assert [m.role for m in stored] == roles


def test_pending_media_holds_the_turn_until_processed(ctx: Driver) -> None:
    c = new_conversation()
    ctx.apply(received(c, "img", at(0), None, kind="image"))
    ctx.apply(received(c, "m1", at(1), "¿qué ves en la foto?"))
    assert ctx.turns(c, wait=0.3) == []
    ctx.apply(media_processed(c, "img", at(2), "ok", text="TOTAL 42,00 EUR"))
    turn = ctx.one_turn(c)
    image, question = turn["payload"]["messages"]
    assert image["kind"] == "image" and "TOTAL 42,00 EUR" in image["media_note"]
    assert question["text"] == "¿qué ves en la foto?"
    assert ctx.history(c)[0].media_status == "ok"


def test_media_past_the_wait_is_marked_unavailable_on_the_next_event(
    ctx: Driver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.wiring import runtime

    now = [datetime.now(UTC)]
    runtime.override(clock=lambda: now[0])
    c = new_conversation()
    ctx.apply(received(c, "voice", at(0), None, kind="audio"))
    assert ctx.turns(c, wait=0.3) == []
    now[0] += timedelta(seconds=61)  # MEDIA_WAIT_SECONDS defaults to 60
    ctx.apply(received(c, "m1", at(61), "¿me oyes?"))
    voice, text = ctx.one_turn(c)["payload"]["messages"]
    assert voice["media_note"] == "[audio unavailable: its content could not be read]"
    assert text["text"] == "¿me oyes?"
    assert ctx.history(c)[0].media_status == "unavailable"


def test_reactions_are_stored_but_not_answered(ctx: Driver) -> None:
    c = new_conversation()
    ctx.apply(received(c, "m0", at(0), "hola"))
    ctx.apply(completed(ctx.one_turn(c), at(1), "¡Hola!"))
    reaction = received(c, "r1", at(2), None, kind="reaction")
    reaction["payload"]["reaction"] = {"message_id": "wamid.out", "emoji": "👍"}
    ctx.apply(reaction)
    assert ctx.turns(c, wait=0.3) == []
    assert ctx.history(c)[-1].text == "Reacted 👍 to wamid.out"


def test_delivery_status_of_the_bot_reply_never_moves_backwards(ctx: Driver) -> None:
    c = new_conversation()
    ctx.apply(received(c, "m0", at(0), "hola"))
    turn = ctx.one_turn(c)
    ctx.apply(completed(turn, at(1), "¡Hola!"))
    request_id = f"turn:{turn['payload']['turn_id']}"
    ctx.apply(status(c, request_id, "sent", at(2)), status(c, request_id, "read", at(4)))
    ctx.apply(status(c, request_id, "delivered", at(3)))  # late
    reply = ctx.history(c)[-1]
    assert (reply.message_id, reply.role, reply.delivery_status) == (request_id, "bot", "read")
    from chalicelib.wiring import runtime

    assert runtime.history.recent(c, 5)[-1].delivery_status == "read"  # the cached copy too


def test_a_receipt_for_a_recent_reply_costs_one_dynamodb_write(ctx: Driver) -> None:
    from parley import aws

    c = new_conversation()
    ctx.apply(received(c, "m0", at(0), "hola"))
    turn = ctx.one_turn(c)
    ctx.apply(completed(turn, at(1), "¡Hola!"))
    calls: list[str] = []

    def hook(model: Any, **_: Any) -> None:
        calls.append(model.name)

    events = aws.client("dynamodb").meta.events
    events.register("before-call.dynamodb.*", hook)
    try:
        ctx.apply(status(c, f"turn:{turn['payload']['turn_id']}", "delivered", at(2)))
    finally:
        events.unregister("before-call.dynamodb.*", hook)
    assert calls == ["UpdateItem"]  # the sort key came from the cached window, not a read
    assert ctx.history(c)[-1].delivery_status == "delivered"


def test_turn_completed_with_handoff_stops_turns(ctx: Driver) -> None:
    c = new_conversation()
    ctx.apply(received(c, "m0", at(0), "esto es urgente"))
    ctx.apply(completed(ctx.one_turn(c), at(1), "Te paso con un agente.", handoff=True))
    ctx.apply(received(c, "m1", at(2), "¿sigues ahí?"))
    assert ctx.turns(c, wait=0.3) == []
    assert ctx.session(c).mode == "pending_human"


def test_low_confidence_answers_are_counted_in_a_streak(ctx: Driver) -> None:
    c = new_conversation()
    ctx.apply(received(c, "m0", at(0), "¿?"))
    ctx.apply(
        completed(ctx.one_turn(c), at(1), "No estoy seguro.", confidence=0.2, low_confidence=True)
    )
    ctx.apply(received(c, "m1", at(2), "¿??"))
    turn = ctx.one_turn(c)
    assert turn["payload"]["session"]["low_confidence_streak"] == 1
    ctx.apply(completed(turn, at(3), "Ahora sí.", confidence=0.95, low_confidence=False))
    assert ctx.session(c).low_confidence_streak == 0


def test_a_turn_completed_redelivered_later_changes_nothing_twice(ctx: Driver) -> None:
    c = new_conversation()
    ctx.apply(received(c, "m0", at(0), "¿?"))
    done = completed(
        ctx.one_turn(c), at(1), "No estoy seguro.", confidence=0.2, low_confidence=True
    )
    ctx.apply(done)
    ctx.apply(received(c, "m1", at(2), "¿??"))
    in_flight = ctx.session(c).turn
    ctx.apply(done)  # the same event again, after a later message (no ledger for this type)
    session = ctx.session(c)
    assert session.low_confidence_streak == 1
    assert session.turn == in_flight and session.unanswered == ["m1"]
    assert session.message_count == 3
    assert [m.text for m in ctx.history(c)] == ["¿?", "No estoy seguro.", "¿??"]


def test_a_malformed_event_is_parked_and_never_blocks_other_conversations(
    ctx: Driver,
) -> None:
    c = new_conversation()
    bad = received(new_conversation(), "x", at(0))
    bad["payload"]["kind"] = "hologram"
    result = ctx.invoke([bad, "{not json", received(c, "m0", at(0), "hola")])
    assert result == {"batchItemFailures": []}
    assert texts(ctx.one_turn(c)["payload"]["messages"]) == ["hola"]


def test_the_same_message_under_another_event_id_is_stored_once(ctx: Driver) -> None:
    c = new_conversation()
    first = received(c, "m0", at(0), "hola")
    ctx.apply(first)
    turn = ctx.one_turn(c)
    ctx.apply(completed(turn, at(1), "¡Hola!"))
    again = {**first, "event_id": "another-" + first["event_id"]}
    ctx.apply(again)
    assert ctx.turns(c, wait=0.3) == []
    assert [m.message_id for m in ctx.history(c)] == ["m0", f"turn:{turn['payload']['turn_id']}"]


def test_an_agent_message_shows_its_delivery_status_and_a_failed_send_stays_failed(
    ctx: Driver,
) -> None:
    c = new_conversation()
    ctx.apply(received(c, "m0", at(0), "quiero hablar con una persona"))
    ctx.apply(handoff(c, "requested", at(1)), handoff(c, "accepted", at(2)))
    ctx.apply(agent_message(c, "agent-msg-9", "Hola, soy Ana", at(3)))
    ctx.apply(status(c, "agent-msg-9", "sent", at(4)))
    failed = status(c, "agent-msg-9", "failed", at(5))
    failed["payload"]["errors"] = [{"code": 131047, "title": "Re-engagement message"}]
    ctx.apply(failed)
    ctx.apply(status(c, "agent-msg-9", "delivered", at(6)))  # a late receipt changes nothing
    sent = next(m for m in ctx.history(c) if m.message_id == "agent-msg-9")
    assert (sent.role, sent.delivery_status) == ("agent", "failed")


def test_media_the_customer_was_already_told_about_needs_no_bot_answer(ctx: Driver) -> None:
    c = new_conversation()
    ctx.apply(received(c, "bad", at(0), None, kind="image"))
    told = media_processed(c, "bad", at(1), "rejected")
    told["payload"]["customer_told"] = True
    ctx.apply(told)
    assert ctx.turns(c, wait=0.3) == []  # the media service answered honestly
    ctx.apply(received(c, "m1", at(2), "ok, te lo escribo: ¿cuándo es la fecha límite?"))
    [question] = ctx.one_turn(c)["payload"]["messages"]
    assert question["message_id"] == "m1"
