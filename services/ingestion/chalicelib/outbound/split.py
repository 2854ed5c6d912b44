"""Split a long text into WhatsApp-sized parts at sentence boundaries (text body max 4096)."""

from __future__ import annotations

import re

TEXT_MAX = 4096
# A sentence ends at . ! ? … (optionally followed by closing quotes/brackets) or at a line break;
# the whitespace after it stays with the sentence so joining the parts gives the text back.
_SENTENCE = re.compile(r".*?(?:[.!?…]+[\"')\]»”]*(?:\s+|$)|\n+|$)", re.DOTALL)


def split_text(text: str, limit: int = TEXT_MAX) -> list[str]:
    """Parts of at most `limit` characters, in order, cut between sentences where possible (then
    between words, then anywhere). A text within the limit is returned as is."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for piece in _pieces(text, limit):
        if current and len(current) + len(piece) > limit:
            parts.append(current)
            current = ""
        current += piece
    if current:
        parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def _pieces(text: str, limit: int) -> list[str]:
    """Sentences, with any sentence longer than `limit` cut at word boundaries."""
    pieces: list[str] = []
    for match in _SENTENCE.finditer(text):
        sentence = match.group(0)
        if not sentence:
            continue
        while len(sentence) > limit:
            cut = sentence.rfind(" ", 0, limit + 1)
            cut = cut if cut > 0 else limit
            pieces.append(sentence[:cut])
            sentence = sentence[cut:]
        pieces.append(sentence)
    return pieces
