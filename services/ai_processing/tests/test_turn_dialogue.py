"""Turns as people write them: bursts (greetings and fillers around the question), follow-ups that
lean on the earlier question, small talk with emoji and slang, off-topic messages answered with
what the business helps with, the one confidence threshold sent with the turn outcome, and the
business profile's texts."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_turn_support import DemoRetriever, Events, Recording, handler, turn

from chalicelib.agents import load_shipped
from chalicelib.providers import dialogue, phrases
from chalicelib.providers.local import LocalChatModel
from chalicelib.turns.routing import Supervisor
from parley import business_profile
from parley.payloads import Role


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRetriever:
    return DemoRetriever(tmp_path_factory.mktemp("kb"))


@pytest.mark.parametrize(
    ("burst", "question"),
    [
        (
            ["hola", "tengo una pregunta", "¿cuánto cuesta la matrícula?"],
            "¿cuánto cuesta la matrícula?",
        ),
        (["Hi!", "quick question", "when do classes start?"], "when do classes start?"),
        (["Hola, ¿cuándo empiezan las clases?"], "¿cuándo empiezan las clases?"),
        (["buenas 👋", "Thanks!"], "buenas 👋\nThanks!"),
    ],
)
def test_a_burst_asks_the_question_in_it(burst: list[str], question: str) -> None:
    assert dialogue.question_of(burst) == question


@pytest.mark.parametrize(
    ("earlier", "follow_up", "asked"),
    [
        ("When is the application deadline?", "and for graduate students?", "graduate students"),
        ("¿Cuál es la fecha límite de pregrado?", "¿y para posgrado?", "posgrado"),
        ("What TOEFL score do I need?", "what about international?", "international"),
        ("do you have tours on saturday?", "what time?", "time"),
        ("When is the fall deadline?", "and spring?", "spring"),
    ],
)
def test_a_follow_up_is_asked_with_the_earlier_question(
    earlier: str, follow_up: str, asked: str
) -> None:
    resolved = dialogue.resolve(follow_up, [earlier])
    assert asked in resolved and resolved.split()[0].lower() == earlier.split()[0].lower()
    assert not ("fall" in resolved and "spring" in resolved)  # the follow-up replaces the term


def test_a_new_question_is_not_a_follow_up() -> None:
    assert dialogue.resolve("How much is the MBA?", ["When is the deadline?"]) == (
        "How much is the MBA?"
    )


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("holaaa 👋", "greeting"),
        ("buenass", "greeting"),
        ("hey there!", "greeting"),
        ("👋", "greeting"),
        ("yo whats up", "greeting"),
        ("thx!!", "thanks"),
        ("gracias!! 🙏", "thanks"),
        ("ciao", "goodbye"),
        ("nos vemos", "goodbye"),
        ("cya 👋", "goodbye"),
        ("muchas gracias por todo, chao", "goodbye"),
        ("hi, when is the deadline?", None),
        ("free tuition?", None),
    ],
)
def test_small_talk_with_emoji_and_slang(message: str, kind: str | None) -> None:
    assert phrases.small_talk(message) == kind


def test_a_person_is_asked_for_only_when_one_is_wanted() -> None:
    assert phrases.wants_person("human please") and phrases.wants_person("Quiero un asesor")
    assert not phrases.wants_person("person of interest")
    assert not phrases.wants_person("how long should the personal essay be")


@pytest.mark.parametrize(
    "message",
    [
        "what's the weather like tomorrow?",
        "who won the match last night",
        "can you do my chemistry homework?",
        "recommend me a movie for tonight",
        "how do I make lasagna",
        "should I buy ethereum?",
        "tell me a joke",
        "¿va a llover el sábado?",
        "¿quién ganó el partido?",
        "hazme la tarea de física",
        "pásame una receta de empanadas",
        "cuéntame un chiste",
    ],
)
def test_off_topic_messages_are_out_of_scope(demo: DemoRetriever, message: str) -> None:
    supervisor = Supervisor(load_shipped(), retriever=demo)
    assert supervisor.route(message, "en").intent == "out_of_scope"


@pytest.mark.parametrize(
    "message",
    [
        "is there airport pickup?",
        "is there a scholarship for left handed students?",
        "tienen becas deportivas?",
    ],
)
def test_business_questions_are_in_scope_even_when_unanswerable(
    demo: DemoRetriever, message: str
) -> None:
    supervisor = Supervisor(load_shipped(), retriever=demo)
    assert supervisor.route(message, "en").intent != "out_of_scope"


def test_small_talk_is_routed_by_rule() -> None:
    route = Supervisor(load_shipped()).route("holaaa 👋", "es")
    assert (route.intent, route.by) == ("greeting", "rule")
    assert Supervisor(load_shipped()).route("thx!!", "en").intent == "goodbye"


def test_a_burst_is_answered_once_without_a_greeting(demo: DemoRetriever) -> None:
    events = Events()
    model = Recording(LocalChatModel())
    handler(model, demo, events)(turn("hola", "tengo una pregunta", "¿cuánto cuesta la matrícula?"))
    reply = events.reply()
    assert "$18,900" in reply.text and "¡Hola!" not in reply.text
    assert events.completed().intent == "tuition_fees"
    search = model.requests[0]
    assert search.messages[-1].content.startswith("hola")  # the model sees what was said


def test_a_follow_up_is_answered_about_the_earlier_topic(demo: DemoRetriever) -> None:
    events = Events()
    history: list[tuple[Role, str]] = [
        ("customer", "What IELTS score do I need for undergrad?"),
        ("bot", "IELTS Academic: Undergraduate: 6.5; Graduate: 7.0."),
    ]
    handler(LocalChatModel(), demo, events)(turn("and for graduate students?", history=history))
    assert "7.0" in events.reply().text
    assert events.completed().intent == "international"


def test_off_topic_gets_what_the_business_helps_with(demo: DemoRetriever) -> None:
    events = Events()
    model = Recording(LocalChatModel())
    handler(model, demo, events)(turn("¿quién ganó el partido anoche? ⚽"))
    reply = events.reply().text
    assert reply == business_profile.say("ai.out_of_scope", "es")
    assert "becas" in reply and model.requests == [] and events.handoffs() == []
    assert events.completed().intent == "out_of_scope"


def test_the_outcome_says_whether_confidence_was_low(demo: DemoRetriever) -> None:
    events = Events()
    handler(LocalChatModel(), demo, events)(turn("zxq blorf wibble"))
    assert events.completed().low_confidence is True
    events = Events()
    handler(LocalChatModel(), demo, events)(turn("When is the transfer application deadline?"))
    done = events.completed()
    assert done.low_confidence is False
    assert done.confidence >= load_shipped().supervisor.min_confidence


def test_the_threshold_has_one_definition() -> None:
    from chalicelib.agents import parse_agents
    from chalicelib.agents.loader import SHIPPED
    from parley.errors import ConfigurationError

    text = SHIPPED.read_text(encoding="utf-8")
    assert "min_confidence:" in text
    with pytest.raises(ConfigurationError):
        parse_agents(text.replace("min_confidence:", "unused_confidence:"))


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_text_the_service_says_is_the_business_profiles(language: str) -> None:
    keys = [
        "greeting", "thanks", "goodbye", "out_of_scope", "handoff", "holding", "unknown",
        "no_information", "low_confidence", "withheld", "tool_error", "tool_result", "source",
        "sources", "clarify", "other_cases", "foreign_note", "yes", "no", "offer_person",
        "decline_offer", "go_ahead",
    ]  # fmt: skip
    profile = business_profile.load_profile()
    for key in keys:
        text = profile.say(f"ai.{key}", language)
        assert text and "{" not in text
    lead = profile.say("ai.foreign_lead", language, facts="X")
    assert "X" in lead
    team = profile.business.team.get(language)
    assert team in profile.say("ai.handoff", language)


def test_a_tapped_choice_after_a_voice_note_answers_the_spoken_question(tmp_path: Path) -> None:
    """The earlier question was a voice note (its transcript is a media note, not text): the
    tapped "Undergraduate" is completed with it, as after a typed question."""
    event = turn(
        "Undergraduate",
        history=[("customer", "x"), ("bot", "Which of these do you mean?")],
    )
    spoken = event.payload.history[0].model_copy(
        update={"text": None, "media_note": "[audio] where is the fall application deadline"}
    )
    event.payload.history[0] = spoken
    events = Events()
    handler(LocalChatModel(), DemoRetriever(tmp_path), events)(event)

    reply = events.reply().text
    assert "Regular Decision" in reply and "February 1, 2027" in reply, reply


def test_a_question_printed_in_a_spreadsheet_is_answered(tmp_path: Path) -> None:
    """The customer sent an XLSX holding a question: the sheet's and column's names around it
    do not dilute the search."""
    event = turn("x")
    sheet = event.payload.messages[0].model_copy(
        update={
            "text": None,
            "media_note": "[document] Questions / Question: How much is tuition per year?",
        }
    )
    event.payload.messages[0] = sheet
    events = Events()
    handler(LocalChatModel(), DemoRetriever(tmp_path), events)(event)

    reply = events.reply().text
    assert "tuition-and-fees.md" in reply and "$" in reply, reply
