"""The knowledge base's own bilingual glossary, built when it is indexed.

Each Spanish passage is aligned with the (two) English passages that share the most of its rare
tokens (amounts, dates, names, acronyms: `18,900`, `NorthPay`, `TOEFL`; two at least), weighted
by rarity. Inside an aligned pair,
a Spanish word and an English word that look alike once the usual suffixes are mapped (`-ción` ->
`-tion`, `-dad` -> `-ty`, `-ales` -> `-als`, `es` + consonant -> `s`) are paired: `internacionales`
~ `international`, `orientación` ~ `orientation`, `certificada` ~ `certified`. Aligning first keeps
look-alikes that do not mean the same thing (`correo` / `correct`) out.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from difflib import SequenceMatcher

from chalicelib.knowledge.glossary import is_stopword
from chalicelib.knowledge.language import Language, fold, tokens

ALIGNED_PER_PASSAGE = 2  # English passages paired with each Spanish one
MIN_SHARED = 2  # tokens an aligned pair has in common at least
COMMON_SHARE, COMMON_MIN = 0.1, 20  # a token in more English passages does not align
MIN_SIMILARITY = 0.8
MIN_SHARED_PREFIX = 4
MIN_WORD = 5
_SUFFIXES = (
    ("ciones", "tions"), ("cion", "tion"), ("siones", "sions"), ("dades", "ties"), ("dad", "ty"),
    ("icos", "ics"), ("ico", "ic"), ("ica", "ic"), ("ales", "als"), ("ivos", "ives"),
    ("ivo", "ive"), ("iva", "ive"), ("osos", "ous"), ("oso", "ous"), ("osa", "ous"),
    ("mente", "ly"), ("antes", "ants"), ("ante", "ant"), ("entes", "ents"), ("ente", "ent"),
    ("istas", "ists"), ("ista", "ist"), ("ismo", "ism"), ("arios", "aries"), ("ario", "ary"),
    ("aria", "ary"), ("ias", "ies"), ("ia", "y"), ("adas", "ed"), ("ados", "ed"), ("ada", "ed"),
    ("ado", "ed"),
)  # fmt: skip
_LEADING_ES = re.compile(r"^es(?=[^aeiou])")


def cognate_pairs(passages: Sequence[tuple[Language, str]]) -> set[tuple[str, str]]:
    """(Spanish word, English word) pairs, folded, from passages given as (language, text)."""
    words = [(language, set(tokens(fold(text.lower())))) for language, text in passages]
    spanish = [w for language, w in words if language == "es"]
    english = [w for language, w in words if language == "en"]
    if not spanish or not english:
        return set()
    rarity = _idf([w for _, w in words])
    english_vocabulary = set().union(*english)
    spanish_vocabulary = set().union(*spanish)
    postings = _postings(english)
    pairs: set[tuple[str, str]] = set()
    for es_words in spanish:
        candidates = [w for w in es_words if _pairable(w) and w not in english_vocabulary]
        for i in _aligned(es_words, postings, rarity):
            for en_word in english[i] - spanish_vocabulary:
                if _pairable(en_word):
                    pairs.update((w, en_word) for w in candidates if cognates(w, en_word))
    return pairs


def _idf(documents: list[set[str]]) -> dict[str, float]:
    frequency = Counter(word for words in documents for word in words)
    return {word: math.log(len(documents) / count) for word, count in frequency.items()}


def _postings(english: list[set[str]]) -> dict[str, list[int]]:
    """Token -> the English passages holding it; stopwords and tokens too common to tell
    passages apart are left out (they would make the alignment compare every pair)."""
    postings: dict[str, list[int]] = {}
    for i, words in enumerate(english):
        for word in words:
            if not is_stopword(word):
                postings.setdefault(word, []).append(i)
    common = max(COMMON_MIN, COMMON_SHARE * len(english))
    return {word: found for word, found in postings.items() if len(found) <= common}


def _aligned(
    es_words: set[str], postings: dict[str, list[int]], rarity: dict[str, float]
) -> list[int]:
    """The English passages sharing the most rarity with a Spanish one (`MIN_SHARED` tokens at
    least), found through the shared tokens' postings rather than by comparing every pair."""
    shared: Counter[int] = Counter()
    score: dict[int, float] = {}
    for word in es_words:
        for i in postings.get(word, ()):
            shared[i] += 1
            score[i] = score.get(i, 0.0) + rarity[word]
    ranked = sorted(((score[i], i) for i in shared if shared[i] >= MIN_SHARED), reverse=True)
    return [i for _, i in ranked[:ALIGNED_PER_PASSAGE]]


def _pairable(word: str) -> bool:
    return len(word) >= MIN_WORD and word.isalpha() and not is_stopword(word)


def cognates(spanish: str, english: str) -> bool:
    """Whether two folded words look like one word in both languages."""
    mapped = _english_like(spanish)
    for target in {english, english.removesuffix("s")}:
        shared = len(_common_prefix(mapped, target))
        if shared >= MIN_SHARED_PREFIX and _similarity(mapped, target) > MIN_SIMILARITY:
            return True
    return False


def _english_like(word: str) -> str:
    word = _LEADING_ES.sub("s", word)
    for spanish, english in _SUFFIXES:
        if word.endswith(spanish):
            return word[: -len(spanish)] + english
    return word


def _common_prefix(a: str, b: str) -> str:
    size = 0
    while size < min(len(a), len(b)) and a[size] == b[size]:
        size += 1
    return a[:size]


def _similarity(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b, autojunk=False).ratio()
