"""Chat language made searchable: lower case, accents folded, elongations squashed ("holaaa"),
chat shorthand expanded ("xq", "pls", "info") in the message's language, filler words ("hola",
"please", "puedo") known as such.

Typos are corrected afterwards against the index's own vocabulary (`spelling.py`); shorthand and
filler are data (`chat.yaml`), not code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from chalicelib.knowledge.language import LANGUAGES, Language, detect_language, fold, tokens

CHAT = Path(__file__).with_name("chat.yaml")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built with it
_ELONGATED = re.compile(r"([^\W\d_])\1{2,}")  # three or more of one letter
_COMPOUND = re.compile(r"(?<![\w.+-])[^\W_]{1,4}(?:[-./][^\W_]{1,4})+(?![\w+-]|\.\w)")
_SPANISH_MARKS = "¿¡ñáéíóú"


@dataclass(frozen=True)
class ChatText:
    words: tuple[str, ...]
    """Lower case, accent-folded words, shorthand expanded."""
    language: Language


@dataclass(frozen=True)
class ChatWords:
    shorthand: dict[Language, dict[str, tuple[str, ...]]]
    """Per language: shorthand -> the words it stands for."""
    filler: dict[Language, frozenset[str]]


@cache
def chat_words() -> ChatWords:
    """`chat.yaml`, folded."""
    data = yaml.load(CHAT.read_text(encoding="utf-8"), _LOADER) or {}
    shorthand, filler = data.get("shorthand") or {}, data.get("filler") or {}
    return ChatWords(
        shorthand={
            language: {
                fold(str(short).lower()): tuple(tokens(fold(str(full).lower())))
                for short, full in (shorthand.get(language) or {}).items()
            }
            for language in LANGUAGES
        },
        filler={
            language: frozenset(fold(str(word).lower()) for word in filler.get(language) or ())
            for language in LANGUAGES
        },
    )


def abbreviations() -> dict[Language, dict[str, tuple[str, ...]]]:
    """Per language: shorthand -> the words it stands for (folded)."""
    return chat_words().shorthand


def _nothing_known(word: str) -> bool:
    return False


def normalise(text: str, known: Callable[[str], bool] = _nothing_known) -> ChatText:
    """The message's words as the index spells them, and its language.

    `known` tells whether a word is in the index's vocabulary: it decides whether "feees" was
    "fees" (two letters) or "holaaa" was "hola" (one)."""
    words = [squash(word, known) for word in tokens(fold(text.lower()))] + compounds(text)
    chat = chat_words()
    en, es = chat.shorthand["en"], chat.shorthand["es"]
    # Shorthand of one language only is expanded first: it also tells the language.
    shared = en.keys() & es.keys()
    unambiguous = {w: v for one in (en, es) for w, v in one.items() if w not in shared}
    first = _expand(words, unambiguous)
    marks = "".join(ch for ch in text.lower() if ch in _SPANISH_MARKS)
    language = detect_language(f"{' '.join(first)} {marks}", also=chat.filler)
    return ChatText(tuple(_expand(first, chat.shorthand[language])), language)


def compounds(text: str) -> list[str]:
    """Short parts joined by hyphens or dots, as one word: `I-20` -> `i20`, `B.S.N.` -> `bsn`,
    `F-1` -> `f1` (how chat writes them; the tokens alone, `i` and `20`, say little)."""
    joined = (re.sub(r"[-./]", "", fold(m.group().lower())) for m in _COMPOUND.finditer(text))
    return [word for word in joined if len(word) > 2 or not word.isalpha()]  # not `U.S.`, `a.m.`


def squash(word: str, known: Callable[[str], bool] = _nothing_known) -> str:
    """`holaaa` -> `hola`; `feees` -> `fees` when that is a known word."""
    if not _ELONGATED.search(word):
        return word
    two = _ELONGATED.sub(r"\1\1", word)
    return two if known(two) else _ELONGATED.sub(r"\1", word)


def _expand(words: list[str], table: Mapping[str, tuple[str, ...]]) -> list[str]:
    expanded: list[str] = []
    for word in words:
        expanded.extend(table.get(word, (word,)))
    return expanded
