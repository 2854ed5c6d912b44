"""Whether a message is about the business at all (the supervisor's out-of-scope test), and the
prior the kind of answer it asks for gives each intent.

In scope when it names one of the business's own terms — a word of an intent's description or a
glossary term of the knowledge base — or when at least half of its topic words are words the
business uses: in its intents' examples or in the passages the knowledge base returns for it.
`who won the football game last night?` shares only `last` and `night` with them: out of scope;
`is there airport pickup?` is in the documents: in scope.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from chalicelib.agents.schema import AgentsConfig
from chalicelib.providers.glossary import entries_by_length
from chalicelib.providers.question import analyse, content_stems, topic_words, word_stems
from parley.retrieval import Passage

KNOWN_SHARE = 0.5
PRIOR_WEIGHT = 0.3  # how much the kind of answer asked for moves an intent's score
PRIOR_SMOOTHING = 1.0


class Scope:
    def __init__(self, config: AgentsConfig) -> None:
        sup = config.supervisor
        in_scope = [i for i in sup.intents if i.name != sup.out_of_scope_intent]
        entries = entries_by_length()
        self.terms = frozenset(
            {s for i in in_scope for s in content_stems(i.description)}
            | {p[0] for entry in entries for _, p in entry if len(p) == 1}
        )
        self.phrases = [frozenset(p) for entry in entries for _, p in entry if len(p) > 1]
        examples = (e for i in in_scope for es in i.examples.values() for e in es)
        self.known = frozenset(s for e in examples for s in content_stems(e))

    def includes(self, text: str, passages: Sequence[Passage] = ()) -> bool:
        words = [word_stems(w) for w in topic_words(text)]
        if not words:
            return True  # nothing to judge by (a code, a number): not out of scope
        said = set().union(*words)
        if said & self.terms or any(phrase <= said for phrase in self.phrases):
            return True
        known = self.known | _stems(p.text for p in passages)
        return sum(bool(w & known) for w in words) >= KNOWN_SHARE * len(words)


def _stems(texts: Iterable[str]) -> set[str]:
    return {s for text in texts for s in content_stems(text)}


class KindPrior:
    """How often each intent's examples ask for each kind of answer (an amount, a date...): a
    `how much` question about the MBA is more likely about costs than about programs when the
    costs intent's examples ask `how much` and the programs intent's do not."""

    def __init__(self, config: AgentsConfig) -> None:
        self.counts: dict[str, Counter[str]] = {}
        for intent in config.supervisor.intents:
            texts = [e for es in intent.examples.values() for e in es]
            self.counts[intent.name] = Counter(analyse(t).kind or "" for t in texts)

    def weigh(self, scores: Mapping[str, float], kind: str | None) -> dict[str, float]:
        if not kind:
            return dict(scores)
        share = {
            name: (counts[kind] + PRIOR_SMOOTHING) / (sum(counts.values()) + PRIOR_SMOOTHING)
            for name, counts in self.counts.items()
        }
        top = max(share.values(), default=0.0) or 1.0
        return {
            n: s * (1 - PRIOR_WEIGHT + PRIOR_WEIGHT * share.get(n, 0.0) / top)
            for n, s in scores.items()
        }
