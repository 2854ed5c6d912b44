"""Routing accuracy and retrieval hit rate on a labeled set of English and Spanish messages
(tests/data/labeled_turns.yaml), against the shipped agents configuration and the demo index.

Thresholds: routing accuracy >= 0.85 overall and >= 0.80 per language; retrieval hit rate
(the expected document among the top 4 passages; for a Spanish message the Spanish FAQ,
preguntas-frecuentes.md, which covers every topic in Spanish, counts too) >= 0.85.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from test_turn_support import DemoRetriever

from chalicelib.agents import load_shipped
from chalicelib.turns.language import detect_language
from chalicelib.turns.routing import Supervisor

LABELED = Path(__file__).resolve().parent / "data" / "labeled_turns.yaml"
ROUTING_ACCURACY = 0.85
ROUTING_ACCURACY_PER_LANGUAGE = 0.80
RETRIEVAL_HIT_RATE = 0.85
TOP_K = 4
SPANISH_FAQ = "preguntas-frecuentes.md"


def labeled() -> list[dict[str, str]]:
    return list(yaml.safe_load(LABELED.read_text(encoding="utf-8")))


def test_the_set_has_sixty_messages_in_both_languages() -> None:
    items = labeled()
    languages = {detect_language(item["text"]) for item in items}
    assert len(items) >= 60 and languages == {"en", "es"}


def test_routing_accuracy() -> None:
    supervisor = Supervisor(load_shipped())
    per_language: dict[str, list[bool]] = {"en": [], "es": []}
    misses = []
    for item in labeled():
        language = detect_language(item["text"])
        route = supervisor.route(item["text"], language)
        per_language[language].append(route.intent == item["intent"])
        if route.intent != item["intent"]:
            misses.append((item["text"], item["intent"], route.intent))
    results = per_language["en"] + per_language["es"]
    accuracy = sum(results) / len(results)
    print(f"routing accuracy {accuracy:.3f} on {len(results)}; misses: {misses}")
    assert accuracy >= ROUTING_ACCURACY, misses
    for language, hits in per_language.items():
        assert sum(hits) / len(hits) >= ROUTING_ACCURACY_PER_LANGUAGE, (language, misses)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRetriever:
    return DemoRetriever(tmp_path_factory.mktemp("kb"))


def test_retrieval_hit_rate(demo: DemoRetriever) -> None:
    items = [item for item in labeled() if item.get("doc")]
    misses = []
    for item in items:
        found = [p.document.rsplit("/", 1)[-1] for p in demo.search(item["text"], k=TOP_K)]
        accepted = {item["doc"]}
        if detect_language(item["text"]) == "es":
            accepted.add(SPANISH_FAQ)
        if not accepted & set(found):
            misses.append((item["text"], item["doc"], found[:2]))
    rate = 1 - len(misses) / len(items)
    print(f"retrieval hit rate {rate:.3f} on {len(items)}; misses: {misses}")
    assert rate >= RETRIEVAL_HIT_RATE, misses
