"""The supervisor: picks the intent (and so the domain agent) of a customer message.

Rules first: an explicit request for a person, then small talk (greetings, thanks, goodbyes, with
emoji and slang). Then, with a real model, a structured classification — JSON with the intent and
the model's confidence, validated — and otherwise (or when the model's answer is not valid) the
configuration's examples: TF-IDF cosine over stems in both languages (providers/classify.py),
joined by the knowledge base's evidence when a retriever is given: the documents its best
passages come from, mapped to intents by the configuration (`documents:` of an intent). A message
none of whose words belongs to the business's vocabulary (its intents' examples and
descriptions, the knowledge base's glossary) is out of scope.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from functools import cached_property

from chalicelib.agents.schema import AgentsConfig
from chalicelib.providers import phrases
from chalicelib.providers.classify import (
    IntentClassifier,
    classification_prompt,
    parse_classification,
)
from chalicelib.providers.question import analyse
from chalicelib.turns.scope import KindPrior, Scope
from parley.chat import ChatMessage, ChatModel, ChatRequest
from parley.errors import ParleyError
from parley.retrieval import Passage, Retriever

SMALL_TALK_CONFIDENCE = 0.95
EVIDENCE_WEIGHT = 1.0  # the knowledge base's evidence against the examples' (weight 1)
EVIDENCE_PASSAGES = 10
OFF_TOPIC_MARGIN = 0.1  # the off-topic examples beat every other intent's by this much
# Small talk's kind -> the intent that answers it, when the configuration has that intent.
SMALL_TALK_INTENTS = {
    "greeting": ("greeting",),
    "thanks": ("thanks", "goodbye"),
    "goodbye": ("goodbye",),
}


@dataclass(frozen=True)
class Route:
    intent: str
    agent: str
    confidence: float
    by: str  # "rule", "examples" or "model"


class Supervisor:
    """Routes a (redacted) customer message to an intent and its agent."""

    def __init__(
        self,
        config: AgentsConfig,
        model: ChatModel | None = None,
        use_model: bool = False,
        retriever: Retriever | None = None,
    ) -> None:
        self.config = config
        self.model = model
        self.use_model = use_model and model is not None
        self.retriever = retriever

    @cached_property
    def classifier(self) -> IntentClassifier:
        intents = {
            i.name: [e for texts in i.examples.values() for e in texts]
            for i in self.config.supervisor.intents
        }
        return IntentClassifier(intents)

    @cached_property
    def scope(self) -> Scope:
        return Scope(self.config)

    @cached_property
    def kinds(self) -> KindPrior:
        return KindPrior(self.config)

    def route(self, text: str, language: str) -> Route:
        sup = self.config.supervisor
        if wants_person(text):
            return self._route(sup.human_intent, 1.0, "rule")
        kind = phrases.small_talk(text) or ("greeting" if phrases.is_filler(text) else None)
        small = self._small_talk_intent(kind)
        if small is not None:
            return self._route(small, SMALL_TALK_CONFIDENCE, "rule")
        if self.use_model:
            asked = self._ask_model(text, language)
            if asked is not None:
                return self._route(*asked, "model")
        return self._by_examples(text)

    def _by_examples(self, text: str) -> Route:
        sup = self.config.supervisor
        scores = self.classifier.scores(text)
        passages = self._search(text)
        off = scores.get(sup.out_of_scope_intent, 0.0)
        others = max((s for n, s in scores.items() if n != sup.out_of_scope_intent), default=0.0)
        if off > others + OFF_TOPIC_MARGIN or not self.scope.includes(text, passages):
            return self._route(sup.out_of_scope_intent, off)
        evidence = self._shares(passages)
        if evidence:
            share = 1.0 / (1.0 + EVIDENCE_WEIGHT)
            scores = {
                n: (s + EVIDENCE_WEIGHT * evidence.get(n, 0.0)) * share for n, s in scores.items()
            }
        scores = self.kinds.weigh(scores, analyse(text).kind)
        intent = max(scores, key=lambda n: scores[n], default="unknown")
        if scores.get(intent, 0.0) <= 0.0:
            return Route("unknown", sup.fallback_agent, 0.0, "examples")
        return self._route(intent, min(1.0, scores[intent]))

    def _search(self, text: str) -> list[Passage]:
        """The knowledge base's best passages for the message; none without a retriever."""
        if self.retriever is None:
            return []
        try:
            return list(self.retriever.search(text, k=EVIDENCE_PASSAGES))
        except ParleyError:
            return []

    def _shares(self, passages: Sequence[Passage]) -> dict[str, float]:
        """Each intent's rank-weighted share of the passages: a passage counts for the intent
        its document is mapped to, else (a document about many things, like a FAQ) for the
        intent its section heading reads as."""
        weights: dict[str, float] = {}
        for rank, passage in enumerate(passages):
            intent = self._passage_intent(passage)
            if intent is not None:
                weights[intent] = weights.get(intent, 0.0) + 1.0 / (1 + rank)
        total = sum(weights.values())
        return {intent: w / total for intent, w in weights.items()} if total else {}

    def _passage_intent(self, passage: Passage) -> str | None:
        name = posixpath.basename(passage.document)
        section = passage.section.lower()
        for sectioned in (True, False):  # `document#section` patterns first: they are narrower
            for intent, patterns in self._documents:
                if any(("#" in p) == sectioned and _matches(name, section, p) for p in patterns):
                    return intent
        if not passage.section:
            return None
        mapped = {intent for intent, _ in self._documents}
        heading = passage.section.rsplit(">", 1)[-1]
        scores = {n: s for n, s in self.classifier.scores(heading).items() if n in mapped}
        best = max(scores, key=lambda n: scores[n], default=None)
        return best if best is not None and scores[best] > 0 else None

    @cached_property
    def _documents(self) -> list[tuple[str, Sequence[str]]]:
        return [(i.name, i.documents) for i in self.config.supervisor.intents if i.documents]

    def _small_talk_intent(self, kind: str | None) -> str | None:
        if kind is None:
            return None
        names = {i.name for i in self.config.supervisor.intents}
        return next((n for n in SMALL_TALK_INTENTS[kind] if n in names), None)

    def _route(self, intent: str, confidence: float, by: str = "examples") -> Route:
        found = self.config.intent(intent)
        agent = found.agent if found else self.config.supervisor.fallback_agent
        return Route(intent, agent, round(confidence, 3), by)

    def _ask_model(self, text: str, language: str) -> tuple[str, float] | None:
        """The model's classification, or None when it fails or answers outside the schema."""
        assert self.model is not None
        sup = self.config.supervisor
        intents = [(i.name, i.description) for i in sup.intents]
        request = ChatRequest(
            system=classification_prompt(intents),
            messages=[ChatMessage(role="user", content=text)],
            tier=sup.tier,
            max_tokens=60,
            temperature=0.0,
            language=language,
        )
        try:
            answer = self.model.complete(request).text or ""
        except ParleyError:
            return None
        return parse_classification(answer, [name for name, _ in intents])


def _matches(name: str, section: str, pattern: str) -> bool:
    """`tuition-*.md` against the document's file name; `*.md#*status*` also against the
    passage's section path (lower case)."""
    document, _, heading = pattern.partition("#")
    if not fnmatch(name, document):
        return False
    return not heading or fnmatch(section, heading.lower())


def wants_person(text: str) -> bool:
    """An explicit request to talk to a person (the rule before any classifier)."""
    return phrases.wants_person(text)
