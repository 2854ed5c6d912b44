"""No answer crosses customers: the response cache holds knowledge-base-only answers (never one
built on a business tool, on the conversation so far or on personal data), and the application
status tool only shows the sender's own applications (the business API checks the verified
sender; anyone else is asked to verify, in their language)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from test_safety_support import business_api
from test_turn_support import CONVERSATION, Events, handler, turn

from chalicelib.response_cache import ResponseCache, may_store, stands_alone
from chalicelib.tools import GetApplicationStatus, MalformedToolCall, ToolContext, default_tools
from chalicelib.tools.business import StatusArgs
from parley.chat import ChatRequest, ChatResponse, ToolCall
from parley.events import TurnRequestedEvent
from parley.retrieval import Passage

OWNER = CONVERSATION  # wa_id 15551234567 applied with NB-2027-0001 and NB-2027-0002
STRANGER = "100000000000001:15559870000"
PASSAGE = Passage(
    document="demo/deadlines.md", text="Regular Decision: February 1, 2027.", score=1.0
)


class OnePassage:
    version = "kb-v1"

    def search(
        self, query: str, *, k: int = 5, collections: Sequence[str] | None = None
    ) -> list[Passage]:
        return [PASSAGE]


class DeskModel:
    """Searches (with `query(question)`) and asks for the application's status when the message
    names one; then answers from what the tools returned, naming the document."""

    def __init__(self, query: Any = None) -> None:
        self.query = query or (lambda question: question)
        self.requests: list[ChatRequest] = []

    def complete(self, request: ChatRequest) -> ChatResponse:
        self.requests.append(request)
        messages = request.messages
        if messages[-1].role == "tool":
            asked = next(m.content for m in reversed(messages) if m.role == "user")
            results = " ".join(m.content for m in messages if m.role == "tool")
            return ChatResponse(text=f"On {asked!r} I found: {results} (deadlines.md)")
        question = messages[-1].content
        offered = {t.name for t in request.tools}
        calls = [
            ToolCall(id="s", name="search_knowledge", arguments={"query": self.query(question)})
        ]
        if "NB-" in question and "get_application_status" in offered:
            application = question[question.index("NB-") : question.index("NB-") + 12]
            calls.append(
                ToolCall(
                    id="a", name="get_application_status", arguments={"application_id": application}
                )
            )
        return ChatResponse(tool_calls=calls, stop_reason="tool_use")


def from_(conversation: str, event: TurnRequestedEvent) -> TurnRequestedEvent:
    return event.model_copy(update={"conversation": conversation})


class MemoryRedis:
    """What ResponseCache uses of a Redis client."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, key: str) -> str | None:
        return self.values.get(key)

    def set(self, key: str, value: str, ex: int | None = None) -> None:
        self.values[key] = value


@pytest.fixture
def cache() -> ResponseCache:
    return ResponseCache(MemoryRedis(), ttl_seconds=600)


@pytest.fixture
def status_url() -> Iterator[str]:
    with business_api() as url:
        yield url


def stored(cache: ResponseCache) -> int:
    return len(cache.redis.values)


def test_customer_as_application_status_is_never_served_to_customer_b(
    cache: ResponseCache, status_url: str
) -> None:
    question = "What is the status of application NB-2027-0001?"
    a, b = Events(), Events()
    handler(DeskModel(), OnePassage(), a, cache=cache, status_url=status_url)(turn(question))
    assert "under_review" in a.reply().text and "Nursing" in a.reply().text
    assert stored(cache) == 0  # built on a business tool: not an answer for anyone else

    model_b = DeskModel()
    handler(model_b, OnePassage(), b, cache=cache, status_url=status_url)(
        from_(STRANGER, turn(question, turn_id="turn-b"))
    )
    reply = b.reply().text
    assert "under_review" not in reply and "Nursing" not in reply and "Applicant" not in reply
    assert "NB-2027-0001" in reply and "WhatsApp number you're writing from" in reply
    assert model_b.requests  # answered afresh, not from the cache


def test_a_kb_only_answer_is_shared_but_a_follow_up_on_the_history_is_not(
    cache: ResponseCache,
) -> None:
    first = "When is the fall application deadline?"
    asked = Events()
    handler(DeskModel(), OnePassage(), asked, cache=cache)(turn(first))
    assert stored(cache) == 1

    # Another customer, same words: the knowledge-base answer is theirs too.
    other, model = Events(), DeskModel()
    handler(model, OnePassage(), other, cache=cache)(from_(STRANGER, turn(first, turn_id="t2")))
    assert model.requests == [] and other.reply().text == asked.reply().text

    # A follow-up that leans on the conversation (or reads like one): never stored, never served,
    # whether it comes first or after other messages.
    follow_up = "And what about it for transfer students?"
    history = [("customer", first), ("bot", "February 1, 2027.")]
    handler(DeskModel(), OnePassage(), Events(), cache=cache)(turn(follow_up))
    handler(DeskModel(), OnePassage(), Events(), cache=cache)(turn(follow_up, history=history))
    assert stored(cache) == 1
    later = Events()
    other_history = [("customer", "How much is tuition?"), ("bot", "$38,400 a year.")]
    event = from_(STRANGER, turn(follow_up, history=other_history, turn_id="t4"))
    handler(DeskModel(), OnePassage(), later, cache=cache)(event)
    assert later.reply().text != asked.reply().text and stored(cache) == 1


def test_a_search_that_used_the_history_is_not_stored(cache: ResponseCache) -> None:
    """The question stands alone, but the model searched with words from earlier messages."""
    history = [("customer", "I'm a transfer student"), ("bot", "Welcome!")]
    model = DeskModel(query=lambda q: "transfer student application documents")
    handler(model, OnePassage(), Events(), cache=cache)(
        turn("Which application documents are required?", history=history)
    )
    assert model.requests and stored(cache) == 0


def test_a_question_with_personal_data_is_neither_served_nor_stored(cache: ResponseCache) -> None:
    """Both customers' questions read "... reply to [EMAIL_1]" to the model: one key, were it
    cached, and the second would be told the first one's address."""
    handler(DeskModel(), OnePassage(), Events(), cache=cache)(
        turn("When is the fall application deadline? Reply to ana@example.com")
    )
    assert stored(cache) == 0
    model, events = DeskModel(), Events()
    event = turn("When is the fall application deadline? Reply to bob@example.com", turn_id="t2")
    handler(model, OnePassage(), events, cache=cache)(from_(STRANGER, event))
    assert model.requests and "ana@example.com" not in events.reply().text
    assert stored(cache) == 0


@pytest.mark.parametrize(
    ("question", "alone"),
    [
        ("When is the fall application deadline?", True),
        ("How much is tuition?", True),
        ("¿Cuánto cuesta la matrícula para estudiantes internacionales?", True),
        ("And for transfer students?", False),
        ("What about Harborview?", False),
        ("How much does it cost?", False),
        ("¿Y eso cuánto cuesta?", False),
        ("ok", False),
    ],
)
def test_which_questions_stand_on_their_own(question: str, alone: bool) -> None:
    assert stands_alone(question) is alone


def test_only_knowledge_searches_make_a_shareable_answer() -> None:
    def shareable(tools: list[str], personal: bool = False) -> bool:
        return may_store(
            "fall deadline?", has_context=False, personal=personal, tools=tools, queries=["fall"]
        )

    assert shareable(["search_knowledge"])
    assert not shareable(["search_knowledge"], personal=True)
    for tools in ([], ["search_knowledge", "get_application_status"], ["book_campus_visit"]):
        assert not shareable(tools)


# -- The application status tool and the business API ------------------------------------------


def ctx(conversation: str, language: str = "en") -> ToolContext:
    return ToolContext(conversation=conversation, language=language, retriever=OnePassage())


def test_the_tool_reveals_only_the_senders_own_applications(status_url: str) -> None:
    tool = GetApplicationStatus(status_url)
    mine = tool.run(StatusArgs(application_id="NB-2027-0002"), ctx(OWNER))
    assert mine.content["stage"] == "incomplete" and mine.reply is None

    theirs = tool.run(StatusArgs(application_id="NB-2027-0003"), ctx(OWNER, "es"))
    assert theirs.content == {
        "found": False,
        "application_id": "NB-2027-0003",
        "verification_required": True,
    }
    assert theirs.reply is not None and "NB-2027-0003" in theirs.reply
    assert "número de WhatsApp" in theirs.reply  # in the customer's language
    unknown = tool.run(StatusArgs(application_id="NB-2027-0999"), ctx(OWNER))
    assert unknown.content["verification_required"] is True


def test_the_model_cannot_name_whose_application_it_is(status_url: str) -> None:
    call = ToolCall(
        id="1",
        name="get_application_status",
        arguments={"application_id": "NB-2027-0003", "wa_id": "34612345678"},
    )
    with pytest.raises(MalformedToolCall):
        default_tools(status_url).run(call, ["get_application_status"], ctx(OWNER))


def test_the_business_api_answers_only_the_applicant() -> None:
    from infra.local.simulator.app import create_app

    client = create_app().test_client()
    url = "/_business/applications/NB-2027-0003"
    assert client.get(url).status_code == 403  # nobody named
    assert client.get(url, headers={"X-Customer-Wa-Id": "15551234567"}).status_code == 404
    answer = client.get(url, headers={"X-Customer-Wa-Id": "+34612345678"})
    assert answer.status_code == 200 and answer.json["stage"] == "decision_released"
    assert "wa_id" not in answer.json
