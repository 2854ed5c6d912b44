"""Chat shorthand in a question (`u`, `pls`, `grad`, `xq`, `porfa`) said in full, from the knowledge
base's own table (chalicelib/knowledge/abbreviations.yaml), so the engine reads the words the
documents use."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from chalicelib.knowledge.language import detect_language, fold


@cache
def _tables() -> dict[str, dict[str, tuple[str, ...]]]:
    try:
        from chalicelib.knowledge.normalise import abbreviations

        return {language: dict(table) for language, table in abbreviations().items()}
    except (ImportError, OSError, ValueError):  # no table: words stay as written
        return {"en": {}, "es": {}}


def expand(words: Sequence[str]) -> list[str]:
    """The words with shorthand replaced: a shorthand of one language only always, one both
    languages use (`k`) as the words' language reads it."""
    tables = _tables()
    en, es = tables.get("en", {}), tables.get("es", {})
    language = detect_language(" ".join(words))
    out: list[str] = []
    for word in words:
        key = fold(word)
        if key in en and key in es:
            out.extend((es if language == "es" else en)[key])
        elif key in en or key in es:
            out.extend(en.get(key) or es[key])
        else:
            out.append(word)
    return out
