"""General English and Spanish words, so that typo correction leaves real words alone.

A question word the knowledge base never uses may still be a word ("talk", "many", "quiero"): it
must not be "corrected" to a knowledge-base word one letter away ("walk", "may"). The word lists
are pyspellchecker's (frequency lists shipped inside its pure-Python wheel, nothing fetched);
loaded once per process (~0.3 s), when a retriever loads an index version or on the first unknown
word that has a correction candidate.
"""

from __future__ import annotations

import threading

from chalicelib.knowledge.language import LANGUAGES, fold

MIN_FREQUENCY = 20  # rarer entries of the lists include misspellings

_lock = threading.Lock()
_words: frozenset[str] | None = None


def is_word(word: str) -> bool:
    """Whether a folded, lower-case word is an English or Spanish word."""
    return word in load()


def load() -> frozenset[str]:
    """The word lists, folded (loaded on first use)."""
    global _words
    with _lock:
        if _words is None:
            from spellchecker import SpellChecker

            words: set[str] = set()
            for language in LANGUAGES:
                counts = SpellChecker(language=language, distance=1).word_frequency.dictionary
                words.update(fold(w) for w, n in counts.items() if n >= MIN_FREQUENCY)
            _words = frozenset(words)
        return _words
