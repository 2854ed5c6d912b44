"""Forgiving matches of a question's words in the passages: typos (one edit, two from 8 letters),
clippings (`psych` for `psychology`) and cognates in the other language (`vacaciones` for
`vacation`, through the knowledge base's cognate test)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from chalicelib.providers.question import Question, Term, word_stems
from parley.edit_distance import edit_distance

if TYPE_CHECKING:
    from chalicelib.providers.extractive import Candidate

MIN_TYPO_LENGTH = 4  # shorter words are too ambiguous to correct
MIN_COGNATE_LENGTH = 5


def spelt(question: Question, pool: Sequence[Candidate]) -> dict[Term, float]:
    """Typos, clippings and cognates forgiven: a term no unit names also matches the units'
    stems one edit away (two from 8 letters), those it begins, and the words that are its
    cognates in the other language: `tution` finds `tuition`, `psych` finds `psychology`,
    `tecnología` finds `technology`."""
    vocabulary = {s for c in pool for s in c.stems | c.heading_stems | c.title_stems}
    words = {w for c in pool for w in c.words}
    spelt: dict[Term, float] = {}
    for term, weight, said in zip(question.terms, question.weights, question.said, strict=False):
        if any(alternative <= vocabulary for alternative in term):
            spelt[term] = weight
            continue
        near = {
            frozenset({word})
            for alternative in term
            if len(alternative) == 1
            for stemmed in alternative
            if len(stemmed) >= MIN_TYPO_LENGTH
            for word in vocabulary
            if _near(stemmed, word) or (word.startswith(stemmed) and len(word) > len(stemmed) + 1)
        }
        near |= {frozenset(word_stems(w)) & vocabulary for w in _cognates(said, words)} - {
            frozenset()
        }
        spelt[term | near] = weight
    return spelt


def _cognates(said: Sequence[str], words: set[str]) -> set[str]:
    """The units' words that look like the question's words in the other language."""
    if len(said) != 1 or len(said[0]) < MIN_COGNATE_LENGTH:
        return set()
    try:
        from chalicelib.knowledge.cognates import cognates
    except ImportError:  # a knowledge package without cognates: none
        return set()
    word = said[0]
    return {
        w
        for w in words
        if len(w) >= MIN_COGNATE_LENGTH and (cognates(word, w) or cognates(w, word))
    }


def _near(a: str, b: str) -> bool:
    """At most one edit (two from 8 letters) between two stems, same first letter."""
    edits = 2 if len(a) >= 8 else 1
    if a[0] != b[0] or abs(len(a) - len(b)) > edits:
        return False
    return _distance(a, b, edits) <= edits


def _distance(a: str, b: str, bound: int) -> int:
    """Damerau-Levenshtein distance (adjacent swaps count one), stopping past `bound`."""
    return edit_distance(a, b, bound)
