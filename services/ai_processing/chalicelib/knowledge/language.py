"""English and Spanish text for the full-text index: tokens, stopwords, language, stems.

FTS5's porter tokenizer is English-only, so the index stores text already stemmed with Snowball
(`snowballstemmer`, pure Python): a chunk in the column of its language, a query in both. Accents
are folded after stemming, so `matricula` finds `matrícula`.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Collection, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from snowballstemmer import BaseStemmer

Language = Literal["en", "es"]
LANGUAGES: tuple[Language, ...] = ("en", "es")
_TOKEN = re.compile(r"\w+", re.UNICODE)


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS: dict[Language, frozenset[str]] = {
    "en": _wordset(
        """a about after all also am an and any are as at be been before being but by can could
        did do does doing for from had has have having he her here his how i if in into is it its
        me my no not of off on once only or other our out over own same she should so some such
        than that the their them then there these they this those through to too under until up
        very was we were what when where which while who whom why will with would you your"""
    ),
    "es": _wordset(
        """a al algo algunas algunos ante antes como con contra cual cuales cuando de del desde
        donde durante e el ella ellas ellos en entre era eran es esa esas ese eso esos esta estas
        este esto estos fue fueron ha hay la las le les lo los mas me mi mis mucho muy más nada
        ni no nos o os otra otro para pero poco por porque que quien se ser si sin sobre son su
        sus también tanto te tiene tu tus un una uno unos usted ustedes y ya yo él
        qué cómo cuándo dónde cuál cuánto cuánta cuántos cuántas
        cuanto cuanta cuantos cuantas tambien"""
    ),
}
_SPANISH_MARKS = frozenset("ñ¿¡áéíóú")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def detect_language(
    text: str, default: Language = "en", also: Mapping[Language, Collection[str]] | None = None
) -> Language:
    """The language with more stopword hits (Spanish punctuation and letters count too; `also`
    adds words that count like stopwords)."""
    words = tokens(text)
    extra = also or {}
    english = sum(word in STOPWORDS["en"] or word in extra.get("en", ()) for word in words)
    spanish = sum(word in STOPWORDS["es"] or word in extra.get("es", ()) for word in words)
    spanish += sum(ch in _SPANISH_MARKS for ch in text.lower()) // 3
    if spanish == english:
        return default
    return "es" if spanish > english else "en"


_local = threading.local()  # a Snowball stemmer keeps state while it works: one per thread


def _stemmer(language: Language) -> BaseStemmer:
    stemmers: dict[str, BaseStemmer] | None = getattr(_local, "stemmers", None)
    if stemmers is None:
        stemmers = _local.stemmers = {}
    if language not in stemmers:
        import snowballstemmer

        stemmers[language] = snowballstemmer.stemmer({"en": "english", "es": "spanish"}[language])
    return stemmers[language]


@lru_cache(maxsize=200_000)
def stem(word: str, language: Language) -> str:
    """One word's accent-folded stem (memoised: documents repeat their words)."""
    return fold(_stemmer(language).stemWord(word))


def fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def stems(text: str, language: Language, *, keep_stopwords: bool = False) -> list[str]:
    """Stemmed, accent-folded tokens of `text` in `language`, stopwords dropped."""
    words = tokens(text)
    if not keep_stopwords:
        words = [w for w in words if w not in STOPWORDS[language]]
    return [stem(word, language) for word in words]
