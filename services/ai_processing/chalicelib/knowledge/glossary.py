"""Cross-language query expansion: a question in one language is also searched in the other.

A glossary entry names one thing in English and Spanish ("deadline", "fecha límite", "plazo").
When a question uses any of its terms (matched on stems, so plurals and accents do not matter), the
entry's other terms are searched too, each in its own language's index column. Entries come from
the curated domain list (`glossary.yaml`, data) and from the knowledge base itself (`cognates.py`,
pairs found when it is indexed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from chalicelib.knowledge.language import LANGUAGES, STOPWORDS, Language, fold, stem, tokens
from chalicelib.knowledge.normalise import chat_words

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built with it
CURATED = Path(__file__).with_name("glossary.yaml")
MAX_EXPANSIONS = 16  # terms added to one question, in the order their entries matched


@dataclass(frozen=True)
class Term:
    """One way to say a glossary entry's thing in one language."""

    language: Language
    text: str
    """Its words, lower case and accent-folded."""
    stems: tuple[str, ...]
    """Its content words' stems in its language: what is matched and searched."""


Entry = tuple[Term, ...]


def make_term(language: Language, text: str) -> Term | None:
    """None for a term of stopwords only (a question's stopwords are never matched)."""
    words = tokens(fold(str(text).lower()))
    content = [w for w in words if not is_stopword(w)]
    if not content:
        return None
    return Term(language, " ".join(words), tuple(stem(w, language) for w in content))


def make_entry(names: Mapping[Language, Iterable[str]]) -> Entry:
    terms = (
        make_term(language, text) for language in LANGUAGES for text in names.get(language, ())
    )
    return tuple(term for term in terms if term is not None)


@cache
def curated_entries() -> tuple[Entry, ...]:
    """The domain list in `glossary.yaml`."""
    items = yaml.load(CURATED.read_text(encoding="utf-8"), _LOADER) or []
    entries = (make_entry({lang: item.get(lang) or () for lang in LANGUAGES}) for item in items)
    return tuple(entry for entry in entries if len(entry) > 1)


@cache
def _folded_stopwords() -> frozenset[str]:
    stopwords = {fold(word) for language in LANGUAGES for word in STOPWORDS[language]}
    filler = chat_words().filler
    return frozenset(stopwords.union(*filler.values()))


def is_stopword(word: str) -> bool:
    """A stopword or chat filler word of either language (a question's language is a guess)."""
    return word in _folded_stopwords()


class Glossary:
    """Entries indexed by their terms' first stems."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries = list(entries)
        self._starting: dict[tuple[Language, str], list[tuple[Term, int]]] = {}
        for number, entry in enumerate(self.entries):
            for term in entry:
                self._starting.setdefault((term.language, term.stems[0]), []).append((term, number))

    def words(self) -> set[str]:
        """Every word of every term (the speller leaves them alone)."""
        return {word for entry in self.entries for term in entry for word in term.text.split()}

    def matches(self, stems: Mapping[Language, Sequence[str]]) -> list[tuple[Term, Entry]]:
        """The terms a question whose content words stem to `stems` (per language, in order)
        uses, with their entries, in the order they occur."""
        found: list[tuple[Term, Entry]] = []
        for language, sequence in stems.items():
            for start, first in enumerate(sequence):
                for term, number in self._starting.get((language, first), ()):
                    if tuple(sequence[start : start + len(term.stems)]) == term.stems:
                        found.append((term, self.entries[number]))
        return found

    def expand(self, stems: Mapping[Language, Sequence[str]]) -> list[Term]:
        """The terms to search besides such a question: the other terms of every entry it uses
        (at most `MAX_EXPANSIONS`)."""
        present = {(language, s) for language, sequence in stems.items() for s in sequence}
        added: dict[tuple[Language, tuple[str, ...]], Term] = {}
        for _, entry in self.matches(stems):
            for term in entry:
                if all((term.language, s) in present for s in term.stems):
                    continue  # the question says it already
                added.setdefault((term.language, term.stems), term)
        return list(added.values())[:MAX_EXPANSIONS]
