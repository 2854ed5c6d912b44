"""Key facts of a sentence said in the other language, by rules (no translation model): dates
(`March 15, 2027` <-> `15 de marzo de 2027`), weekdays, durations (`4 years` <-> `4 años`),
`per semester` <-> `por semestre`; amounts, clock times and numbers stay as written. Every
figure of the result is one of the sentence's own."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from chalicelib.knowledge.language import Language, fold
from chalicelib.providers import facts

_MONTHS = (
    ("january", "enero"), ("february", "febrero"), ("march", "marzo"), ("april", "abril"),
    ("may", "mayo"), ("june", "junio"), ("july", "julio"), ("august", "agosto"),
    ("september", "septiembre"), ("october", "octubre"), ("november", "noviembre"),
    ("december", "diciembre"),
)  # fmt: skip
_SHORT = {en[:3]: en for en, _ in _MONTHS} | {"sept": "september"}
_EN_MONTH = {en: es for en, es in _MONTHS}
_ES_MONTH = {es: en for en, es in _MONTHS} | {"setiembre": "september"}
_WORDS: tuple[tuple[str, str], ...] = (
    # English, Spanish: weekdays, seasons, units (singular and plural), number words.
    ("Monday", "lunes"), ("Tuesday", "martes"), ("Wednesday", "miércoles"),
    ("Thursday", "jueves"), ("Friday", "viernes"), ("Saturday", "sábado"),
    ("Sunday", "domingo"), ("Saturdays", "sábados"), ("Sundays", "domingos"),
    ("weekdays", "días laborables"), ("weekend", "fin de semana"),
    ("weekends", "fines de semana"), ("Fall", "otoño"), ("Spring", "primavera"),
    ("Summer", "verano"), ("Winter", "invierno"), ("year", "año"), ("years", "años"),
    ("month", "mes"), ("months", "meses"), ("week", "semana"), ("weeks", "semanas"),
    ("day", "día"), ("days", "días"), ("hour", "hora"), ("hours", "horas"),
    ("minute", "minuto"), ("minutes", "minutos"), ("semester", "semestre"),
    ("semesters", "semestres"), ("term", "período"), ("terms", "períodos"),
    ("credit", "crédito"), ("credits", "créditos"), ("business days", "días hábiles"),
    ("credit hour", "hora de crédito"), ("one", "uno"), ("two", "dos"), ("three", "tres"),
    ("four", "cuatro"), ("five", "cinco"), ("six", "seis"), ("seven", "siete"),
    ("eight", "ocho"), ("nine", "nueve"), ("ten", "diez"), ("twelve", "doce"),
    ("noon", "mediodía"), ("midnight", "medianoche"), ("to", "a"), ("and", "y"),
    ("each", "cada"), ("full-time", "a tiempo completo"),
)  # fmt: skip
_PER = {"en": {"year": "al año", "month": "al mes", "week": "a la semana"}, "es": {}}
INFORMATIVE = ("money", "percent", "date", "time", "weekday", "duration", "term")
MAX_FACTS = 4


def _table(source: Language) -> dict[str, str]:
    if source == "en":
        return {en.lower(): es for en, es in _WORDS}
    return {spelling: en for en, es in _WORDS for spelling in (es, fold(es))}


def _words(text: str, source: Language) -> str:
    """Word-for-word: weekdays, seasons, units and number words (longest phrases first)."""
    table = _table(source)
    pattern = "|".join(re.escape(k) for k in sorted(table, key=len, reverse=True))

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        return table.get(word.lower(), table.get(fold(word.lower()), word))

    return re.sub(rf"\b(?:{pattern})\b", swap, text, flags=re.IGNORECASE)


def _date_en(text: str) -> str:
    """`November 1, 2026` -> `1 de noviembre de 2026`; `March 15-19` -> `15-19 de marzo`."""

    def swap(match: re.Match[str]) -> str:
        month = _month(match.group(1))
        day = match.group(2)
        year = match.group(3)
        said = f"{day} de {_EN_MONTH[month]}"
        return f"{said} de {year}" if year else said

    months = "|".join(sorted({*_EN_MONTH, *_SHORT}, key=len, reverse=True))
    day = r"(\d{1,2}(?:st|nd|rd|th)?(?:\s*[\u2013-]\s*\d{1,2})?)"
    text = re.sub(rf"\b({months})\.?\s+{day}(?:,?\s+(\d{{4}}))?", swap, text, flags=re.IGNORECASE)
    return re.sub(
        rf"\b({months})\.?\s+(\d{{4}})",
        lambda m: f"{_EN_MONTH[_month(m.group(1))]} de {m.group(2)}",
        text,
        flags=re.IGNORECASE,
    )


def _date_es(text: str) -> str:
    """`1 de noviembre de 2026` -> `November 1, 2026`; `16 al 18 de agosto` -> `August 16-18`."""

    def swap(match: re.Match[str]) -> str:
        first, last, month, year = match.groups()
        days = f"{first}\u2013{last}" if last else first
        said = f"{_ES_MONTH[fold(month.lower())].capitalize()} {days}"
        return f"{said}, {year}" if year else said

    months = "|".join(_ES_MONTH)
    return re.sub(
        rf"\b(\d{{1,2}})(?:\s*(?:al|a|y|\u2013|-)\s*(\d{{1,2}}))?\s+de\s+({months})"
        rf"(?:\s+(?:de\s+)?(\d{{4}}))?",
        swap,
        text,
        flags=re.IGNORECASE,
    )


def _month(word: str) -> str:
    lower = word.lower().rstrip(".")
    return _SHORT.get(lower[:4] if lower.startswith("sept") else lower[:3], lower)


def _per(text: str, source: Language) -> str:
    if source == "en":
        text = re.sub(r"\bper (year|month|week)\b", lambda m: _PER["en"][m.group(1)], text)
        return re.sub(r"\bper\b", "por", text)
    text = re.sub(r"\bal (año|mes)\b", lambda m: f"per {_words(m.group(1), 'es')}", text)
    return re.sub(r"\bpor (?=\w)", "per ", text)


def _seasons(text: str, source: Language) -> str:
    """`Fall 2027` <-> `otoño de 2027`."""
    if source == "en":
        return re.sub(
            r"\b(Fall|Spring|Summer|Winter)\s+(\d{4})",
            lambda m: f"{_words(m.group(1), 'en')} de {m.group(2)}",
            text,
            flags=re.IGNORECASE,
        )
    return re.sub(
        r"\b(otoño|primavera|verano|invierno)\s+de\s+(\d{4})",
        lambda m: f"{_words(m.group(1), 'es')} {m.group(2)}",
        text,
        flags=re.IGNORECASE,
    )


def render(fact: facts.Fact, source: Language, target: Language) -> str:
    """The fact as the customer's language says it."""
    if source == target or fact.kind in ("percent", "number", "contact", "place", "step"):
        return fact.text
    text = fact.text
    if fact.kind in ("date", "term"):
        text = _date_en(text) if source == "en" else _date_es(text)
        return _seasons(text, source)
    if fact.kind == "money":
        return _words(_per(text, source), source)
    if fact.kind == "time":
        return _words(text, source) if re.search(r"[a-z]{4,}", text) else text
    # `15-week` -> `15 weeks`: the unit said in the plural, as a count of it
    text = re.sub(r"(\d+)-(week|month|year|day|hour|minute|semester)\b", r"\1 \2s", text)
    return _words(text, source)


def lead_facts(
    texts: Iterable[tuple[str, str | None]],
    source: Language,
    target: Language,
    wanted: Sequence[str] = (),
) -> list[str]:
    """The key facts of the units (text, label), rendered: the kinds the question asks for when
    the units state them, else every informative kind; a labelled unit's facts follow its label."""
    units = list(texts)
    kinds = [k for k in wanted if any(k == f.kind for t, _ in units for f in facts.found(t))]
    chosen = kinds or list(INFORMATIVE)
    said: list[str] = []
    for text, label in units:
        found = [render(f, source, target) for f in _specific(facts.found(text), chosen)]
        found = list(dict.fromkeys(found))[:3]
        if found:
            said.append(f"{label}: {', '.join(found)}" if label else ", ".join(found))
        if len(said) >= MAX_FACTS:
            break
    return said


def _specific(found: list[facts.Fact], kinds: Sequence[str]) -> list[facts.Fact]:
    """The facts of `kinds`, without a bare term (`Fall 2027`) when a day is given too."""
    kept = [f for f in found if f.kind in kinds]
    days = any(f.kind == "date" and _has_day(f.text) for f in kept)
    return [f for f in kept if not (days and f.kind in ("date", "term") and not _has_day(f.text))]


def _has_day(text: str) -> bool:
    return bool(re.search(r"(?<!\d)\d{1,2}(?!\d)", text))
