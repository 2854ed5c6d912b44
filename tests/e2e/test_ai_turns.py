"""The customer's experience end to end over `make run`'s stack (infra/local/devstack.py on free
ports): a message into the WhatsApp simulator -> ingestion webhook -> context -> turns.fifo ->
ai_processing (local provider, demo knowledge base) -> outbound.fifo -> ingestion -> the reply
recorded by the simulator; a request for a person -> handoff.requested on escalation.fifo."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import pytest
from e2e_support import wait_for_index

from infra.local.devstack import DevStack
from infra.local.probes import subscribe_probe_queue

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def indexed_stack(stack: DevStack) -> DevStack:
    wait_for_index(stack)
    return stack


def _post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.loads(response.read()))


def _get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return dict(json.loads(response.read()))


def _sends(stack: DevStack, wa_id: str) -> list[dict[str, Any]]:
    found = _get(f"{stack.simulator_url}/_sim/requests?to={wa_id}")["requests"]
    return [dict(r) for r in found if _message_text(r)]


def _next_reply(stack: DevStack, wa_id: str, before: int, what: str, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sends = _sends(stack, wa_id)
        if len(sends) > before:
            return sends[-1]
        time.sleep(0.3)
    raise AssertionError(f"no reply to {what!r} within {timeout}s")


def _reply_to(stack: DevStack, wa_id: str, text: str, timeout: float = 45.0) -> dict[str, Any]:
    before = len(_sends(stack, wa_id))
    _post(f"{stack.simulator_url}/_sim/customer/messages", {"from": wa_id, "text": text})
    reply: dict[str, Any] = _next_reply(stack, wa_id, before, text, timeout)
    return reply


def _tap(stack: DevStack, wa_id: str, request: dict[str, Any], title: str) -> dict[str, Any]:
    """The customer taps the reply button `title` of the business message `request`."""
    buttons = request["body"]["interactive"]["action"]["buttons"]
    [button] = [b["reply"] for b in buttons if b["reply"]["title"] == title]
    wamid = request["response"]["messages"][0]["id"]
    before = len(_sends(stack, wa_id))
    tap = {"from": wa_id, "type": "interactive", "reply_to": wamid, "button_id": button["id"]}
    _post(f"{stack.simulator_url}/_sim/customer/messages", {**tap, "text": title})
    reply: dict[str, Any] = _next_reply(stack, wa_id, before, title, 45.0)
    return reply


def _buttons(request: dict[str, Any]) -> list[str]:
    interactive = (request.get("body") or {}).get("interactive") or {}
    return [b["reply"]["title"] for b in (interactive.get("action") or {}).get("buttons", [])]


def _message_text(request: dict[str, Any]) -> str:
    body = request.get("body") or request.get("payload") or request
    if not isinstance(body, dict):
        return ""
    if isinstance(body.get("text"), dict):
        return str(body["text"].get("body", ""))
    interactive = body.get("interactive")
    if isinstance(interactive, dict):
        return str((interactive.get("body") or {}).get("text", ""))
    return ""


def test_fall_deadline_is_answered_in_english_from_the_calendar(indexed_stack: DevStack) -> None:
    wa_id = "15551230001"
    first = _reply_to(indexed_stack, wa_id, "When is the fall application deadline?")
    # The calendar has first-year and transfer fall deadlines: the bot asks which, with buttons.
    assert _buttons(first) == ["Undergraduate", "Transfer"], _message_text(first)
    reply = _message_text(_tap(indexed_stack, wa_id, first, "Undergraduate"))
    assert "deadlines-and-calendar.md" in reply
    # The first-year deadlines (Regular Decision), not the transfer or graduate ones.
    assert "Regular Decision" in reply and "February 1, 2027" in reply
    assert "June 1" not in reply and "May 15" not in reply
    assert "Source" in reply


def test_tuition_question_in_spanish_is_answered_in_spanish(indexed_stack: DevStack) -> None:
    reply = _message_text(_reply_to(indexed_stack, "15551230002", "¿Cuánto cuesta la matrícula?"))
    assert "Fuente" in reply
    assert ".md" in reply
    assert "$" in reply


def _observe_handoffs(stack: DevStack) -> str:
    """A queue of our own subscribed to the topic for handoff.requested: the escalation service
    consumes escalation.fifo itself, so the test watches the same events on a second queue."""
    return subscribe_probe_queue(
        stack.client("sqs"), stack.client("sns"), "e2e-handoffs.fifo", ["handoff.requested"]
    )


def test_asking_for_a_person_publishes_handoff_requested(indexed_stack: DevStack) -> None:
    wa_id = "15551230003"
    url = _observe_handoffs(indexed_stack)
    reply = _message_text(_reply_to(indexed_stack, wa_id, "I want to talk to a person"))
    assert "person" in reply.lower()
    sqs = indexed_stack.client("sqs")
    deadline = time.monotonic() + 30
    seen: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not seen:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in got.get("Messages", []):
            event = json.loads(message["Body"])
            event = json.loads(event["Message"]) if "Message" in event else event
            if event.get("type") == "handoff.requested" and wa_id in event["conversation"]:
                seen.append(event)
    assert seen, "handoff.requested was not published"
    assert seen[0]["payload"]["reason"] == "customer_request"
