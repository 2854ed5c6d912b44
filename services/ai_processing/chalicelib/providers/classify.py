"""Intent classification. Locally: TF-IDF cosine between the message and each intent's examples from
the agents configuration (Snowball stems in English and Spanish, accent-folded), so `matrícula`,
`matricula` and `tuition` examples all count. With a model: the prompt that asks for a structured
answer (JSON with the intent and the model's confidence) and its validation."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib.knowledge.language import tokens
from chalicelib.providers.question import topic_words, word_stems

_CENTROID_WEIGHT = 0.3  # the best single example decides most; the intent's vocabulary helps


def features(text: str) -> Counter[str]:
    """Stems of the text's topic words in both languages (fillers and chat shorthand handled as
    in question.py); all its words when it has no others."""
    words = topic_words(text) or tokens(text)
    counts: Counter[str] = Counter()
    for word in words:
        counts.update(word_stems(word))
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


class Classification(BaseModel):
    """A model's answer to the supervisor: `{"intent": "...", "confidence": 0.0-1.0}`."""

    model_config = ConfigDict(extra="ignore")

    intent: str = Field(min_length=1, max_length=64)
    confidence: float = Field(ge=0.0, le=1.0)


def classification_prompt(intents: Sequence[tuple[str, str]]) -> str:
    """The system prompt that asks a model for a structured classification."""
    lines = "\n".join(f"- {name}: {description}" for name, description in intents)
    return (
        "Classify the customer's message into exactly one of the intents below. Reply with one "
        'JSON object and nothing else: {"intent": "<intent name>", "confidence": <a number from '
        "0 to 1: how sure you are>}.\n"
        f"Intents:\n{lines}"
    )


_JSON_OBJECT = re.compile(r"\{.*?\}", re.DOTALL)


def parse_classification(answer: str, intents: Sequence[str]) -> tuple[str, float] | None:
    """`(intent, confidence)` from the model's answer (a JSON object, possibly fenced or with
    words around it), or None when it is not valid or names no known intent."""
    for match in _JSON_OBJECT.finditer(answer):
        try:
            parsed = Classification.model_validate_json(match.group(0))
        except ValidationError:
            continue
        name = parsed.intent.strip().lower()
        if name in intents:
            return name, parsed.confidence
        return None
    return None
