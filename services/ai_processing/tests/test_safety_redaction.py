"""Redaction that neither leaks nor destroys, end to end through an OpenAI-compatible model: what
the customer writes reaches the tools intact (application ids, dates, times), personal data never
reaches the model (only numbered placeholders), yet a tool that needs it gets the real value."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any, ClassVar

import pytest
from test_safety_support import ModelServer, business_api, copying_model
from test_turn_support import NOW, EmptyRetriever, Events, turn

from chalicelib.agents import load_shipped
from chalicelib.providers.openai_compatible import OpenAIChatModel
from chalicelib.tools import (
    BookCampusVisit,
    GetApplicationStatus,
    HandoffToHuman,
    SearchKnowledge,
    ToolContext,
    ToolRegistry,
    ToolResult,
)
from chalicelib.tools.business import StatusArgs, VisitArgs
from chalicelib.turns import TurnDeps, TurnHandler
from parley.chat import ToolCall

MODELS = {"fast": "small", "standard": "medium", "advanced": "large"}
PHONE_SPELLINGS = ("+34 612 345 678", "612 345 678", "612345678", "+34612345678")


class RecordingVisits(BookCampusVisit):
    """The real booking tool, keeping the arguments it ran with."""

    seen: ClassVar[list[VisitArgs]] = []

    def run(self, args: VisitArgs, ctx: ToolContext) -> ToolResult:
        self.seen.append(args)
        return super().run(args, ctx)


class RecordingStatus(GetApplicationStatus):
    seen: ClassVar[list[StatusArgs]] = []

    def run(self, args: StatusArgs, ctx: ToolContext) -> ToolResult:
        self.seen.append(args)
        return super().run(args, ctx)


@pytest.fixture
def model() -> Iterator[ModelServer]:
    server = ModelServer(copying_model)
    yield server
    server.close()


@pytest.fixture
def status_url() -> Iterator[str]:
    with business_api() as url:
        yield url


def turn_handler(server: ModelServer, events: Events, status_url: str | None = None) -> TurnHandler:
    RecordingVisits.seen.clear()
    RecordingStatus.seen.clear()
    tools = ToolRegistry(
        [SearchKnowledge(), HandoffToHuman(), RecordingStatus(status_url), RecordingVisits()]
    )
    return TurnHandler(
        TurnDeps(
            config=load_shipped(),
            model=OpenAIChatModel(server.url, MODELS),
            retriever=EmptyRetriever(),
            tools=tools,
            send_reply=events.sent.append,
            publish=events.published.append,
            now=lambda: NOW,
        )
    )


def test_an_application_id_written_by_the_customer_reaches_the_tool_intact(
    model: ModelServer, status_url: str
) -> None:
    events = Events()
    turn_handler(model, events, status_url)(
        turn("Can you check the status of my application NB-2027-0001?")
    )
    assert [args.application_id for args in RecordingStatus.seen] == ["NB-2027-0001"]
    assert "NB-2027-0001" in model.bodies[0]["messages"][-1]["content"]
    reply = events.reply().text
    assert "NB-2027-0001: under_review (B.S. in Nursing)" in reply


def test_a_date_and_time_reach_the_tool_and_a_phone_reaches_it_but_never_the_model(
    model: ModelServer,
) -> None:
    events = Events()
    message = (
        "I'd like to book a campus tour at Riverside on 2026-09-08 at 14:00. "
        "Please text the reminders to +34 612 345 678."
    )
    turn_handler(model, events)(turn(message))
    [args] = RecordingVisits.seen
    assert args.date == date(2026, 9, 8) and args.time.strftime("%H:%M") == "14:00"
    assert args.contact_phone == "+34612345678"  # the real number, for the reminders
    assert len(model.bodies) == 2
    for raw in model.raw:
        assert not any(spelling in raw for spelling in PHONE_SPELLINGS)
    first, second = model.bodies
    assert "[PHONE_1]" in first["messages"][-1]["content"]
    tool_result = json.loads(second["messages"][-1]["content"])
    assert tool_result["booked"] is True and tool_result["reminders_to"] == "[PHONE_1]"
    # The customer is told, in their own number, where the reminders go.
    reply = events.reply().text
    assert tool_result["confirmation_code"] in reply and "+34 612 345 678" in reply


def test_history_and_summary_share_the_turns_placeholders(model: ModelServer) -> None:
    events = Events()
    event = turn(
        "Book a campus tour on 2026-09-08 at 10:00 and text +34 612 345 678 please",
        history=[("customer", "My email is ana@example.com"), ("bot", "Thanks!")],
        summary="Ana (ana@example.com, DNI 12345678Z) asked about tours",
    )
    turn_handler(model, events)(event)
    wire = model.raw[0]
    assert "ana@example.com" not in wire and "12345678Z" not in wire
    assert wire.count("[EMAIL_1]") == 2 and "[ID_DOC_1]" in wire and "[PHONE_1]" in wire
    assert RecordingVisits.seen[0].contact_phone == "+34612345678"


def test_a_placeholder_the_turn_does_not_hold_is_refused_by_the_tool(model: ModelServer) -> None:
    """A model that invents a placeholder does not get a number out of it."""
    events = Events()
    turn_handler(model, events)(turn("Book a campus tour on 2026-09-08 at 14:00, text [PHONE_7]"))
    assert RecordingVisits.seen == []
    assert [h.detail for h in events.handoffs()] == ["malformed_tool_call"]


def test_search_queries_keep_placeholders(model: ModelServer) -> None:
    """search_knowledge works with published documents only: it is not given personal data."""
    registry = ToolRegistry([SearchKnowledge()])
    seen: list[Any] = []

    class Retriever(EmptyRetriever):
        def search(self, query: str, **_: Any) -> list[Any]:
            seen.append(query)
            return []

    ctx = ToolContext(conversation="1:34612345678", language="en", retriever=Retriever())
    call = ToolCall(id="1", name="search_knowledge", arguments={"query": "reach me [PHONE_1]"})
    registry.run(call, ["search_knowledge"], ctx, resolve=lambda a: {"query": "+34612345678"})
    assert seen == ["reach me [PHONE_1]"]
