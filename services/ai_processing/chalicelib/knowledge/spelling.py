"""Typo tolerance: a query word the index has never seen becomes the closest word it has.

Only unknown words are touched (a word is known when it, or its English or Spanish stem, is in the
index's vocabulary, or it is a stopword or a glossary term, or a word of the general dictionary):
"tution" -> "tuition", "scolarship" -> "scholarship", while "plazo", "studying" or "talk" stay as
they are. One edit (insertion, deletion,
substitution or swap of neighbours) is tolerated from 4 letters, two from 8; the nearest word wins,
then one with the same first letter, then the more frequent. Candidates come from a symmetric-delete
dictionary (SymSpell) built once per index version, on the first unknown word.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from itertools import combinations

from chalicelib.knowledge.language import LANGUAGES, stem
from parley.edit_distance import edit_distance as shared_edit_distance

MIN_LENGTH = 4  # shorter words are too ambiguous to correct
TWO_EDITS_FROM = 8


def _no_dictionary(word: str) -> bool:
    return False


class Speller:
    """Corrects query words against an index's vocabulary (word -> frequency)."""

    def __init__(
        self,
        frequencies: Mapping[str, int],
        also_known: Iterable[str] = (),
        stems: Iterable[str] | None = None,
        dictionary: Callable[[str], bool] = _no_dictionary,
    ) -> None:
        """`stems`: the vocabulary's English and Spanish stems, when the index stored them;
        `dictionary`: whether a word is a word of the language at all (asked last)."""
        self.frequencies = dict(frequencies)
        self._known = set(self.frequencies) | set(also_known)
        self._stems = set(stems) if stems is not None else None
        self._dictionary = dictionary
        self._deletes: dict[str, list[str]] | None = None
        self._lock = threading.Lock()

    def known(self, word: str) -> bool:
        return word in self._known

    def correct(self, word: str) -> str:
        """The word itself when known, short, not alphabetic or unlike any vocabulary word."""
        if len(word) < MIN_LENGTH or not word.isalpha() or self._is_known(word):
            return word
        edits = 2 if len(word) >= TWO_EDITS_FROM else 1
        found = [
            (distance, candidate[0] != word[0], -self.frequencies[candidate], candidate)
            for candidate in self._candidates(word, edits)
            if (distance := edit_distance(word, candidate, edits)) <= edits
        ]
        if not found or self._dictionary(word):
            return word
        return min(found)[-1]

    def _is_known(self, word: str) -> bool:
        if word in self._known:
            return True
        stems = self._vocabulary_stems()
        return any(stem(word, language) in stems for language in LANGUAGES)

    def _vocabulary_stems(self) -> set[str]:
        if self._stems is None:
            self._stems = {stem(w, lang) for w in self.frequencies for lang in LANGUAGES}
        return self._stems

    def warm(self) -> None:
        """Build the lookup structures now rather than on the first unknown word."""
        self._vocabulary_stems()
        self._delete_index()

    def _candidates(self, word: str, edits: int) -> set[str]:
        index = self._delete_index()
        found: set[str] = set()
        for variant in deletions(word, edits):
            found.update(index.get(variant, ()))
        return found

    def _delete_index(self) -> dict[str, list[str]]:
        with self._lock:
            if self._deletes is None:
                index: dict[str, list[str]] = {}
                for word in self.frequencies:
                    if len(word) >= MIN_LENGTH - 1 and word.isalpha():
                        for variant in deletions(word, 2):
                            index.setdefault(variant, []).append(word)
                self._deletes = index
            return self._deletes


def deletions(word: str, edits: int) -> set[str]:
    """The word with up to `edits` letters left out (the word itself included)."""
    found = {word}
    for count in range(1, min(edits, len(word) - 1) + 1):
        for positions in combinations(range(len(word)), count):
            found.add("".join(ch for i, ch in enumerate(word) if i not in positions))
    return found


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance, `limit + 1` past `limit` (parley.edit_distance)."""
    return shared_edit_distance(a, b, limit)
