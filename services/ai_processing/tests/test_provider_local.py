"""LocalChatModel: the two-step tool loop on the real demo knowledge base, in English and Spanish,
small talk, a request for a person, honest "I don't know"; and classify_intent."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_provider_support import (
    HANDOFF,
    SEARCH,
    DemoKnowledgeBase,
    ask,
    passages_result,
    with_results,
)

from chalicelib.providers import LocalChatModel, classify_intent
from chalicelib.providers.classify import IntentClassifier
from parley.chat import ChatMessage, ChatRequest
from parley.retrieval import Passage


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> DemoKnowledgeBase:
    return DemoKnowledgeBase(Path(tmp_path_factory.mktemp("kb")))


def _loop(kb: DemoKnowledgeBase, question: str, language: str | None = None) -> str:
    """Both steps of the agent loop: search call, then the answer from the passages."""
    model = LocalChatModel()
    request = ask(question).model_copy(update={"language": language})
    first = model.complete(request)
    assert first.stop_reason == "tool_use"
    assert [c.name for c in first.tool_calls] == ["search_knowledge"]
    assert first.tool_calls[0].arguments == {"query": question}
    passages = kb.search(first.tool_calls[0].arguments["query"])
    second = model.complete(with_results(request, first, [passages_result(passages)]))
    assert second.stop_reason == "end_turn" and not second.tool_calls
    assert second.text
    return second.text


def test_english_question_answered_from_the_deadlines_document(kb: DemoKnowledgeBase) -> None:
    text = _loop(kb, "When is the fall application deadline?")
    # The first-year rounds, not the transfer (June 1) or graduate (May 15) deadlines beside them.
    assert "Early Action" in text
    assert "Regular Decision: Application deadline: February 1, 2027" in text
    assert "June 1" not in text and "May 15" not in text
    assert text.endswith("Source: deadlines-and-calendar.md")


def test_a_qualified_question_gets_the_section_it_names(kb: DemoKnowledgeBase) -> None:
    text = _loop(kb, "When is the transfer deadline?")
    assert "June 1, 2027" in text and "February 1" not in text


def test_spanish_question_answered_in_spanish_naming_the_source(kb: DemoKnowledgeBase) -> None:
    text = _loop(kb, "¿Cuánto cuesta la matrícula?", language="es")
    assert "$18,900" in text
    assert "Fuente: preguntas-frecuentes.md" in text
    assert "cuesta" in text


@pytest.mark.parametrize(
    ("question", "expected", "source"),
    [
        ("What TOEFL score do I need?", "Undergraduate: 80", "admission-requirements.md"),
        ("¿Cuándo empiezan las clases?", "23 de agosto", "preguntas-frecuentes.md"),
        ("How much is the housing deposit?", "$250", "tuition-and-fees.md"),
    ],
)
def test_answers_quote_the_passage_and_cite_it(
    kb: DemoKnowledgeBase, question: str, expected: str, source: str
) -> None:
    text = _loop(kb, question)
    assert expected in text
    assert source in text.splitlines()[-1]


def test_passages_that_do_not_answer_get_an_honest_reply(kb: DemoKnowledgeBase) -> None:
    text = _loop(kb, "Is there a swimming pool on campus?")
    assert "couldn't find" in text and "person" in text
    assert "Source" not in text


def test_honest_reply_in_spanish_when_nothing_is_found() -> None:
    model = LocalChatModel()
    request = ask("¿Tienen un programa de odontología?").model_copy(update={"language": "es"})
    first = model.complete(request)
    second = model.complete(with_results(request, first, [passages_result([])]))
    assert second.text is not None and "no encontré" in second.text and "persona" in second.text


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Hi!", "Hello!"),
        ("Good morning", "Hello!"),
        ("Thanks a lot!", "You're welcome"),
        ("ok bye", "Goodbye"),
        ("Hola", "¡Hola!"),
        ("Buenas tardes", "¡Hola!"),
        ("Muchas gracias", "¡Con gusto!"),
        ("Adiós, hasta luego", "¡Hasta luego"),
    ],
)
def test_small_talk_is_answered_without_a_search(message: str, expected: str) -> None:
    model = LocalChatModel()
    response = model.complete(ask(message))
    assert not response.tool_calls
    assert response.text is not None and response.text.startswith(expected)


def test_a_greeting_with_a_question_is_a_question() -> None:
    model = LocalChatModel()
    response = model.complete(ask("Hi, when do classes start?"))
    assert [c.name for c in response.tool_calls] == ["search_knowledge"]


@pytest.mark.parametrize(
    "message",
    ["I want to talk to a person", "Can I speak with a human?", "Quiero hablar con un asesor"],
)
def test_a_request_for_a_person_calls_the_handoff_tool(message: str) -> None:
    model = LocalChatModel()
    request = ask(message)
    first = model.complete(request)
    assert [c.name for c in first.tool_calls] == ["handoff_to_human"]
    assert first.tool_calls[0].arguments == {"reason": "customer_requested_person"}
    second = model.complete(with_results(request, first, ['{"status": "queued"}']))
    assert second.text is not None and ("person" in second.text or "persona" in second.text)


def test_a_request_for_a_person_without_the_tool_is_still_answered() -> None:
    model = LocalChatModel()
    response = model.complete(ask("quiero hablar con una persona", tools=[SEARCH]))
    assert response.text is not None and "persona" in response.text


@pytest.mark.parametrize(
    ("message", "language", "expected"),
    [
        ("What's the weather tomorrow?", "en", "only help"),
        ("¿Quién ganó el partido?", "es", "solo"),
    ],
)
def test_out_of_scope_without_a_search_tool(message: str, language: str, expected: str) -> None:
    model = LocalChatModel()
    request = ask(message, tools=[HANDOFF]).model_copy(update={"language": language})
    response = model.complete(request)
    assert response.text is not None and expected in response.text


def test_a_failed_tool_gets_an_apology_and_the_offer_of_a_person() -> None:
    model = LocalChatModel()
    request = ask("When is the deadline?")
    first = model.complete(request)
    follow = with_results(request, first, ["search failed"])
    messages = [*follow.messages[:-1], follow.messages[-1].model_copy(update={"is_error": True})]
    response = model.complete(follow.model_copy(update={"messages": messages}))
    assert response.text is not None and "couldn't complete" in response.text


def test_other_tool_results_are_relayed() -> None:
    model = LocalChatModel()
    request = ChatRequest(
        system="s",
        messages=[ChatMessage(role="user", content="What is the status of my application?")],
        tools=[SEARCH],
    )
    first = model.complete(request)
    second = model.complete(with_results(request, first, ["Status: under review"]))
    assert second.text == "Here is what I found:\nStatus: under review"


def test_the_loop_is_deterministic(kb: DemoKnowledgeBase) -> None:
    assert _loop(kb, "Can I visit campus on Saturday?") == _loop(
        kb, "Can I visit campus on Saturday?"
    )


def test_english_passages_answer_a_spanish_question_with_a_note() -> None:
    passage = Passage(
        document="admissions/campus-visits.md",
        text="Campus tours run Monday to Friday at 10:00 a.m. and 2:00 p.m.",
        score=1.0,
    )
    model = LocalChatModel()
    request = ask("¿A qué hora son los tours del campus?").model_copy(update={"language": "es"})
    first = model.complete(request)
    text = model.complete(with_results(request, first, [passages_result([passage])])).text
    assert text is not None and "10:00 a.m." in text and "en inglés" in text
    assert text.endswith("Fuente: campus-visits.md")


INTENTS = {
    "deadlines": [
        "When is the application deadline?",
        "What is the early action date?",
        "¿Cuál es la fecha límite para aplicar?",
        "¿Hasta cuándo puedo enviar la solicitud?",
    ],
    "costs": [
        "How much is tuition?",
        "What are the fees?",
        "¿Cuánto cuesta la matrícula?",
        "¿Hay becas o ayuda financiera?",
    ],
    "visits": [
        "Can I visit the campus?",
        "I want to book a campus tour",
        "Quiero reservar una visita al campus",
        "¿Hay tours en español?",
    ],
}


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("what's the deadline to apply for fall?", "deadlines"),
        ("fecha limite de solicitud", "deadlines"),
        ("how much does tuition cost per year?", "costs"),
        ("cuanto cuesta la matricula", "costs"),
        ("Can I book a tour of the campus next week?", "visits"),
        ("quisiera visitar el campus", "visits"),
    ],
)
def test_classify_intent_matches_the_examples(text: str, intent: str) -> None:
    found, confidence = classify_intent(text, INTENTS)
    assert found == intent
    assert 0.2 < confidence <= 1.0


def test_classify_intent_without_shared_words_is_unknown_with_zero_confidence() -> None:
    assert classify_intent("zebra xylophone", INTENTS) == ("unknown", 0.0)
    assert classify_intent("zebra", INTENTS, default="out_of_scope") == ("out_of_scope", 0.0)


def test_an_exact_example_is_more_confident_than_a_loose_match() -> None:
    classifier = IntentClassifier(INTENTS)
    exact = classifier.classify("How much is tuition?")
    loose = classifier.classify("is there anything about tuition and visiting?")
    assert exact[0] == "costs" and exact[1] > loose[1]
