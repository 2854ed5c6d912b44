"""The kinds of fact a sentence states (an amount, a date, a clock time, a weekday, a duration, a
number, a place, contact details, a step of a procedure) and whether it is negated, in English
and Spanish, by patterns over its text. `found` also returns each fact's text, which the
cross-language lead (localise.py) renders in the customer's language."""

from __future__ import annotations

import re
from dataclasses import dataclass

FactKind = str  # one of KINDS

_MONTHS_EN = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan\.?|Feb\.?|Mar\.?|Apr\.?|Jun\.?|Jul\.?|Aug\.?|Sept?\.?|Oct\.?|Nov\.?|Dec\.?"
)
_MONTHS_ES = (
    "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|"
    "diciembre"
)
_WEEKDAYS = (
    "Mondays?|Tuesdays?|Wednesdays?|Thursdays?|Fridays?|Saturdays?|Sundays?|weekdays|weekends?|"
    "lunes|martes|miércoles|miercoles|jueves|viernes|sábados?|sabados?|domingos?|fines de semana"
)
_UNITS = (
    "years?|months?|weeks?|days?|hours?|semesters?|minutes?|terms?|"
    "años|anos|meses|mes|semanas?|días|dias|día|horas?|semestres?|minutos?"
)
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|twelve|"
    "un|una|uno|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|doce"
)
_RANGE = r"(?:\s*(?:\u2013|-|to|a|al|y|and)\s*\d{1,2})?"

PATTERNS: dict[FactKind, re.Pattern[str]] = {
    "money": re.compile(
        r"(?:US)?\$\s?\d[\d,]*(?:\.\d+)?(?:\s*(?:per|a|an|por|al|each)\s+[a-zé]+(?:\s+hour)?)?"
        r"|\b\d[\d,.]*\s?(?:USD|dollars|dólares|dolares)\b",
        re.IGNORECASE,
    ),
    "percent": re.compile(r"\b\d+(?:\.\d+)?\s?%"),
    "date": re.compile(
        rf"\b(?:{_MONTHS_EN})\s+\d{{1,2}}(?:st|nd|rd|th)?{_RANGE}(?:,?\s+\d{{4}})?"
        rf"|\b\d{{1,2}}{_RANGE}\s+(?:de\s+)?(?:{_MONTHS_ES})(?:\s+(?:de\s+)?\d{{4}})?"
        rf"|\b(?:{_MONTHS_EN}|{_MONTHS_ES})(?:\s+(?:de\s+)?\d{{4}})",
        re.IGNORECASE,
    ),
    # an academic term (`Fall 2027`): not the date a `when` question asks for
    "term": re.compile(
        r"\b(?:Fall|Spring|Summer|Winter|otoño|primavera|verano|invierno)\s+(?:de\s+)?\d{4}",
        re.IGNORECASE,
    ),
    "time": re.compile(
        r"\b\d{1,2}(?::\d{2})?\s*(?:a\.\s?m\.|p\.\s?m\.|am\b|pm\b)|\b\d{1,2}:\d{2}\b"
        r"|\b(?:noon|midnight|mediodía|medianoche)\b",
        re.IGNORECASE,
    ),
    "weekday": re.compile(
        rf"\b(?:{_WEEKDAYS})(?:\s+(?:to|through|and|a|y|\u2013|-)\s+(?:{_WEEKDAYS}))?\b",
        re.IGNORECASE,
    ),
    "duration": re.compile(
        rf"\b(?:\d+(?:[.,]\d+)?|{_NUMBER_WORDS})(?:\s*(?:\u2013|-|to|a)\s*\d+)?[\s-]"
        rf"(?:business\s+|calendar\s+|full-time\s+)?(?:{_UNITS})\b(?:\s+hábiles)?",
        re.IGNORECASE,
    ),
    "contact": re.compile(
        r"[\w.+-]+@[\w-]+\.[\w.]+|\+?\d[\d ()-]{7,}\d|\b[\w-]+(?:\.[\w-]+)+\.(?:edu|com|org)\b"
    ),
    "place": re.compile(
        r"\b\d+\s+[A-Z][a-z]+\s+(?:Avenue|Street|Drive|Road|Boulevard|Lane|Way)\b"
        r"|\b[A-Z][\w'-]+ (?:Hall|Building|Center|Centre|Library|Gallery|Commons|Garage|Lobby|"
        r"Campus|Airport|Lot)\b|\b(?:Room|Lot|oficina|sala) [A-Z0-9]\w*"
        r"|\b(?:campus|edificio|calle|avenida) [A-Z]\w+"
    ),
    "step": re.compile(
        r"^(?:\d+[.)]\s*)?(?:Submit|Send|Pay|Book|Register|Apply|Log in|Sign in|Call|Email|Upload|"
        r"Complete|Fill|Go|Visit|Open|Choose|Select|Ask|Use|Contact|Request|Receive|Check|"
        r"Envíe|Envie|Entre|Reserve|Llame|Escriba|Pague|Suba|Complete|Solicite|Abra|Visite)\b"
        r"|\b(?:you can|puede|online at|through|en línea en|a través de|by phone|por teléfono)\b",
        re.IGNORECASE,
    ),
    "number": re.compile(r"(?<![\w$.,:-])\d+(?:[.,]\d+)?(?![\w%$:-])"),
}
KINDS = tuple(PATTERNS)
# What the question asks for -> the fact kinds that answer it.
ANSWERED_BY: dict[str, frozenset[FactKind]] = {
    "amount": frozenset({"money", "percent"}),
    "date": frozenset({"date", "weekday", "time"}),
    "time": frozenset({"time", "weekday"}),
    "duration": frozenset({"duration"}),
    "number": frozenset({"number", "duration", "percent"}),
    "place": frozenset({"place"}),
    "contact": frozenset({"contact"}),
    "howto": frozenset({"step"}),
    "percent": frozenset({"percent"}),
}
_NEGATION = re.compile(
    r"\bnon-\w|\b(?:not|never|cannot|can't|don't|doesn't|isn't|aren't|won't|nor|neither|no|none|"
    r"nunca|tampoco|ningún|ninguna|ninguno|ni)\b|\bn't\b",
    re.IGNORECASE,
)
# Negation words that do not deny the sentence's fact (`no later than May 1`).
_NOT_DENIAL = re.compile(
    r"\b(?:no later than|no earlier than|no more than|not only|no charge|no additional|"
    r"no extra|no cost|not disadvantaged|no later|no antes de|no después de|no más de)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Fact:
    kind: FactKind
    text: str
    start: int


def found(text: str) -> list[Fact]:
    """Every fact in `text`, in reading order; a span already taken by an earlier kind (a date's
    day, an amount's digits) is not counted again as a number."""
    facts: list[Fact] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in PATTERNS.items():
        for match in pattern.finditer(text):
            span = match.span()
            if kind == "number" and any(a <= span[0] < b for a, b in taken):
                continue
            facts.append(Fact(kind, match.group(0).strip(), span[0]))
            taken.append(span)
    return sorted(facts, key=lambda f: f.start)


def kinds(text: str) -> frozenset[FactKind]:
    return frozenset(fact.kind for fact in found(text))


def negated(text: str) -> bool:
    """True when the sentence denies something (`Northbridge does not offer law`)."""
    return bool(_NEGATION.search(_NOT_DENIAL.sub(" ", text)))
