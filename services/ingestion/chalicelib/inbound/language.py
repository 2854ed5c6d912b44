"""English or Spanish from one message, for the few texts ingestion sends itself (the rate-limit
notice). Ingestion keeps no conversation state, so the session's language (the context service's)
is not known here: Spanish marks and common words decide, and anything unclear is English."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-záéíóúüñ]+")
_SPANISH_MARKS = frozenset("ñ¿¡áéíóú")
# Words frequent in one language and rare in the other ("no", "a", "me" are in both).
_SPANISH = frozenset(
    str.split(
        "hola gracias quiero necesito tengo puedo puede cuando donde como que qué cuál el la los "
        "las del para por con una es está están estoy hay mi mis su sus tu pero también buenos "
        "buenas días tardes noches ayuda favor sí información"
    )
)
_ENGLISH = frozenset(
    str.split(
        "hi hello thanks thank please want need have can could when where how what which the an "
        "is are am my your you it this that with for of and but also help information"
    )
)


def guess_language(text: str | None) -> str:
    """`es` when the text reads as Spanish, else `en` (the default for unclear or empty text)."""
    lowered = (text or "").lower()
    words = _WORD.findall(lowered)
    spanish = 2 * sum(ch in _SPANISH_MARKS for ch in lowered) + sum(w in _SPANISH for w in words)
    english = sum(w in _ENGLISH for w in words)
    return "es" if spanish > english else "en"
