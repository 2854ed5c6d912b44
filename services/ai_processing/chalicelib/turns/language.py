"""English or Spanish, from the text (function words, accents, ¿¡) and the session's language."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[a-záéíóúüñ]+")
_ES = frozenset(
    str.split(
        "el la los las de del que y en un una por para con cómo como cuál cuáles cuándo cuando "
        "cuánto cuanto qué dónde donde quiero hablar necesito puedo tengo mi mis es son está hay "
        "hola gracias buenos buenas días tardes noches sí no matrícula beca becas solicitud fecha "
        "costo cuesta persona asesor ayuda visita estado carrera carreras otoño primavera también "
        "adiós muchas favor usted ustedes estoy soy tienen ofrecen"
    )
)
_EN = frozenset(
    str.split(
        "the a an of to and in is are what when where how which who do does can i my me you your "
        "for with want need talk person please hi hello thanks thank deadline tuition cost fall "
        "spring application apply scholarship visit status program programs is it there much many "
        "have has be will would could should about this that"
    )
)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text.lower())


def detect_language(text: str, session_language: str | None = None) -> str:
    """`en` or `es`; ties go to the session's language, then English."""
    folded = _fold(text)
    words = _WORD.findall(folded)
    es = sum(1 for w in words if w in _ES) + 2 * sum(1 for c in folded if c in "¿¡ñ")
    es += sum(1 for w in words if any(c in w for c in "áéíóú"))
    en = sum(1 for w in words if w in _EN)
    if es > en:
        return "es"
    if en > es:
        return "en"
    previous = (session_language or "").lower()[:2]
    return previous if previous in ("en", "es") else "en"
