"""What the local engine does with scored passages: answer, ask one clarifying question, or
decline (and offer a person) - and, for an answer, which units to quote and which sibling cases
to offer as reply buttons.

The decision reads the best unit's *coverage* (the weighted share of the question's topic words
that it, its section heading or its document title name; extractive.py):

- below `DECLINE_BELOW` the passages do not answer the question: decline;
- higher bars when the question names a year (`YEAR_ANSWER_FROM`: another year's figures would
  be wrong) or a topic word no passage says while the best unit is in the question's own
  language (`GAP_ANSWER_FROM`: a topic the documents do not cover, not a translation gap);
- a rate or an amount is answered only by a unit that states one (`STRICT_KINDS`), a statistic
  (`the average SAT score`) only by a unit that names what it measures;
- several sibling sections fitting as well (`TIE_MARGIN`), or weak evidence (below
  `ANSWER_FROM`) with several fitting: one clarifying question with the cases as buttons;
- otherwise answer, offering the other fitting cases as buttons.

Calibration, measured on the labelled answer-quality set (tests/data/answer_set.yaml: 236
answerable and 21 unanswerable items, the local engine over the demo knowledge base with
`limits.passages` 6, every decision forced to answer): the answers that held the required facts
had a best coverage of median 0.88, tenth percentile 0.54; the answers missing them median 0.57;
the unanswerable items median 0.38. At 0.50, 149 of the 153 answers with their facts are kept
and 13 of the 21 unanswerable items fall below; the year, gap, strict-kind and statistic rules
decline the other 8. Raising the cut-off to 0.55 would cost 12 good answers to decline 4 more,
at 0.60 17 to decline 6: declining an answerable question costs less than an invented answer,
but not that much less. With these cut-offs the set measured 63% of answerable items with every
required fact, 100% of unanswerable ones declined with no invented figure (75% and 100% once the
glossary covered the domain's everyday Spanish words; the cut-offs were not changed).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from chalicelib.knowledge.language import STOPWORDS, fold
from chalicelib.providers.extractive import Candidate, Scored, matches
from chalicelib.providers.question import Question, word_stems

DECLINE_BELOW = 0.5
ANSWER_FROM = 0.5
YEAR_ANSWER_FROM = 0.7
GAP_ANSWER_FROM = 0.75
STRICT_KINDS = frozenset({"percent", "amount"})
ALTERNATIVE_MARGIN = 0.25  # a sibling section this close to the best is another case
TIE_MARGIN = 0.02  # ... this close, as likely as the best: ask which one is meant
RUNNER_UP_SHARE = 0.75  # a unit of the best's section ranked this close to it is quoted too
MAX_BUTTONS = 3
BUTTON_CHARS = 20
LIST_ITEMS = 12

Action = Literal["answer", "clarify", "decline"]
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_SEASONS = {
    "fall": "fall", "autumn": "fall", "otono": "fall", "spring": "spring", "primavera": "spring",
    "summer": "summer", "verano": "summer", "winter": "winter", "invierno": "winter",
}  # fmt: skip
# `fall 2028`, `otoño de 2028`: a term the question names with its year
_TERM_YEAR = re.compile(
    r"\b(fall|autumn|spring|summer|winter|otoño|otono|primavera|verano|invierno)\s+(?:de\s+)?"
    r"((?:19|20)\d\d)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Decision:
    action: Action
    confidence: float
    chosen: list[Candidate] = field(default_factory=list)
    alternatives: list[str] = field(default_factory=list)  # reply buttons: other cases
    listed: bool = False  # the chosen units are a list's items (render their labels)
    yes: bool | None = None  # the answer to a yes/no question, when the evidence says it


def decide(
    question: Question,
    scored: Sequence[Scored],
    *,
    language: str = "en",
    limit: int = 3,
    chars: int = 500,
) -> Decision:
    scored = _naming_years(question, scored)
    if not scored:
        return Decision("decline", 0.0)
    best = _best(scored)
    confidence = round(best.coverage, 3)
    if confidence < _required(question, best, language) or _lacks_rate(question, best):
        return Decision("decline", confidence)
    others = _siblings(best, scored)
    tied = [c for c in others if _rank(c, scored) >= best.rank - TIE_MARGIN]
    if tied or (confidence < ANSWER_FROM and others):
        # several cases fit as well (`Transfer Deadlines` and `First-Year Deadlines` for `when
        # is the application deadline?`): ask which one
        titles = _titles([best.candidate, *(tied or others)], question)
        if titles:
            return Decision("clarify", confidence, alternatives=titles[:MAX_BUTTONS])
    listed = question.kind == "list" and _is_list(best, scored)
    chosen = _list_items(best, scored) if listed else _runners_up(best, scored, limit, chars)
    titles = _titles([best.candidate, *others], question)[1:] if others else []
    yes = _yes(question, best)
    if yes is not None:  # the sentence that says yes or no comes right after it
        chosen = [best.candidate, *(c for c in chosen if c is not best.candidate)]
    return Decision(
        "answer",
        confidence,
        chosen=chosen,
        alternatives=titles if len(titles) >= 2 else [],
        listed=listed,
        yes=yes,
    )


def _required(question: Question, best: Scored, language: str) -> float:
    """The coverage an answer needs: more when the question names a year (the documents' other
    years would be wrong), or names a topic word no passage says in its own language (a word
    of another language may just lack a glossary entry; one of its own is a topic the
    documents do not cover)."""
    required = DECLINE_BELOW
    if _YEAR.search(question.text):
        required = max(required, YEAR_ANSWER_FROM)
    if best.gaps and best.candidate.language == language:
        required = max(required, GAP_ANSWER_FROM)
    return required


def _lacks_rate(question: Question, best: Scored) -> bool:
    """A rate (`acceptance rate`) is answered by a percentage, never by a price list; an amount
    (`how much do graduates earn?`) by an amount, never by a GPA; a statistic by one of what it
    measures (`the average SAT score`, not the average GPA)."""
    if question.kind in STRICT_KINDS and not best.answers:
        return True
    c = best.candidate
    measured = question.measured
    return measured is not None and not matches(measured, c.stems | c.heading_stems)


def _naming_years(question: Question, scored: Sequence[Scored]) -> Sequence[Scored]:
    """Only units that name the years the question names (with their heading or title): the
    rates of 2027 do not answer `what will tuition be in 2030?`."""
    years = set(_YEAR.findall(question.text))
    if not years:
        return scored
    terms = {
        _SEASONS.get(fold(m.group(1).lower()), "") + m.group(2)
        for m in _TERM_YEAR.finditer(question.text)
    }
    return [
        s
        for s in scored
        if years <= s.candidate.stems | s.candidate.heading_stems | s.candidate.title_stems
        and terms <= _term_years(s.candidate)
    ]


def _term_years(candidate: Candidate) -> set[str]:
    """The unit's terms with their years (`fall2027`), English and Spanish alike."""
    text = f"{candidate.text} {candidate.section[1]}"
    return {
        _SEASONS.get(fold(m.group(1).lower()), "") + m.group(2) for m in _TERM_YEAR.finditer(text)
    }


def _best(scored: Sequence[Scored]) -> Scored:
    """The top unit; one that states the asked-for fact wins over a slightly better one that
    does not."""
    top = scored[0]
    if top.answers:
        return top
    floor = max(DECLINE_BELOW, top.coverage - 0.25)
    for item in scored[1:10]:
        if item.answers and item.coverage >= floor and item.rank >= top.rank - 0.3:
            return item
    return top


def _runners_up(best: Scored, scored: Sequence[Scored], limit: int, chars: int) -> list[Candidate]:
    """The best unit and up to `limit - 1` close runners-up from its section, in reading order
    (one coherent answer, not first-year rules mixed with transfer ones)."""
    chosen = [best.candidate]
    length = len(best.candidate.text)
    lead = _lead(best.candidate, scored)
    if lead is not None and length + len(lead.text) <= chars:
        chosen.append(lead)  # the paragraph's first sentence says what the best one is about
        length += len(lead.text)
    for follower in _following(best.candidate, scored):
        if len(chosen) >= limit + 1 or length + len(follower.text) > chars:
            break
        chosen.append(follower)  # the rest of its paragraph, or the list its colon announces
        length += len(follower.text)
    floor = max(DECLINE_BELOW, best.rank * RUNNER_UP_SHARE)
    for item in scored:
        if len(chosen) >= limit:
            break
        if item.candidate in chosen or item.rank < floor:
            continue
        if item.candidate.section != best.candidate.section:
            continue
        if length + len(item.candidate.text) <= chars:
            chosen.append(item.candidate)
            length += len(item.candidate.text)
    return sorted(chosen, key=lambda c: c.position)


def _lead(best: Candidate, scored: Sequence[Scored]) -> Candidate | None:
    """The first sentence of the best unit's paragraph, when the best is a later one of it."""
    if best.first or best.label is not None:
        return None
    return next(
        (
            s.candidate
            for s in scored
            if s.candidate.paragraph == best.paragraph
            and s.candidate.first
            and s.candidate.document == best.document
        ),
        None,
    )


def _following(best: Candidate, scored: Sequence[Scored]) -> list[Candidate]:
    """The units after the best in its paragraph; when the best announces a list (ends with a
    colon), the items that follow it."""
    pool = sorted(
        (s.candidate for s in scored if s.candidate.document == best.document),
        key=lambda c: c.position,
    )
    after = [c for c in pool if c.position > best.position and c.position < best.position + 50]
    if best.text.rstrip().endswith(":"):
        return after[:LIST_ITEMS]
    return [c for c in after if c.paragraph == best.paragraph]


def _is_list(best: Scored, scored: Sequence[Scored]) -> bool:
    return len(_list_items(best, scored)) >= 2


def _list_items(best: Scored, scored: Sequence[Scored]) -> list[Candidate]:
    """Every labelled unit (table row, list item) of the best's section, in reading order."""
    section = best.candidate.section
    items = [s.candidate for s in scored if s.candidate.section == section and s.candidate.label]
    unique = {c.label: c for c in sorted(items, key=lambda c: c.position)}
    return list(unique.values())[:LIST_ITEMS]


def _siblings(best: Scored, scored: Sequence[Scored]) -> list[Candidate]:
    """The best unit of each other section of the best's document that fits the question as
    well (its heading names as much of it) and scores close: another case the customer may
    mean (`Graduate Deadlines` beside `Undergraduate First-Year Deadlines`)."""
    found: dict[tuple[str, str], Candidate] = {}
    for item in scored:
        c = item.candidate
        if c.document != best.candidate.document or c.section == best.candidate.section:
            continue
        if c.section in found or not item.answers or item.fit <= 0:
            continue
        if _parent(c) != _parent(best.candidate) or "?" in c.section[1] + best.candidate.section[1]:
            continue  # only sections side by side (`Graduate Deadlines` by `Transfer Deadlines`)
        if item.fit + 1e-6 >= best.fit and item.rank >= best.rank - ALTERNATIVE_MARGIN:
            found[c.section] = c
    return list(found.values())


def _titles(cases: Sequence[Candidate], question: Question) -> list[str]:
    """Short button titles for the cases' sections: the heading words that tell them apart
    (`Graduate Deadlines (Fall 2027)` -> `Graduate`); [] when two would read the same."""
    headings = [_words(c.heading) for c in cases]
    asked = {s for t in question.terms for alternative in t for s in alternative}
    shared = set.intersection(*({_stem(w) for w in words} for words in headings))
    if not shared:
        return []  # not cases of one thing (`Graduate Deadlines`, `Transfer Deadlines` are)
    titles = []
    for words in headings:
        kept = [w for w in words if _stem(w) not in shared and _stem(w) not in asked]
        if not kept or any(w.lower() in STOPWORDS["en"] | STOPWORDS["es"] for w in kept):
            return []
        titles.append(_fit(" ".join(kept)))
    if len(set(map(str.lower, titles))) < len(titles):
        return []
    return titles


def _rank(candidate: Candidate, scored: Sequence[Scored]) -> float:
    return next(s.rank for s in scored if s.candidate is candidate)


def _parent(candidate: Candidate) -> str:
    return candidate.section[1].rsplit(">", 1)[0] if ">" in candidate.section[1] else ""


def _words(heading: str) -> list[str]:
    plain = re.sub(r"\([^)]*\)|\b\d+[.)]?|[¿?¡!:]", " ", heading)
    return plain.split()


def _stem(word: str) -> str:
    return min(word_stems(word.lower()), default=word.lower())


def _fit(title: str) -> str:
    if len(title) <= BUTTON_CHARS:
        return title
    cut = ""
    for word in title.split():
        if len(cut) + len(word) + (1 if cut else 0) > BUTTON_CHARS:
            break
        cut = f"{cut} {word}".strip()
    return cut or title[:BUTTON_CHARS]


def _yes(question: Question, best: Scored) -> bool | None:
    """Yes or no for a yes/no question when the best unit (or its heading) names every topic
    word of the question: negated says no."""
    if not question.yes_no:
        return None
    c = best.candidate
    topic = [t for t, w in question.weighted_terms.items() if w >= 1.0]
    if not topic or not all(matches(t, c.stems | c.heading_stems) for t in topic):
        return None
    return not c.negated
