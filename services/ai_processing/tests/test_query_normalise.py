"""A question as the knowledge index reads it: chat language normalised, typos corrected against
the index's vocabulary, expanded across English and Spanish (curated glossary and the knowledge
base's own cognates)."""

from __future__ import annotations

import pytest

from chalicelib.knowledge.cognates import cognate_pairs, cognates
from chalicelib.knowledge.glossary import curated_entries
from chalicelib.knowledge.language import Language
from chalicelib.knowledge.normalise import normalise, squash
from chalicelib.knowledge.query import Lexicon
from chalicelib.knowledge.spelling import Speller, edit_distance


def test_chat_text_is_lower_case_accent_folded_and_squashed() -> None:
    chat = normalise("¡Holaaa! ¿Cuánto CUESTA la matrícula???")
    assert chat.words == ("hola", "cuanto", "cuesta", "la", "matricula")
    assert chat.language == "es"


def test_an_elongation_becomes_the_known_word() -> None:
    assert squash("holaaa") == "hola"
    assert squash("pleeease") == "please"
    assert squash("feees", known={"fees"}.__contains__) == "fees"
    assert squash("2000") == "2000"  # digits are not letters


@pytest.mark.parametrize(
    ("message", "words", "language"),
    [
        ("pls info abt the uni", "please information about the university", "en"),
        ("thx, r u open 2day?", "thanks are you open 2day", "en"),
        ("k thx", "ok thanks", "en"),
        ("xq la info de la uni", "porque la informacion de la universidad", "es"),
        ("k cuesta x semestre", "que cuesta por semestre", "es"),
        ("tmb quiero saber", "tambien quiero saber", "es"),
        ("max credits in the 2nd yr", "maximum credits in the second year", "en"),
        ("me retiro la 2da semana", "me retiro la segunda semana", "es"),
    ],
)
def test_shorthand_is_read_in_the_message_language(message: str, words: str, language: str) -> None:
    chat = normalise(message)
    assert " ".join(chat.words) == words
    assert chat.language == language


def test_filler_words_tell_the_language_and_are_not_searched() -> None:
    query = Lexicon().analyse("puedo trabajar mientras estudio")
    assert query.language == "es"
    assert query.stems["es"] == ["trabaj", "estudi"]


def speller() -> Speller:
    vocabulary = {"tuition": 9, "scholarship": 5, "deadline": 7, "walk": 2, "may": 20, "tour": 3}
    vocabulary |= {"international": 4, "tours": 1, "fall": 6, "fees": 4}
    return Speller(vocabulary, also_known={"plazo"}, dictionary={"talk", "many"}.__contains__)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("tution", "tuition"),  # a letter left out
        ("tuitoin", "tuition"),  # two letters swapped
        ("scolarship", "scholarship"),
        ("skolarship", "scholarship"),  # two edits in a long word
        ("dedline", "deadline"),
        ("internacional", "international"),
        ("fess", "fees"),
    ],
)
def test_an_unknown_word_becomes_the_closest_vocabulary_word(typed: str, meant: str) -> None:
    assert speller().correct(typed) == meant


@pytest.mark.parametrize(
    "word",
    [
        "tuition",  # known
        "deadlines",  # its stem is known
        "deadlin",  # so is this one's: the index finds it as it is
        "plazo",  # a glossary word
        "talk",  # a real word, not a typo of "walk"
        "many",  # nor of "may"
        "fal",  # too short to guess
        "i20",  # not a word
        "qwertyuiop",  # nothing close
        "tuiitiooon",  # three edits away
    ],
)
def test_known_short_and_real_words_are_left_alone(word: str) -> None:
    assert speller().correct(word) == word


def test_the_nearest_then_same_first_letter_then_more_frequent_word_wins() -> None:
    words = Speller({"tours": 1, "hours": 50, "ours": 9})
    assert words.correct("tourss") == "tours"  # one edit from tours, two from hours
    assert words.correct("jours") in ("tours", "hours")  # all one substitution away...
    assert words.correct("jours") == "hours"  # ...none starts with j: the most frequent


def test_edit_distance_counts_a_swap_of_neighbours_as_one() -> None:
    assert edit_distance("tuition", "tuitoin", 2) == 1
    assert edit_distance("tuition", "tution", 2) == 1
    assert edit_distance("abc", "xyz", 1) == 2  # stops past the limit


def test_a_spanish_question_is_also_searched_with_the_english_terms() -> None:
    query = Lexicon().analyse("¿Cuál es la fecha límite para la beca?")
    english = {term.text for term in query.expansions if term.language == "en"}
    assert {"deadline", "scholarship"} <= english
    assert '"scholarship"' in query.expansion_expression()
    assert query.expansion_expression().startswith("en : (")


def test_an_english_question_is_also_searched_with_the_spanish_terms_as_phrases() -> None:
    query = Lexicon().analyse("When is the deadline?")
    assert ("es", ("fech", "limit")) in {(t.language, t.stems) for t in query.expansions}
    assert 'es : ("plaz" OR "fech limit"' in query.expansion_expression()
    assert query.match_expression() == 'en : ("deadlin") OR es : ("deadlin")'


def test_the_glossary_is_data_with_both_languages_per_entry() -> None:
    entries = curated_entries()
    assert len(entries) > 50
    assert all({term.language for term in entry} == {"en", "es"} for entry in entries)
    scholarship = next(e for e in entries if any(t.text == "scholarship" for t in e))
    assert {t.text for t in scholarship} == {"scholarship", "beca"}


def test_coverage_counts_a_concept_said_in_either_language() -> None:
    query = Lexicon().analyse("¿hay un programa de enfermería?")
    assert len(query.concepts) == 2  # programa, enfermeria ("hay", "un", "de" are stopwords)
    assert query.coverage({"en": "nurs program harborview", "es": ""}) == 1.0
    assert query.coverage({"en": "", "es": "program bec"}) == 0.5
    assert query.coverage({"en": "tuition", "es": ""}) == 0.0


def test_cognates_of_aligned_passages_become_glossary_pairs() -> None:
    passages: list[tuple[Language, str]] = [
        ("es", "Los estudiantes internacionales reciben la orientación NorthPay de $18,900."),
        ("en", "International students get the NorthPay orientation of $18,900."),
        ("en", "Library hours and the reading room."),
        ("en", "The documentation office, Harborview campus."),
    ]
    pairs = cognate_pairs(passages)
    assert ("internacionales", "international") in pairs
    assert ("orientacion", "orientation") in pairs
    assert ("estudiantes", "students") in pairs
    assert not {en for _, en in pairs} & {"documentation", "reading"}  # not aligned with them


def test_look_alikes_that_are_not_cognates_are_not_paired() -> None:
    assert cognates("certificada", "certified")
    assert cognates("universidad", "university")
    assert not cognates("correo", "correct")
    assert not cognates("campo", "campus")
