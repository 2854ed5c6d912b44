"""Sensitive topics from the policy (safety, harassment, discrimination, legal, billing...):
always escalated with the topic's priority.

Each topic is a set of patterns with optional `not_patterns` (a match overlapping one is not
the topic: "refund policy", "legal guardian"). A topic whose policy says `negation: decline`
is skipped when the customer declines or disclaims it ("I don't want a refund", "I'm not going
to sue anyone"); otherwise negation never suppresses it ("I don't feel safe" is the topic).
Figures of speech ("this deadline is killing me") are blanked first, and a match about killing
or dying in a joking or laughing message ("my dad's gonna kill me if I don't get in lmao") is
a figure of speech too: neither is danger. (Self-harm has its own, stricter rules.)
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from chalicelib.signals import negation
from chalicelib.signals.lexicon import FIGURES_OF_SPEECH, LAUGHTER
from chalicelib.signals.models import Signal
from chalicelib.signals.policy import EscalationPolicy, SensitiveTopic
from chalicelib.signals.text import mask

_PRIORITY_SCORE = {"urgent": 1.0, "high": 0.9, "normal": 0.8}
_VIOLENT_FIGURE = re.compile(
    r"\b(?:kill\w*|murder\w*|die|dying|dead|mat(?:ar|a|an|ando)|muer\w*)\b"
)


def detect_sensitive(texts: Sequence[str], policy: EscalationPolicy) -> list[Signal]:
    """One signal per sensitive topic found in the normalised messages, in policy order."""
    readable = [_without_figures(text) for text in texts]
    found = []
    for topic in policy.sensitive_topics:
        evidence = _evidence(readable, topic)
        if evidence:
            score = _PRIORITY_SCORE[topic.priority]
            found.append(
                Signal(kind="sensitive_topic", topic=topic.name, evidence=evidence, score=score)
            )
    return found


def _evidence(texts: Sequence[str], topic: SensitiveTopic) -> tuple[str, ...]:
    words: list[str] = []
    for text in texts:
        words += _matches(text, topic)
    return tuple(dict.fromkeys(words))[:5]


def _matches(text: str, topic: SensitiveTopic) -> list[str]:
    excluded = [m.span() for p in topic.not_patterns.all() for m in p.finditer(text)]
    scopes = negation.scopes(text, negation.DECLINE) if topic.negation == "decline" else []
    joking = bool(LAUGHTER.search(text))
    words = []
    for pattern in topic.patterns.all():
        for match in pattern.finditer(text):
            if _overlaps(match.span(), excluded) or negation.is_negated(match.start(), scopes):
                continue
            if joking and _VIOLENT_FIGURE.search(match.group(0)):
                continue
            words.append(match.group(0).strip())
    return words


def _overlaps(span: tuple[int, int], others: Sequence[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in others)


def _without_figures(text: str) -> str:
    spans = [m.span() for pattern, _ in FIGURES_OF_SPEECH for m in pattern.finditer(text)]
    return mask(text, spans) if spans else text
