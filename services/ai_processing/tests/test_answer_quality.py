"""Answer quality on the labelled set (tests/data/answer_set.yaml, issue 12): the set's shape, the
yardstick's own scoring, and the engine's figures against the thresholds below.

`pytest -s` prints the figures (overall, per language, per tag) and every miss.
"""

from __future__ import annotations

from collections import Counter

import pytest
from answer_quality import (
    OUT_OF_SCOPE,
    SPANISH_FAQ,
    Item,
    Report,
    document_text,
    fold,
    format_figures,
    format_misses,
    invented_figures,
    load_set,
    missing_facts,
    offers_person,
    run_set,
    says_not_found,
)

from chalicelib.agents import load_shipped

FACTS_PRESENT = 0.85  # share of answerable items whose reply holds every required fact
DECLINED = 1.0  # share of unanswerable items declined with no invented figure
ROUTING = 0.90  # share of items routed to the labelled intent, off-topic included

MIN_ANSWERABLE = 160
MIN_SPANISH_SHARE = 0.40  # of the answerable items
MIN_CROSS_LANGUAGE_SHARE = 1 / 3  # of the Spanish answerable items
MIN_UNANSWERABLE = 12
MIN_OFF_TOPIC = 12
MIN_SMALL_TALK = 10
MIN_PER_TAG = {
    "typo": 15,
    "casual": 15,
    "no_accents": 15,
    "lowercase": 15,
    "emoji": 8,
    "greeting_prefix": 10,
    "negation": 8,
    "table": 20,
    "follow_up": 12,
    "burst": 10,
}
REASON = "issue 12: engine being rewritten"
# Only a threshold miss is expected: an engine that crashes must fail, not xfail.
XFAIL = pytest.mark.xfail(strict=False, reason=REASON, raises=AssertionError)


@pytest.fixture(scope="module")
def items() -> list[Item]:
    return load_set()


def answerable(items: list[Item]) -> list[Item]:
    return [i for i in items if i.expect == "answer"]


def test_the_set_has_the_counts_and_shares_the_issue_asks(items: list[Item]) -> None:
    answers = answerable(items)
    spanish = [i for i in answers if i.language == "es"]
    cross = [i for i in spanish if "cross_language" in i.tags]
    assert len(answers) >= MIN_ANSWERABLE
    assert len(spanish) / len(answers) >= MIN_SPANISH_SHARE
    assert len(cross) / len(spanish) >= MIN_CROSS_LANGUAGE_SHARE
    for expect, least in (
        ("decline", MIN_UNANSWERABLE),
        (OUT_OF_SCOPE, MIN_OFF_TOPIC),
        ("small_talk", MIN_SMALL_TALK),
    ):
        kind = [i for i in items if i.expect == expect]
        assert len(kind) >= least, expect
        assert {i.language for i in kind} == {"en", "es"}, expect
    tags = Counter(t for i in items for t in i.tags)
    short = {t: tags[t] for t, least in MIN_PER_TAG.items() if tags[t] < least}
    assert not short, short
    assert all(i.history for i in items if "follow_up" in i.tags)
    assert all(len(i.burst) >= 2 for i in items if "burst" in i.tags)


def test_intents_are_the_supervisors(items: list[Item]) -> None:
    supervisor = load_shipped().supervisor
    names = {intent.name for intent in supervisor.intents}
    assert {i.intent for i in items} <= names | {OUT_OF_SCOPE}
    assert all(i.intent == OUT_OF_SCOPE for i in items if i.expect == OUT_OF_SCOPE)
    small_talk = {i.intent for i in items if i.expect == "small_talk"}
    assert small_talk <= set(supervisor.greeting_intents)


def test_every_fact_is_written_in_a_document_that_answers(items: list[Item]) -> None:
    wrong = []
    for item in answerable(items):
        texts = [fold(document_text(name)) for name in item.documents]
        for alternatives in item.facts:
            if not any(fold(a) in text for a in alternatives for text in texts):
                wrong.append((item.id, alternatives))
    assert not wrong


def test_cross_language_answers_are_not_in_the_spanish_faq(items: list[Item]) -> None:
    faq = fold(document_text(SPANISH_FAQ))
    for item in answerable(items):
        if item.language != "es":
            continue
        assert ("cross_language" in item.tags) != ("faq" in item.tags), item.id
        if "cross_language" in item.tags:
            assert SPANISH_FAQ not in item.documents, item.id
            in_faq = [any(fold(a) in faq for a in alts) for alts in item.facts]
            assert not all(in_faq), f"{item.id}: the Spanish FAQ holds every fact"
        else:
            assert SPANISH_FAQ in item.documents, item.id


def test_the_yardstick_folds_accents_and_flags_invented_figures() -> None:
    reply = "La **matrícula** cuesta $18,900 por semestre; la fecha límite es el 1 de febrero."
    assert missing_facts(reply, [["18.900", "18,900"], ["1 de febrero", "February 1, 2027"]]) == []
    assert missing_facts(reply, [["$37,800"]]) == [["$37,800"]]
    question = "¿cuánto costará la matrícula en 2030?"
    assert invented_figures(reply, [question]) == ["18900", "date:2-1"]
    assert invented_figures("Tuition for 2030 is not published yet.", [question]) == []
    assert invented_figures("Fill in the I-20 and F-1 forms; code X00427.", ["visa?"]) == []


def test_the_yardstick_recognises_a_decline() -> None:
    assert says_not_found("Lo siento, no encontré esa información.")
    assert says_not_found("Sorry, I couldn't find that in our documents.")
    assert offers_person("Would you like to talk to a person?", [])
    assert offers_person("Tuition is listed below.", ["Hablar con persona", "No, gracias"])
    quoted = "Each visit includes a session with an admissions counselor. Tours start at 10."
    assert not offers_person(quoted, []) and not says_not_found(quoted)


@pytest.fixture(scope="module")
def report(items: list[Item]) -> Report:
    report = run_set(items)
    print("\n" + format_figures(report.groups()))
    return report


def _misses(report: Report, kind: str) -> str:
    return format_misses([m for m in report.misses() if m.kind == kind])


@XFAIL
def test_required_facts_are_present(report: Report) -> None:
    share = report.figures().facts_present
    print(f"\nfacts present {share:.3f}\n{_misses(report, 'facts')}")
    assert share is not None and share >= FACTS_PRESENT


def test_unanswerable_questions_are_declined_without_invented_figures(report: Report) -> None:
    share = report.figures().declined
    print(f"\ndeclined {share:.3f}\n{_misses(report, 'decline')}")
    assert share is not None and share >= DECLINED


def test_routing_including_out_of_scope(report: Report) -> None:
    share = report.figures().routing
    print(f"\nrouting {share:.3f}\n{_misses(report, 'route')}")
    assert share is not None and share >= ROUTING
