"""The local engine answers what is asked: the kind of answer a question wants (in English and
Spanish), the section a passage belongs to as evidence of its topic, negated sentences, yes/no,
a calibrated answer / clarify / decline, and an answer from a document in the other language led
by its key facts said in the customer's language (never a figure of its own)."""

from __future__ import annotations

import re

import pytest
from test_provider_support import ask, passages_result, with_results

from chalicelib.providers import LocalChatModel, localise
from chalicelib.providers.facts import found
from chalicelib.providers.question import analyse
from chalicelib.turns.guardrails import choices
from parley.retrieval import Passage


def _answer(question: str, passages: list[Passage], language: str | None = None) -> str:
    """Both steps of the loop, with the given passages as the search result."""
    model = LocalChatModel()
    request = ask(question).model_copy(update={"language": language})
    first = model.complete(request)
    assert [c.name for c in first.tool_calls] == ["search_knowledge"]
    text = model.complete(with_results(request, first, [passages_result(passages)])).text
    assert text
    return text


def _passage(document: str, section: str, text: str, ordinal: int = 0) -> Passage:
    title = document.rsplit("/", 1)[-1].removesuffix(".md").replace("-", " ").title()
    return Passage(
        document=document, section=section, text=text, score=1.0, title=title, ordinal=ordinal
    )


FEES = "kb/tuition-and-fees.md"
TUITION_RATES = _passage(
    FEES,
    "Tuition Rates",
    "Level | Rate\n---|---\nUndergraduate, full-time | $18,900 per semester\n"
    "Graduate, in person | $1,050 per credit hour",
    1,
)
DISCOUNTS = _passage(
    FEES,
    "Discounts",
    "- **Sibling discount:** each sibling receives $1,000 off tuition per year.",
    5,
)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How much is tuition?", "amount"),
        ("¿Cuánto cuesta la matrícula?", "amount"),
        ("When is the deadline?", "date"),
        ("¿Cuándo empiezan las clases?", "date"),
        ("Where do I park?", "place"),
        ("¿Dónde me estaciono?", "place"),
        ("How long is the MBA?", "duration"),
        ("¿Cuánto dura la maestría?", "duration"),
        ("How do I apply for aid?", "howto"),
        ("Which programs do you offer?", "list"),
        ("What's your acceptance rate?", "percent"),
    ],
)
def test_the_kind_of_answer_a_question_wants(question: str, kind: str) -> None:
    assert analyse(question).kind == kind


def test_yes_no_and_negative_questions_are_told_apart() -> None:
    assert analyse("Is the GRE required?").yes_no
    assert analyse("¿Tienen la carrera de enfermería?").yes_no
    assert not analyse("¿Qué carreras tienen?").yes_no
    assert analyse("Which programs are not offered?").negative


def test_a_sibling_section_that_only_shares_a_word_does_not_answer() -> None:
    text = _answer("How much is tuition?", [DISCOUNTS, TUITION_RATES])
    assert "$18,900" in text and "Sibling" not in text
    assert text.endswith("Source: tuition-and-fees.md")


def test_a_positive_question_is_not_answered_with_what_is_not_offered() -> None:
    passages = [
        _passage("kb/programs.md", "Programs Not Offered", "We do not offer law or medicine."),
        _passage(
            "kb/programs.md",
            "Undergraduate Programs",
            "Program | Degree\n---|---\nNursing | B.S.N.\nPsychology | B.A.\n"
            "Computer Science | B.S.",
        ),
    ]
    text = _answer("Which programs do you offer?", passages)
    assert "Nursing" in text and "Psychology" in text and "law" not in text


def test_a_yes_no_question_is_answered_no_by_a_denying_sentence() -> None:
    passage = _passage(
        "kb/admission-requirements.md",
        "Graduate Applicants",
        "Two letters of recommendation are required. The GRE is not required for any program.",
    )
    text = _answer("Is the GRE required?", [passage])
    assert text.startswith("No. The GRE is not required")


def test_a_dotted_abbreviation_is_the_word_chat_writes() -> None:
    passages = [
        _passage(
            "kb/scholarships.md",
            "Graduate Funding",
            "Every admitted Ph.D. student receives a full tuition waiver and an annual stipend "
            "of $32,000.",
        ),
        _passage("kb/scholarships.md", "Outside Scholarships", "Outside awards are welcome."),
    ]
    text = _answer("does the phd come with a stipend?", passages)
    assert "$32,000" in text


def test_an_english_passage_answers_a_spanish_question_with_a_spanish_lead() -> None:
    passage = _passage(
        "kb/deadlines.md",
        "Spring 2027",
        "Spring break (no classes) runs March 15\u201319, 2027. The program lasts 4 years "
        "and costs $7,900 per semester.",
    )
    question = "¿Cuándo son las vacaciones de primavera?"
    text = _answer(question, [passage], language="es")
    lead, quote = text.split("\n", 1)
    assert "15\u201319 de marzo de 2027" in lead and "documento en inglés" in lead
    assert '"Spring break (no classes) runs March 15\u201319, 2027.' in quote
    assert text.endswith("Fuente: deadlines.md")
    # every figure of the reply is the passage's or the question's
    said = set(re.findall(r"\d+", passage.text + question))
    assert set(re.findall(r"\d+", text)) <= said


@pytest.mark.parametrize(
    ("source", "target", "sentence", "expected"),
    [
        ("en", "es", "Due by November 1, 2026.", "1 de noviembre de 2026"),
        ("en", "es", "Tours run Monday to Friday.", "lunes a viernes"),
        ("en", "es", "It takes 18 months.", "18 meses"),
        ("en", "es", "It costs $18,900 per semester.", "$18,900 por semestre"),
        ("es", "en", "Comienzan el 23 de agosto de 2027.", "August 23, 2027"),
        ("es", "en", "Dura 4 años.", "4 years"),
        ("es", "en", "Cuesta $45 por semestre.", "$45 per semester"),
    ],
)
def test_key_facts_are_said_in_the_other_language(
    source: str, target: str, sentence: str, expected: str
) -> None:
    said = localise.lead_facts([(sentence, None)], source, target)  # type: ignore[arg-type]
    assert expected in "; ".join(said)


def test_facts_are_found_by_kind() -> None:
    kinds = {f.kind for f in found("Room 110, Halvorsen Hall: $65 fee, due May 1 at 5:00 p.m.")}
    assert {"place", "money", "date", "time"} <= kinds


def test_passages_that_do_not_answer_are_declined_without_a_figure() -> None:
    text = _answer("Is there a swimming pool on campus?", [TUITION_RATES, DISCOUNTS])
    assert "couldn't find" in text and not re.search(r"\d", text)


def test_a_year_the_documents_do_not_cover_is_declined() -> None:
    text = _answer("What will tuition be in 2030?", [TUITION_RATES])
    assert "couldn't find" in text and "$" not in text


def test_several_fitting_sections_get_one_clarifying_question_with_buttons() -> None:
    deadlines = "kb/deadlines.md"
    passages = [
        _passage(deadlines, "Transfer Deadlines", "Application deadline: June 1, 2027."),
        _passage(deadlines, "Graduate Deadlines", "Application deadline: May 15, 2027."),
    ]
    text = _answer("When is the application deadline?", passages)
    body, buttons = choices(text)
    assert body.endswith("?") and sorted(buttons) == ["Graduate", "Transfer"]
    assert "2027" not in text
    # the tapped button is the follow-up that picks the case
    model = LocalChatModel()
    request = ask("Graduate")
    request = request.model_copy(
        update={
            "messages": [ask("When is the application deadline?").messages[0], *request.messages]
        }
    )
    first = model.complete(request)
    assert "graduate" in first.tool_calls[0].arguments["query"].lower()
    answer = model.complete(with_results(request, first, [passages_result(passages)])).text
    assert answer is not None and "May 15, 2027" in answer and "June 1" not in answer


def test_a_statistic_is_answered_only_with_one_of_what_it_measures() -> None:
    passage = _passage(
        "kb/admission-requirements.md",
        "First-Year Applicants",
        "The average admitted first-year student had a 3.52 GPA. SAT scores are optional.",
    )
    text = _answer("What's the average SAT score of admitted students?", [passage])
    assert "couldn't find" in text and "3.52" not in text
    assert "3.52" in _answer("What's the average GPA of admitted students?", [passage])
