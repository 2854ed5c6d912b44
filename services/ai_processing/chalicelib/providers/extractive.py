"""Extractive answers for the local engine: split passages into readable units (sentences, list
items, table rows rendered as `label: header value; ...`) and score each against the question.

A unit's score is its *coverage* (the share of the question's weighted topic terms it contains:
in its own words, else in its section heading, else in the document title; glossary synonyms in
the other language count) plus evidence that it answers what is asked:

- it states a fact of the kind asked for (an amount for `how much`, a date for `when`), or not;
- its section heading names the topic as well as the best sibling section of the same document
  does (a `Discounts` sentence that mentions tuition does not answer `how much is tuition?` when
  the `Tuition Rates` section is there);
- it is negated (`does not offer`) while the question asks what *is* (not a yes/no question);
- its document was returned several times, its section comes early in the document (documents
  state the general case first), it is in the customer's language.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from chalicelib.knowledge.language import STOPWORDS, Language, detect_language, fold, tokens
from chalicelib.knowledge.normalise import compounds
from chalicelib.providers import facts, variants
from chalicelib.providers.question import Question, Term, codes, word_stems
from chalicelib.providers.units import Unit, units
from parley.retrieval import Passage

_CELL_ANSWER = re.compile(r":\s*(?:No|Yes|Sí|Si)\b")
_DOCUMENT_BONUS = 0.1  # per extra passage of the same document among the results
_TITLE_WEIGHT = 0.6  # a question word found only in the document's title
_HEADING_WEIGHT = 0.9  # ... in the passage's own headings: the section is about it
_FACT_BONUS = 0.2  # states a fact of the kind asked for
_FACT_MISS = 0.1  # ... states none
_SIBLING_PENALTY = 0.45  # x the share of the question a sibling section's heading names
_NEGATED_PENALTY = 0.5  # denies something while the question asks what is
_ITEM_BONUS = 0.15  # a list's item (table row, bullet) for a question asking for a list
_NEGATED_BONUS = 0.1  # ... while the question asks what is not
_LANGUAGE_BONUS = 0.15  # in the customer's language
_FIT_BONUS = 0.25  # x the share of the question its section heading names
_DEPTH_PENALTY = 0.04  # per heading level: a general question is about the general section
_LABEL_BONUS = 0.1  # a table row's or list item's label names a question word
_ORDER_BONUS = 0.12  # / (1 + the passage's place in its document)
UNMATCHED_WEIGHT = 1.0
RARITY_FLOOR = 0.5


@dataclass(frozen=True)
class Candidate:
    document: str
    text: str
    position: int  # the passage's rank * 1000 + the unit's place: keeps reading order
    stems: frozenset[str]
    title_stems: frozenset[str]
    heading_stems: frozenset[str]
    language: Language
    section: tuple[str, str]  # (document, heading path): runners-up come from the best's section
    ordinal: int | None  # the passage's place in its document
    label: str | None = None
    facts: frozenset[str] = frozenset()
    negated: bool = False
    context_stems: frozenset[str] = frozenset()  # a table row's introduction, an item's label
    words: frozenset[str] = frozenset()  # its words, accent-folded (for cognates)
    label_stems: frozenset[str] = frozenset()
    paragraph: int = 0  # the passage's rank * 1000 + the paragraph's place
    first: bool = True  # the first unit of its paragraph

    @property
    def heading(self) -> str:
        """The innermost heading of the unit's section."""
        return self.section[1].rsplit(">", 1)[-1].strip()


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    coverage: float  # the share of the question's (weighted) terms it or its headings name, 0..1
    body: float  # ... that its own words name
    fit: float  # ... that its section heading names: evidence the section is about the question
    answers: bool  # states a fact of the kind asked for (True when the question names no kind)
    bonus: float = 0.0
    gaps: int = 0  # the question's topic words none of the passages names

    @property
    def rank(self) -> float:
        return self.coverage + self.bonus


def stem_set(text: str) -> frozenset[str]:
    """The text's content-word stems, with its dotted abbreviations as one word (`Ph.D.` ->
    `phd`, as the index and a chat question write them)."""
    words = [
        w for w in tokens(codes(text)) if w not in STOPWORDS["en"] and w not in STOPWORDS["es"]
    ]
    words += compounds(text)
    return frozenset(s for w in words for s in word_stems(w))


def candidates(passages: Sequence[Passage]) -> list[Candidate]:
    found = []
    seen: set[tuple[str, str]] = set()
    # A table row the retriever gives both in its table's passage and as a passage of its own
    # is taken from its table: the table's order tells the general case (its first rows).
    ordered = sorted(enumerate(passages), key=lambda p: -len(units(p[1].text)))
    keep: dict[tuple[str, str], int] = {}
    for rank, passage in ordered:
        for unit in units(passage.text):
            keep.setdefault((passage.document, unit.text), rank)
    for rank, passage in enumerate(passages):
        # the innermost heading names the section's topic; its ancestors only the broad area
        *ancestors, own = _heading_text(passage.section).split(">") or [""]
        heading = stem_set(own)
        title = stem_set(passage.title) | stem_set(" ".join(ancestors))
        previous = -1
        for place, unit in enumerate(units(passage.text)):
            first, previous = unit.paragraph != previous, unit.paragraph
            key = (passage.document, unit.text)
            if key in seen or keep[key] != rank:
                continue
            seen.add(key)
            found.append(
                Candidate(
                    document=passage.document,
                    text=unit.text,
                    position=rank * 1000 + place,
                    stems=stem_set(unit.text),
                    title_stems=title,
                    heading_stems=heading,
                    language=detect_language(unit.text),
                    section=(passage.document, passage.section),
                    ordinal=passage.ordinal,
                    label=unit.label,
                    facts=facts.kinds(unit.text),
                    negated=_negated(unit, own),
                    context_stems=stem_set(unit.context) if unit.context else frozenset(),
                    label_stems=stem_set(unit.label) if unit.label else frozenset(),
                    words=frozenset(fold(w) for w in tokens(unit.text) if len(w) > 4),
                    paragraph=rank * 1000 + unit.paragraph,
                    first=first,
                )
            )
    return found


def _negated(unit: Unit, heading: str) -> bool:
    """A sentence that denies, or any unit of a section that does (`Programs Not Offered`); a
    table row's `No` cell (`Spring entry: No`) denies nothing."""
    text = unit.text
    if unit.label:
        text = _CELL_ANSWER.sub(" ", text.removeprefix(unit.label))
    return facts.negated(text) or facts.negated(heading)


def _heading_text(section: str) -> str:
    """A FAQ's numbered headings (`5. ¿Cuáles son las fechas límite?`) without their numbers."""
    return re.sub(r"(^|>)\s*\d+[.)]\s*", r"\1 ", section)


def score(question: Question, passages: Sequence[Passage], language: Language) -> list[Scored]:
    """Candidates best first; ties go to the reply's language and then to the better passage."""
    pool = candidates(passages)
    weights = variants.spelt(question, pool)
    if not weights or not pool:
        return []
    idf = _weights(weights, pool)
    total = sum(idf.values()) or 1.0
    prior = _document_prior(passages)
    topic = {t for t, w in weights.items() if w >= 1.0}
    scored = [_score(c, question, idf, total, prior, language, topic) for c in pool]
    best_fit: dict[str, float] = {}
    for item in scored:
        document = item.candidate.document
        best_fit[document] = max(best_fit.get(document, 0.0), item.fit)
    # A unit whose section heading names nothing of the question, beside a sibling section whose
    # heading does, only shares words with it (`Discounts` mentions tuition; `Tuition Rates` is
    # about it).
    scored = [
        _with_bonus(s, -_SIBLING_PENALTY * best_fit[s.candidate.document]) if s.fit == 0 else s
        for s in scored
    ]
    gaps = sum(1 for t, w in weights.items() if w >= 1.0 and not _named(t, pool))
    scored = [replace(s, gaps=gaps) for s in scored]
    scored.sort(key=lambda s: (-s.rank, s.candidate.language != language, s.candidate.position))
    return scored


def _score(
    c: Candidate,
    question: Question,
    idf: dict[Term, float],
    total: float,
    prior: dict[str, float],
    language: Language,
    topic: set[Term],
) -> Scored:
    body = sum(w for t, w in idf.items() if matches(t, c.stems)) / total
    # what the section is about: its heading naming the question's topic (not `requirements`
    # for `is the GRE required?`)
    fit = sum(w for t, w in idf.items() if t in topic and matches(t, c.heading_stems)) / total
    coverage = _covered(c, idf) / total
    wanted = None if question.yes_no else facts.ANSWERED_BY.get(question.kind or "")
    answers = not wanted or bool(wanted & c.facts)
    bonus = prior[c.document] + _FIT_BONUS * fit
    bonus += 0.0 if c.ordinal is None else _ORDER_BONUS / (1 + c.ordinal)
    bonus += _LANGUAGE_BONUS if c.language == language else 0.0
    bonus -= _DEPTH_PENALTY * c.section[1].count(">")
    if c.label and any(matches(t, c.label_stems) for t in idf):
        bonus += _LABEL_BONUS
    if c.label and question.kind == "list":
        bonus += _ITEM_BONUS
    if wanted:
        bonus += _FACT_BONUS if answers else -_FACT_MISS
    if c.negated and not question.yes_no:
        bonus += _NEGATED_BONUS if question.negative else -_NEGATED_PENALTY
    return Scored(c, coverage, body, fit, answers, bonus)


def _with_bonus(scored: Scored, extra: float) -> Scored:
    return replace(scored, bonus=scored.bonus + extra)


def _document_prior(passages: Sequence[Passage]) -> dict[str, float]:
    """A bonus for the document the retriever returned most often: it is the one about the topic
    (a fall-deadline question is about the deadlines page, not the sentence elsewhere that
    happens to contain all three words)."""
    counts: dict[str, int] = {}
    for passage in passages:
        counts[passage.document] = counts.get(passage.document, 0) + 1
    return {document: _DOCUMENT_BONUS * (n - 1) for document, n in counts.items()}


def matches(term: Term, stems: frozenset[str]) -> bool:
    return any(alternative <= stems for alternative in term)


def _weights(weights: dict[Term, float], pool: Sequence[Candidate]) -> dict[Term, float]:
    """Each term's weight times its rarity among the units. A term no unit names weighs as
    much as an average named one times UNMATCHED_WEIGHT: its absence from the retrieved passages
    is evidence they do not answer, but a word the documents say otherwise (a typo, another
    language's word) should not outweigh all the question's other words."""
    rarity = {t: _idf(t, pool) for t in weights}
    top = max(rarity.values(), default=1.0) or 1.0
    # rarer words discriminate more, but a common one still has to be said
    rarity = {t: RARITY_FLOOR + (1 - RARITY_FLOOR) * r / top for t, r in rarity.items()}
    named = [rarity[t] for t in weights if _named(t, pool)]
    unnamed = (sum(named) / len(named)) * UNMATCHED_WEIGHT if named else 1.0
    return {t: w * (rarity[t] if _named(t, pool) else unnamed) for t, w in weights.items()}


def _named(term: Term, pool: Sequence[Candidate]) -> bool:
    return any(matches(term, c.stems | c.title_stems | c.heading_stems) for c in pool)


def _idf(term: Term, pool: Sequence[Candidate]) -> float:
    frequency = sum(matches(term, c.stems | c.title_stems | c.heading_stems) for c in pool)
    return math.log(1 + len(pool) / (1 + frequency))


def _covered(candidate: Candidate, weights: dict[Term, float]) -> float:
    total = 0.0
    for term, weight in weights.items():
        if matches(term, candidate.stems):
            total += weight
        elif matches(term, candidate.heading_stems | candidate.context_stems):
            total += weight * _HEADING_WEIGHT
        elif matches(term, candidate.title_stems):
            total += weight * _TITLE_WEIGHT
    return total
