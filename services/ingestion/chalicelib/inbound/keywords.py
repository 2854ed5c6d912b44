"""Opt-out / opt-in keywords (STOP/BAJA, START/ALTA) and the short confirmation each gets."""

from __future__ import annotations

from dataclasses import dataclass

_PUNCTUATION = ".!¡¿?,;:\"'"


@dataclass(frozen=True)
class Keyword:
    opted_out: bool
    confirmation: str


KEYWORDS: dict[str, Keyword] = {
    "STOP": Keyword(True, "You will not receive more messages from us. Send START to undo."),
    "BAJA": Keyword(True, "No recibirás más mensajes nuestros. Envía ALTA para deshacerlo."),
    "START": Keyword(False, "You will receive our messages again. Send STOP to opt out."),
    "ALTA": Keyword(False, "Volverás a recibir nuestros mensajes. Envía BAJA para darte de baja."),
}


def opt_keyword(text: str | None) -> Keyword | None:
    """The keyword the whole text is (case, spaces and punctuation ignored), if any."""
    if not text or len(text) > 32:
        return None
    word = "".join(text.split()).strip(_PUNCTUATION).upper()
    return KEYWORDS.get(word)
