"""A passage's readable units: sentences (not split after an initialism), list items (several
on one line when a chunk joined them), table rows rendered as `label: Header: value; ...` (from a
markdown table, or a row the retriever gives as a passage of its own, `Caption — Header: value`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9¿¡ÁÉÍÓÚÑ])")
_MARKUP = re.compile(r"\*\*|__|`")
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")
_INITIALISM = re.compile(r"\(?(?:[A-Z][a-z]?\.){2,}|[A-Z]\.|(?:Mr|Ms|Mrs|Dr|St|No|vs)\.")
_PAIR = re.compile(r"^([^:;]{1,60}): (.+)$")
_INLINE_ITEM = re.compile(r"(?<=[.!?;:)])\s+(?=(?:[-*•]|\d+[.)])\s+\S)")
_LABEL = re.compile(r"^\s*(?:[-*+•]|\d+[.)])?\s*\*\*([^*]{2,60}?):?\*\*:?")


@dataclass(frozen=True)
class Unit:
    text: str
    label: str | None = None  # a table row's first cell, a list item's bold lead
    paragraph: int = 0  # units of one paragraph (or table) share it
    context: str = ""  # a table row's introduction (`... the following minimum scores:`)


def units(text: str) -> list[Unit]:
    """The passage's readable units: sentences, list items and rendered table rows."""
    found: list[Unit] = []
    header: list[str] | None = None
    intro = ""
    for paragraph, raw in enumerate(_paragraphs(text)):
        label_match = _LABEL.match(raw)
        line = _MARKUP.sub("", raw).strip()
        if "|" in line:
            cells = [c.strip() for c in line.strip("|").split("|")]
            if all(set(c) <= set("-: ") for c in cells):
                continue  # a markdown table's separator row
            if header is None:
                header = cells
            else:
                found.append(Unit(_row(header, cells), cells[0] or None, paragraph, intro))
            continue
        header = None
        if not line or line.startswith("#"):
            continue
        captioned = _captioned_row(line)
        if captioned is not None:
            found.append(Unit(_row(*captioned), captioned[1][0] or None, paragraph))
            continue
        label = label_match.group(1).strip() if label_match else None
        parts = split_sentences(_BULLET.sub("", line))
        # a labelled item's later sentences (`It is non-refundable.`) are about its label
        found.extend(
            Unit(p, label if i == 0 else None, paragraph, "" if i == 0 else label or "")
            for i, p in enumerate(parts)
        )
        intro = line
    return [u for u in found if len(u.text) > 3]


def split_sentences(text: str) -> list[str]:
    """Sentences, not split after an initialism (`the hybrid M.S.N. Family Nurse...`,
    `U.S. embassy`, `Ph.D. students`)."""
    parts: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        before = (
            text[start : match.start()].rsplit(None, 1)[-1]
            if text[start : match.start()].strip()
            else ""
        )
        if _INITIALISM.fullmatch(before):
            continue
        parts.append(text[start : match.start()].strip())
        start = match.end()
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def _paragraphs(text: str) -> list[str]:
    """The passage's lines, a line holding several list items (a chunk joins the pieces of a
    long paragraph with spaces) split into one per item."""
    return [part for line in text.splitlines() for part in _INLINE_ITEM.split(line)]


def sentences(text: str) -> list[str]:
    return [unit.text for unit in units(text)]


def _captioned_row(line: str) -> tuple[list[str], list[str]] | None:
    """(headers, cells) of a table row the retriever gives as a passage of its own, `Caption —
    Header: value; Header: value`; None for any other line."""
    caption, dash, rest = line.partition(" — ")
    if not dash or not caption or len(caption) > 120:
        return None
    header: list[str] = []
    cells: list[str] = []
    for piece in rest.split("; "):
        pair = _PAIR.match(piece)
        if pair:
            header.append(pair.group(1).strip())
            cells.append(pair.group(2).strip())
        elif cells:
            cells[-1] = f"{cells[-1]}; {piece}"  # a value holding a semicolon
        else:
            return None
    return (header, cells) if len(cells) >= 2 else None


def _row(header: list[str], cells: list[str]) -> str:
    pairs = [f"{h}: {c}" for h, c in zip(header[1:], cells[1:], strict=False) if c]
    row = f"{cells[0]}: " + "; ".join(pairs)
    return row if row.endswith((".", "!", "?")) else row + "."
