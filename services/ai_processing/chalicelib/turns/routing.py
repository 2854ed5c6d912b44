"""The supervisor: picks the intent (and so the domain agent) of a customer message.

Locally it compares the message with the configuration's examples (IDF-weighted word overlap,
accents folded, crude plural stripping); with a real model it asks the model and falls back to the
examples when the answer is not an intent name. An explicit request for a person is a rule.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

from chalicelib.agents.schema import AgentsConfig
from parley.chat import ChatMessage, ChatModel, ChatRequest
from parley.errors import ParleyError

_WORD = re.compile(r"[a-z0-9]+")
_HUMAN = re.compile(
    r"\b(person|human|real person|agent|advisor|counselor|representative|persona|humano|"
    r"asesor|asesora|agente|alguien de verdad)\b",
    re.IGNORECASE,
)
_ASK = re.compile(
    r"\b(talk|speak|connect|transfer|hablar|comunic|pasame|p[aá]same|quiero|need|necesito)",
    re.IGNORECASE,
)


def tokens(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return [w[:-1] if len(w) > 4 and w.endswith("s") else w for w in _WORD.findall(plain)]


@dataclass(frozen=True)
class Route:
    intent: str
    agent: str
    confidence: float
    by: str  # "rule", "examples" or "model"


class ExampleClassifier:
    """Nearest example by IDF-weighted cosine over word sets."""

    def __init__(self, config: AgentsConfig) -> None:
        self.examples: list[tuple[str, set[str]]] = []
        for intent in config.supervisor.intents:
            for texts in intent.examples.values():
                self.examples += [(intent.name, set(tokens(t))) for t in texts]
        counts = Counter(word for _, words in self.examples for word in words)
        total = len(self.examples)
        self.idf = {w: math.log(1 + total / c) for w, c in counts.items()}

    def classify(self, text: str) -> tuple[str | None, float]:
        query = set(tokens(text))
        best: tuple[str | None, float] = (None, 0.0)
        for intent, words in self.examples:
            score = self._cosine(query, words)
            if score > best[1]:
                best = (intent, score)
        return best

    def _cosine(self, a: set[str], b: set[str]) -> float:
        shared = sum(self.idf.get(w, 0.0) ** 2 for w in a & b)
        if not shared:
            return 0.0
        norm_a = math.sqrt(sum(self.idf.get(w, 2.5) ** 2 for w in a))
        norm_b = math.sqrt(sum(self.idf[w] ** 2 for w in b))
        return shared / (norm_a * norm_b)


class Supervisor:
    """Routes a (redacted) customer message to an intent and its agent."""

    def __init__(
        self, config: AgentsConfig, model: ChatModel | None = None, use_model: bool = False
    ) -> None:
        self.config = config
        self.classifier = ExampleClassifier(config)
        self.model = model
        self.use_model = use_model and model is not None

    def route(self, text: str, language: str) -> Route:
        sup = self.config.supervisor
        if wants_person(text):
            return self._route(sup.human_intent, 1.0, "rule")
        if self.use_model:
            asked = self._ask_model(text, language)
            if asked is not None:
                return self._route(asked, 0.9, "model")
        intent, score = self.classifier.classify(text)
        if intent is None:
            return Route("unknown", sup.fallback_agent, 0.0, "examples")
        return self._route(intent, round(score, 3), "examples")

    def _route(self, intent: str, confidence: float, by: str) -> Route:
        found = self.config.intent(intent)
        agent = found.agent if found else self.config.supervisor.fallback_agent
        return Route(intent, agent, confidence, by)

    def _ask_model(self, text: str, language: str) -> str | None:
        assert self.model is not None
        names = [i.name for i in self.config.supervisor.intents]
        lines = "\n".join(f"- {i.name}: {i.description}" for i in self.config.supervisor.intents)
        request = ChatRequest(
            system="Classify the customer's message. Answer with one intent name only.\n" + lines,
            messages=[ChatMessage(role="user", content=text)],
            tier=self.config.supervisor.tier,
            max_tokens=16,
            temperature=0.0,
            language=language,
        )
        try:
            answer = (self.model.complete(request).text or "").strip().lower()
        except ParleyError:
            return None
        return next((n for n in names if n in answer), None)


def wants_person(text: str) -> bool:
    """An explicit request to talk to a person (the rule before any classifier)."""
    return bool(_HUMAN.search(text)) and bool(_ASK.search(text))
