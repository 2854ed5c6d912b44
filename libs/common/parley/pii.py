"""Finding personal data in free text: e-mails, IBANs, card numbers (Luhn), Spanish DNI/NIE (check
letter) and US SSNs, and phone numbers (Google's libphonenumber, through `phonenumbers`).

What must pass intact is protected first: application ids and other `AB-2027-0001` codes, dates,
times and amounts. A phone candidate that touches a protected span is not a phone; checksum-backed
kinds (cards, IBANs, ids) win over it. Cards are written in groups of three or more digits, which no
date or time has.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal

import phonenumbers

Kind = Literal["EMAIL", "IBAN", "CARD", "ID_DOC", "PHONE"]
KINDS: tuple[Kind, ...] = ("EMAIL", "IBAN", "CARD", "ID_DOC", "PHONE")

# Numbers written without a country code are read as numbers of these regions (the business's,
# the demo's second language), plus the sender's own when the caller knows it.
DEFAULT_REGIONS: tuple[str, ...] = ("US", "ES")

# Separators people type between digit groups: space, NBSP, narrow NBSP, dashes, dot, slash.
_SEP = r"[ \u00a0\u202f\u2007.\-\u2010-\u2015\u2212/]"
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"

_EMAIL = re.compile(
    r"(?<![\w.+-])[\w.%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}\b"
)
_IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:"
    r"[A-Za-z0-9]{11,30}"  # compact
    r"|(?:[ \u00a0-]?[A-Za-z0-9]{4}){2,7}(?:[ \u00a0-]?[A-Za-z0-9]{1,3})?"  # groups of four
    r")(?![A-Za-z0-9])"
)
_CARD = re.compile(
    rf"(?<![\d\w])(?:\d{{13,19}}|\d{{3,6}}(?:{_SEP}{{1,2}}\d{{3,6}}){{2,5}})(?![\d\w])"
)
_DNI = re.compile(rf"(?<![\w])(\d(?:{_SEP}?\d){{7}}){_SEP}?([A-Za-z])(?![\w])")
_NIE = re.compile(rf"(?<![\w])([XYZxyz]){_SEP}?(\d(?:{_SEP}?\d){{6}}){_SEP}?([A-Za-z])(?![\w])")
_SSN = re.compile(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])")
# A "+" and 7 to 15 digits is a phone number even when libphonenumber finds it invalid (fictional
# 555 numbers, old formats); so is the North American (614) 555-0139 shape.
_PLUS_PHONE = re.compile(rf"(?:\(\+\d{{1,3}}\)|\+\d)(?:{_SEP}?\(?\d\)?){{6,14}}(?!\d)")
_NANP_SHAPE = re.compile(r"(?<![\d\w])\(?\d{3}\)?[ .\-\u00a0]?\d{3}[ .\-\u00a0]\d{4}(?![\d\w])")
# Digit groups libphonenumber's own scan skips (it takes 612/34/56/78 for a date): valid numbers
# are phones here too; real dates were protected before.
_DIGIT_GROUPS = re.compile(rf"(?<![\w+])\(?\d(?:{_SEP}{{0,2}}\(?\d\)?){{6,14}}(?![\w])")
# A WhatsApp id, or any international number written without its "+": 34612345678.
_BARE_INTERNATIONAL = re.compile(r"(?<![\w+])\d{10,15}(?![\w])")

_PHONE_WORDS = r"(?:tel|telf|tlf|tfno|fax|ph|mob|cel|cell|movil|móvil|wa|whatsapp)"
_CURRENCY_BEFORE = r"(?:[$€£]|\b(?:USD|EUR|US\$|MXN|GBP))"
_CURRENCY_AFTER = r"(?:[$€£]|(?:USD|EUR|MXN|GBP|dollars?|d[oó]lares|euros?|pesos)\b)"
_GROUPED = r"\d{1,3}(?:[,.\u00a0]\d{3})*(?:[.,]\d{1,2})?"
_GROUPED_SPACED = r"\d{1,3}(?:[,.\u00a0 ]\d{3})*(?:[.,]\d{1,2})?"
_PLAIN = r"\d+(?:[.,]\d{1,2})?"
_PROTECTED = [
    # Application ids, confirmation codes, references: letters, then dash-joined digit groups.
    re.compile(
        rf"(?<![\w-])(?!{_PHONE_WORDS}-)[A-Za-z]{{2,5}}(?:-[A-Za-z0-9]{{2,8}}){{1,3}}(?![\w-])",
        re.I,
    ),
    # ISO dates (and date-times), then day/month/year in either order, with / . or -.
    re.compile(r"(?<![\d])\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2})?)?(?!\d)"),
    re.compile(r"(?<![\d/.\-])(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})(?![\d/\-]|\.\d)"),
    re.compile(r"(?<![\d/.\-])\d{4}/\d{1,2}/\d{1,2}(?![\d/])"),
    # Times: 14:00, 9:30 am, 10h30.
    re.compile(r"(?<![\d:])\d{1,2}(?::\d{2}){1,2}(?:\s?[ap]\.?\s?m\.?)?(?![\d:])", re.I),
    re.compile(r"(?<![\d])\d{1,2}h\d{2}(?!\d)", re.I),
    # Amounts with a currency, before or after the figure.
    re.compile(rf"{_CURRENCY_BEFORE}\s?(?:{_GROUPED}(?!\d)|{_PLAIN})", re.I),
    re.compile(rf"(?:{_GROUPED_SPACED}(?!\d)|{_PLAIN})\s?{_CURRENCY_AFTER}", re.I),
]


@dataclass(frozen=True, order=True)
class Span:
    """One piece of personal data: where it is, its kind and the text as written."""

    start: int
    end: int
    kind: Kind
    value: str

    def overlaps(self, start: int, end: int) -> bool:
        return self.start < end and start < self.end


def digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def luhn_valid(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_valid(candidate: str) -> bool:
    compact = re.sub(r"[^A-Za-z0-9]", "", candidate).upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def dni_letter(number: int) -> str:
    return _DNI_LETTERS[number % 23]


def canonical(kind: Kind, value: str, regions: Sequence[str] = DEFAULT_REGIONS) -> str:
    """The form two spellings of one value share (so both get one placeholder)."""
    if kind == "EMAIL":
        return value.lower()
    if kind in ("IBAN", "ID_DOC"):
        return re.sub(r"[^A-Za-z0-9]", "", value).upper()
    if kind == "PHONE":
        return e164(value, regions) or digits(value)
    return digits(value)


def e164(
    value: str, regions: Sequence[str] = DEFAULT_REGIONS, *, possible: bool = False
) -> str | None:
    """The number in E.164 (`+34612345678`) when one of `regions` (or its `+`) makes it valid
    (with `possible`: of a possible length)."""
    check = phonenumbers.is_possible_number if possible else phonenumbers.is_valid_number
    for region in regions:
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            continue
        if check(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def find(text: str, regions: Sequence[str] = DEFAULT_REGIONS) -> list[Span]:
    """The personal data in `text`, in order, without overlaps."""
    found = _emails(text)
    if sum(c.isdigit() for c in text) < 7:  # every other kind has at least seven digits
        return found
    for spans in (_ibans(text), _cards(text), _ids(text)):
        found = _non_overlapping([*found, *spans])
    blocked = [*_protected_spans(text), *((f.start, f.end) for f in found)]
    fitted = (_fit(span, blocked, text) for span in _phones(text, regions))
    phones = sorted((s for s in fitted if s is not None), key=lambda s: (s.start, s.start - s.end))
    return sorted([*found, *_non_overlapping(phones)])


def _protected_spans(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for p in _PROTECTED for m in _protected(p, text)]


def _fit(span: Span, blocked: Sequence[tuple[int, int]], text: str) -> Span | None:
    """The phone candidate cut short of the first protected span it runs into; None when it starts
    inside one or too few digits are left."""
    if any(a <= span.start < b for a, b in blocked):
        return None
    end = min([a for a, _ in blocked if span.start < a < span.end], default=span.end)
    value = text[span.start : end].rstrip(" \u00a0\u202f.-/(")
    while value.endswith(")") and value.count(")") > value.count("("):
        value = value[:-1].rstrip(" \u00a0\u202f.-/(")
    if len(digits(value)) < 7:
        return None
    return Span(span.start, span.start + len(value), "PHONE", value)


def _non_overlapping(spans: Iterable[Span]) -> list[Span]:
    """Earlier-listed spans win; among phones, the longest."""
    kept: list[Span] = []
    for span in spans:
        if not any(span.overlaps(k.start, k.end) for k in kept):
            kept.append(span)
    return kept


def _emails(text: str) -> list[Span]:
    return [Span(m.start(), m.end(), "EMAIL", m.group(0)) for m in _EMAIL.finditer(text)]


def _ibans(text: str) -> list[Span]:
    spans = []
    for match in _IBAN.finditer(text):
        # The longest prefix that checks out (the pattern may have run into the next word).
        ends = [i for i in range(len(match.group(0)), 14, -1) if _group_end(match.group(0), i)]
        end = next((i for i in ends if iban_valid(match.group(0)[:i])), None)
        if end is not None:
            spans.append(Span(match.start(), match.start() + end, "IBAN", match.group(0)[:end]))
    return spans


def _group_end(candidate: str, end: int) -> bool:
    return end == len(candidate) or not candidate[end].isalnum()


def _cards(text: str) -> list[Span]:
    spans = []
    for match in _CARD.finditer(text):
        groups = [(g.start(), g.end()) for g in re.finditer(r"\d+", match.group(0))]
        found = _card_in(match.group(0), groups)
        if found is not None:
            start, end = found
            spans.append(
                Span(
                    match.start() + start,
                    match.start() + end,
                    "CARD",
                    text[match.start() + start : match.start() + end],
                )
            )
    return spans


def _card_in(candidate: str, groups: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The longest run of whole digit groups that is a card number (a card written next to its
    expiry year or security code is still found)."""
    runs = [(i, j) for i in range(len(groups)) for j in range(len(groups), i, -1)]
    for i, j in sorted(runs, key=lambda r: r[0] - r[1]):
        number = digits(candidate[groups[i][0] : groups[j - 1][1]])
        if 13 <= len(number) <= 19 and luhn_valid(number):
            return groups[i][0], groups[j - 1][1]
    return None


def _ids(text: str) -> list[Span]:
    spans = []
    for m in _DNI.finditer(text):
        number = digits(m.group(1))
        if len(number) == 8 and dni_letter(int(number)) == m.group(2).upper():
            spans.append(Span(m.start(), m.end(), "ID_DOC", m.group(0)))
    for m in _NIE.finditer(text):
        number = digits(m.group(2))
        prefix = "XYZ".index(m.group(1).upper())
        if len(number) == 7 and dni_letter(int(f"{prefix}{number}")) == m.group(3).upper():
            spans.append(Span(m.start(), m.end(), "ID_DOC", m.group(0)))
    spans += [Span(m.start(), m.end(), "ID_DOC", m.group(0)) for m in _SSN.finditer(text)]
    return spans


def _protected(pattern: re.Pattern[str], text: str) -> list[re.Match[str]]:
    matches = list(pattern.finditer(text))
    if pattern.groups == 4:  # day/month/year: a real calendar date only
        return [m for m in matches if _calendar(int(m.group(1)), int(m.group(3)))]
    return matches


def _calendar(first: int, second: int) -> bool:
    day_month = 1 <= first <= 31 and 1 <= second <= 12
    month_day = 1 <= first <= 12 and 1 <= second <= 31
    return day_month or month_day


def _phones(text: str, regions: Sequence[str]) -> list[Span]:
    spans: list[Span] = []
    for region in dict.fromkeys(regions):
        matcher = phonenumbers.PhoneNumberMatcher(
            text, region, leniency=phonenumbers.Leniency.VALID
        )
        spans += [Span(m.start, m.end, "PHONE", m.raw_string) for m in matcher]
    for pattern in (_PLUS_PHONE, _NANP_SHAPE):
        spans += [Span(m.start(), m.end(), "PHONE", m.group(0)) for m in pattern.finditer(text)]
    spans += [
        Span(m.start(), m.end(), "PHONE", m.group(0))
        for m in _DIGIT_GROUPS.finditer(text)
        if e164(m.group(0), regions) is not None
    ]
    spans += [
        Span(m.start(), m.end(), "PHONE", m.group(0))
        for m in _BARE_INTERNATIONAL.finditer(text)
        if e164("+" + m.group(0)) is not None
    ]
    return spans


@cache
def region_of(wa_id: str) -> str | None:
    """The region of a WhatsApp id (an international number without its `+`), if it has one."""
    try:
        number = phonenumbers.parse("+" + wa_id)
    except phonenumbers.NumberParseException:
        return None
    if number.country_code is None:
        return None
    region = phonenumbers.region_code_for_country_code(number.country_code)
    return None if region in (None, "ZZ", "001") else region


def regions_for(wa_id: str | None) -> tuple[str, ...]:
    """The default regions plus the sender's own."""
    region = region_of(wa_id) if wa_id and wa_id.isdigit() else None
    return DEFAULT_REGIONS if region is None else tuple(dict.fromkeys((*DEFAULT_REGIONS, region)))
