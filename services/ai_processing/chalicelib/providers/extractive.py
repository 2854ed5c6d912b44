"""Extractive answers for the local engine: split passages into sentences (table rows rendered as
`label: header value; ...`), score each by how much of the question it covers (Snowball stems in
English and Spanish, accent-folded, weighted by rarity among the candidates), pick the best few."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from chalicelib.knowledge.language import STOPWORDS, Language, detect_language, stem, tokens
from parley.retrieval import Passage


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9¿¡ÁÉÍÓÚÑ])")
_MARKUP = re.compile(r"\*\*|__|`")
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")
_DOCUMENT_BONUS = 0.1  # per extra passage of the same document among the results
_TITLE_WEIGHT = 0.6  # a question word found only in the document's title
_HEADING_WEIGHT = 0.9  # ... in the passage's own headings: the section is about it
_CUE_BONUS = 0.15  # a sentence with an amount for `how much`, with a date for `when`
# Documents state the general case first (first-year deadlines before transfer and graduate
# ones): a small bonus for the earlier sections of a document breaks near-ties that way.
_ORDER_BONUS = 0.12
_DATE = re.compile(r"\b(19|20)\d\d\b")  # a question word found only in the heading counts less
# Words of the request, not of its topic.
_FILLER = _wordset(
    """
        tell know please want like need information info can could would give find question
        much many hello hi thanks thank ask saber quiero quisiera necesito información
        informacion favor decir puedo puede pueden gracias hola pregunta dime podría podria
    """
)

Term = tuple[str, str]  # one question word's English and Spanish stems


@dataclass(frozen=True)
class Candidate:
    document: str
    text: str
    position: int  # the passage's rank * 1000 + the sentence's place: keeps reading order
    stems: frozenset[str]
    title_stems: frozenset[str]
    heading_stems: frozenset[str]
    language: Language
    section: tuple[str, str]  # (document, heading path): runners-up come from the best's section
    ordinal: int | None  # the passage's place in its document


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    coverage: float  # the share of the question's (weighted) words it contains, 0..1
    bonus: float = 0.0  # the document prior

    @property
    def rank(self) -> float:
        return self.coverage + self.bonus


def question_terms(question: str) -> list[Term]:
    words = [w for w in tokens(question) if not _is_stopword(w) and w not in _FILLER]
    unique = dict.fromkeys((stem(w, "en"), stem(w, "es")) for w in words if len(w) > 1)
    return list(unique)


def _is_stopword(word: str) -> bool:
    return word in STOPWORDS["en"] or word in STOPWORDS["es"]


def stem_set(text: str) -> frozenset[str]:
    words = [w for w in tokens(text) if not _is_stopword(w)]
    return frozenset(stem(w, "en") for w in words) | frozenset(stem(w, "es") for w in words)


def sentences(text: str) -> list[str]:
    """The passage's readable units: sentences, list items and rendered table rows."""
    units: list[str] = []
    header: list[str] | None = None
    for raw in text.splitlines():
        line = _MARKUP.sub("", raw).strip()
        if "|" in line:
            cells = [c.strip() for c in line.strip("|").split("|")]
            if all(set(c) <= set("-: ") for c in cells):
                continue  # a markdown table's separator row
            if header is None:
                header = cells
            else:
                units.append(_row(header, cells))
            continue
        header = None
        if not line or line.startswith("#"):
            continue
        units.extend(part.strip() for part in _SENTENCE_END.split(_BULLET.sub("", line)))
    return [u for u in units if len(u) > 3]


def _row(header: list[str], cells: list[str]) -> str:
    pairs = [f"{h}: {c}" for h, c in zip(header[1:], cells[1:], strict=False) if c]
    row = f"{cells[0]}: " + "; ".join(pairs)
    return row if row.endswith((".", "!", "?")) else row + "."


def candidates(passages: Sequence[Passage]) -> list[Candidate]:
    found = []
    for rank, passage in enumerate(passages):
        title, heading = stem_set(passage.title), stem_set(passage.section)
        for place, text in enumerate(sentences(passage.text)):
            found.append(
                Candidate(
                    document=passage.document,
                    text=text,
                    position=rank * 1000 + place,
                    stems=stem_set(text),
                    title_stems=title,
                    heading_stems=heading,
                    language=detect_language(text),
                    section=(passage.document, passage.section),
                    ordinal=passage.ordinal,
                )
            )
    return found


def score(question: str, passages: Sequence[Passage], language: Language) -> list[Scored]:
    """Candidates best first; ties go to the reply's language and then to the better passage."""
    terms = question_terms(question)
    pool = candidates(passages)
    if not terms or not pool:
        return []
    weights = {t: _idf(t, pool) for t in terms}
    total = sum(weights.values())
    prior = _document_prior(passages)
    cue = _cue(question)
    scored = [
        Scored(c, _covered(c, weights) / total, prior[c.document] + _bonus(cue, c)) for c in pool
    ]
    scored.sort(key=lambda s: (-s.rank, s.candidate.language != language, s.candidate.position))
    return scored


def _cue(question: str) -> str | None:
    """What kind of answer the question wants: an amount (`how much`, `cuánto`) or a date."""
    words = set(tokens(question))
    if {"much", "cost", "price", "fee", "fees", "cuánto", "cuanto", "cuesta", "precio"} & words:
        return "amount"
    if {"when", "date", "deadline", "cuándo", "cuando", "fecha"} & words:
        return "date"
    return None


def _bonus(cue: str | None, candidate: Candidate) -> float:
    order = 0.0 if candidate.ordinal is None else _ORDER_BONUS / (1 + candidate.ordinal)
    if cue == "amount" and "$" in candidate.text:
        return order + _CUE_BONUS
    if cue == "date" and _DATE.search(candidate.text):
        return order + _CUE_BONUS
    return order


def _document_prior(passages: Sequence[Passage]) -> dict[str, float]:
    """A bonus for the document the retriever returned most often: it is the one about the topic
    (a fall-deadline question is about the deadlines page, not the sentence elsewhere that
    happens to contain all three words)."""
    counts: dict[str, int] = {}
    for passage in passages:
        counts[passage.document] = counts.get(passage.document, 0) + 1
    return {document: _DOCUMENT_BONUS * (n - 1) for document, n in counts.items()}


def _matches(term: Term, stems: frozenset[str]) -> bool:
    return term[0] in stems or term[1] in stems


def _idf(term: Term, pool: Sequence[Candidate]) -> float:
    frequency = sum(_matches(term, c.stems | c.title_stems | c.heading_stems) for c in pool)
    return math.log(1 + len(pool) / (1 + frequency))


def _covered(candidate: Candidate, weights: dict[Term, float]) -> float:
    total = 0.0
    for term, weight in weights.items():
        if _matches(term, candidate.stems):
            total += weight
        elif _matches(term, candidate.heading_stems):
            total += weight * _HEADING_WEIGHT
        elif _matches(term, candidate.title_stems):
            total += weight * _TITLE_WEIGHT
    return total


def select(
    scored: Sequence[Scored], *, threshold: float, limit: int = 3, chars: int = 500
) -> list[Candidate]:
    """The best sentence and up to `limit - 1` close runners-up from its section, in reading
    order (one coherent answer, not first-year rules mixed with transfer ones); nothing when even
    the best covers less than `threshold` of the question (the passages do not answer it)."""
    if not scored or scored[0].coverage < threshold:
        return []
    best = scored[0]
    chosen = [best.candidate]
    length = len(best.candidate.text)
    for item in scored[1:]:
        if len(chosen) >= limit or item.rank < max(threshold, best.rank * 0.75):
            break
        same = item.candidate.section == best.candidate.section
        if same and length + len(item.candidate.text) <= chars:
            chosen.append(item.candidate)
            length += len(item.candidate.text)
    return sorted(chosen, key=lambda c: c.position)
