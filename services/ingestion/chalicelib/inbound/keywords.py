"""Opt-out / opt-in keywords (STOP/BAJA, START/ALTA) and the confirmation each gets: the
business profile's `ingestion.opted_out` / `ingestion.opted_in`, in the keyword's language."""

from __future__ import annotations

from dataclasses import dataclass

_PUNCTUATION = ".!¡¿?,;:\"'"


@dataclass(frozen=True)
class Keyword:
    opted_out: bool
    language: str

    @property
    def confirmation_key(self) -> str:
        return "ingestion.opted_out" if self.opted_out else "ingestion.opted_in"


KEYWORDS: dict[str, Keyword] = {
    "STOP": Keyword(True, "en"),
    "BAJA": Keyword(True, "es"),
    "START": Keyword(False, "en"),
    "ALTA": Keyword(False, "es"),
}


def opt_keyword(text: str | None) -> Keyword | None:
    """The keyword the whole text is (case, spaces and punctuation ignored), if any."""
    if not text or len(text) > 32:
        return None
    word = "".join(text.split()).strip(_PUNCTUATION).upper()
    return KEYWORDS.get(word)
