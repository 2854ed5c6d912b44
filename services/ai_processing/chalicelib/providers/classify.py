"""Intent classification for the local provider: TF-IDF cosine between the message and each intent's
examples from the agents configuration (Snowball stems in English and Spanish, accent-folded), so
`matrícula`, `matricula` and `tuition` examples all count."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence

from chalicelib.knowledge.language import STOPWORDS, stem, tokens

_CENTROID_WEIGHT = 0.3  # the best single example decides most; the intent's vocabulary helps


def features(text: str) -> Counter[str]:
    """Stems of the text's content words in both languages (all words when it has no others)."""
    words = tokens(text)
    content = [w for w in words if w not in STOPWORDS["en"] and w not in STOPWORDS["es"]]
    counts: Counter[str] = Counter()
    for word in content or words:
        counts.update({stem(word, "en"), stem(word, "es")})
    return counts


class IntentClassifier:
    """Built once per configuration; `classify` is cheap (a few hundred examples)."""

    def __init__(self, intents: Mapping[str, Sequence[str]]) -> None:
        examples = {name: [features(e) for e in texts] for name, texts in intents.items()}
        documents = [f for fs in examples.values() for f in fs]
        frequency: Counter[str] = Counter(term for f in documents for term in f)
        self._idf = {t: math.log((1 + len(documents)) / (1 + n)) + 1 for t, n in frequency.items()}
        self._examples = {name: [self._vector(f) for f in fs] for name, fs in examples.items()}
        self._centroids = {name: _sum(vectors) for name, vectors in self._examples.items()}

    def _vector(self, counts: Counter[str]) -> dict[str, float]:
        return {t: n * self._idf.get(t, 0.0) for t, n in counts.items() if t in self._idf}

    def scores(self, text: str) -> dict[str, float]:
        query = self._vector(features(text))
        result = {}
        for name, vectors in self._examples.items():
            best = max((_cosine(query, v) for v in vectors), default=0.0)
            centroid = _cosine(query, self._centroids[name])
            result[name] = (1 - _CENTROID_WEIGHT) * best + _CENTROID_WEIGHT * centroid
        return result

    def classify(self, text: str, *, default: str = "unknown") -> tuple[str, float]:
        """The best intent and its score in 0..1; `(default, 0.0)` when no example shares a word."""
        scores = self.scores(text)
        if not scores or max(scores.values()) <= 0.0:
            return default, 0.0
        name = max(scores, key=lambda n: (scores[n], -list(scores).index(n)))
        return name, round(min(1.0, scores[name]), 4)


def classify_intent(
    text: str, intents: Mapping[str, Sequence[str]], *, default: str = "unknown"
) -> tuple[str, float]:
    """`(intent, confidence)` for a message given `{intent: [examples...]}`; build an
    `IntentClassifier` once instead when classifying many messages with one configuration."""
    return IntentClassifier(intents).classify(text, default=default)


def _sum(vectors: Sequence[dict[str, float]]) -> dict[str, float]:
    total: dict[str, float] = {}
    for vector in vectors:
        for term, weight in vector.items():
            total[term] = total.get(term, 0.0) + weight
    return total


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(w * b.get(t, 0.0) for t, w in a.items())
    norm = math.sqrt(sum(w * w for w in a.values())) * math.sqrt(sum(w * w for w in b.values()))
    return dot / norm if norm else 0.0
