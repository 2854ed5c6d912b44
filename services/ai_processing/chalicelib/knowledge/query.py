"""A question as the index searches it: chat language normalised, typos corrected against the
index's vocabulary, and expanded across languages with the glossary.

`Lexicon` holds what this needs from one index version (its vocabulary and its own glossary pairs,
plus the curated glossary); `Query` is the result: the BM25 match expression and the text the
embedder reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

from chalicelib.knowledge.dictionary import is_word
from chalicelib.knowledge.glossary import (
    Glossary,
    Term,
    curated_entries,
    is_stopword,
    make_entry,
)
from chalicelib.knowledge.language import LANGUAGES, STOPWORDS, Language, fold, stem
from chalicelib.knowledge.normalise import chat_words, normalise
from chalicelib.knowledge.spelling import Speller


@dataclass(frozen=True)
class Query:
    text: str
    """As the customer wrote it."""
    words: tuple[str, ...]
    """Normalised and corrected."""
    language: Language
    expansions: tuple[Term, ...] = ()
    """Glossary terms searched besides the question's own words."""
    concepts: tuple[frozenset[tuple[Language, str]], ...] = ()
    """Per content word, the ways a passage can say it: (language, stems joined by spaces),
    its own stems in both languages and the glossary terms of the entries it is part of."""

    def coverage(self, content: Mapping[Language, str]) -> float:
        """The share of the question's concepts a passage says (`content`: its stems per
        language column), in either language; 1.0 for a question without concepts."""
        if not self.concepts:
            return 1.0
        padded = {language: f" {text} " for language, text in content.items()}
        said = sum(
            any(f" {phrase} " in padded.get(language, "") for language, phrase in concept)
            for concept in self.concepts
        )
        return said / len(self.concepts)

    @cached_property
    def stems(self) -> dict[Language, list[str]]:
        """The question's words stemmed in each language (its language is a guess), stopwords of
        either language left out unless it is nothing but stopwords."""
        content = [w for w in self.words if not is_stopword(w)] or list(self.words)
        return {
            language: list(dict.fromkeys(stem(word, language) for word in content))
            for language in LANGUAGES
        }

    def match_expression(self) -> str:
        """The question's own stems against both languages' columns:
        `en : ("fall" OR "deadlin") OR es : ("fall" OR "deadlin")`; empty for an empty question."""
        return _expression({language: self.stems[language] for language in LANGUAGES})

    def expansion_expression(self) -> str:
        """The glossary terms, each against its own language's column (a phrase when it has
        several words): `en : ("tuition") OR es : ("fech limit")`; empty without expansions."""
        return _expression(
            {
                language: [" ".join(t.stems) for t in self.expansions if t.language == language]
                for language in LANGUAGES
            }
        )

    @property
    def dense_text(self) -> str:
        """What the embedder reads: the question's normalised, corrected words, and the English
        names of the glossary entries it uses (the offline embedder was trained on English, so a
        Spanish question reaches English passages through them; a multilingual model reads the
        same thing said twice)."""
        english = (term.text for term in self.expansions if term.language == "en")
        return " ".join([*self.words, *english])


def _expression(terms: dict[Language, list[str]]) -> str:
    parts = []
    for language, found in terms.items():
        if found:
            quoted = " OR ".join(_quoted(term) for term in dict.fromkeys(found))
            parts.append(f"{language} : ({quoted})")
    return " OR ".join(parts)


def _quoted(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


class Lexicon:
    """One index version's vocabulary and glossary (the curated one plus its own pairs)."""

    def __init__(
        self,
        vocabulary: Mapping[str, int] | None = None,
        pairs: Iterable[tuple[str, str]] = (),
        stems: Iterable[str] | None = None,
    ) -> None:
        own = (make_entry({"es": [es], "en": [en]}) for es, en in pairs)
        self.glossary = Glossary([*curated_entries(), *(e for e in own if len(e) == 2)])
        known = _always_known(self.glossary)
        self.speller = Speller(vocabulary or {}, known, stems, dictionary=is_word)

    def analyse(self, text: str) -> Query:
        chat = normalise(text, self.speller.known)
        words = tuple(self.speller.correct(word) for word in chat.words)
        bare = Query(text, words, chat.language)
        expansions = tuple(self.glossary.expand(bare.stems))
        concepts = _concepts(bare, self.glossary.matches(bare.stems))
        return Query(text, words, chat.language, expansions, concepts)


def _concepts(
    query: Query, matches: list[tuple[Term, tuple[Term, ...]]]
) -> tuple[frozenset[tuple[Language, str]], ...]:
    content = dict.fromkeys(w for w in query.words if not is_stopword(w))
    concepts = []
    for word in content:
        ways = {(language, stem(word, language)) for language in LANGUAGES}
        for term, entry in matches:
            if stem(word, term.language) in term.stems:
                ways.update((t.language, " ".join(t.stems)) for t in entry)
        concepts.append(frozenset(ways))
    return tuple(concepts)


def _always_known(glossary: Glossary) -> set[str]:
    """Stopwords, filler, glossary terms and shorthand expansions are words, whatever the index
    holds."""
    chat = chat_words()
    known = {fold(word) for language in LANGUAGES for word in STOPWORDS[language]}
    known |= glossary.words()
    known = known.union(*chat.filler.values())
    for table in chat.shorthand.values():
        known.update(word for words in table.values() for word in words)
    return known


def match_expression(text: str, lexicon: Lexicon | None = None) -> str:
    """The FTS5 match expression for a question (without an index: no typo correction)."""
    return (lexicon or Lexicon()).analyse(text).match_expression()
