"""`LexiconSentimentAnalyser`: the offline English + Spanish `SentimentAnalyser`.

How a text is scored (a VADER-like scheme over `lexicon`):
1. normalise (accents, case, elongations, chat spelling);
2. blank figures of speech ("this deadline is killing me", "me muero de ganas"), keeping
   their own, harmless valence;
3. score multi-word expressions ("fed up", "hasta las narices", "nobody answers"), then words,
   each scaled by a preceding intensifier ("so", "muy") or dampener ("a bit", "un poco"), and
   reversed and weakened (x -0.74) inside a negation scope ("not bad", "no estoy enojada");
4. words before "but / pero" count half, words after it one and a half;
5. emoji add their valence; exclamation marks and shouted words amplify the negative side;
6. a sarcasm cue turns praise into blame ("great, another useless answer 🙄");
7. scores: negative = N / (N + P + 1), positive = P / (N + P + 1), the rest neutral; when both
   sides are substantial part of each becomes `mixed`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chalicelib.signals import lexicon, negation
from chalicelib.signals.sarcasm import sarcasm_cue
from chalicelib.signals.text import mask, normalise
from parley.sentiment import Sentiment, SentimentLabel, SentimentScores

NEGATION_FACTOR = -0.74
SARCASM_VALENCE = -1.5
BEFORE_BUT, AFTER_BUT = 0.5, 1.5
_CONTRAST = re.compile(r"\b(?:but|pero|aunque|though|although|however|sin embargo)\b")
_WORD = re.compile(r"[a-z']+")
_SHOUTED = re.compile(r"\b[A-ZÁÉÍÓÚÑ]{3,}\b")
_ACRONYMS = frozenset(
    [
        "MBA",
        "SAT",
        "ACT",
        "GPA",
        "TOEFL",
        "IELTS",
        "FAFSA",
        "GED",
        "FERPA",
        "BBA",
        "USA",
        "ESL",
        "PDF",
        "OPT",
        "CPT",
        "ISS",
        "DNI",
        "NIE",
        "CURP",
        "RFC",
        "FAQ",
        "STEM",
        "MSN",
        "BSN",
        "PHD",
    ]
)


@dataclass(frozen=True)
class _Hit:
    start: int
    value: float
    cue: str
    is_word: bool = False


class LexiconSentimentAnalyser:
    """Offline sentiment for English and Spanish; no network, no model files."""

    def analyse(self, text: str, language: str = "en") -> Sentiment:
        clean = normalise(text)
        normalised, hits = _figures_of_speech(clean)
        normalised, phrase_hits = _phrases(normalised)
        hits += phrase_hits + _words(normalised)
        hits = _contrast(normalised, hits)
        negative_seen = any(hit.value < 0 for hit in hits) or _has_negative_emoji(text)
        cue = sarcasm_cue(clean, text, negative_seen)
        if cue:
            hits = [_Hit(h.start, -abs(h.value), h.cue, h.is_word) for h in hits]
            hits.append(_Hit(0, SARCASM_VALENCE, "sarcasm"))
        hits += _emoji(text)
        return _sentiment(hits, _amplifier(text))


def _figures_of_speech(text: str) -> tuple[str, list[_Hit]]:
    hits, spans = [], []
    for pattern, value in lexicon.FIGURES_OF_SPEECH:
        for match in pattern.finditer(text):
            spans.append(match.span())
            if value:
                hits.append(_Hit(match.start(), value, match.group(0)))
    return mask(text, spans), hits


def _phrases(text: str) -> tuple[str, list[_Hit]]:
    hits, spans = [], []
    for pattern, value in lexicon.PHRASES:
        for match in pattern.finditer(text):
            spans.append(match.span())
            factor = _modifier(text[: match.start()].split())
            hits.append(_Hit(match.start(), value * factor, match.group(0)))
    return mask(text, spans), hits


def _words(text: str) -> list[_Hit]:
    scopes = negation.scopes(text)
    hits = []
    for match in _WORD.finditer(text):
        value = lexicon.valence(match.group(0))
        if not value:
            continue
        value *= _modifier(text[: match.start()].split())
        if negation.is_negated(match.start(), scopes):
            value *= NEGATION_FACTOR
        hits.append(_Hit(match.start(), value, match.group(0), is_word=True))
    return hits


def _modifier(previous: list[str]) -> float:
    """Scale from the one or two words before: an intensifier or a dampener."""
    factor = 1.0
    for word in previous[-2:]:
        skeleton = lexicon.skeleton(word)
        factor *= lexicon.INTENSIFIER.get(skeleton, 1.0) * lexicon.DAMPENER.get(skeleton, 1.0)
    return factor


def _contrast(text: str, hits: list[_Hit]) -> list[_Hit]:
    """Words before the last "but / pero" weigh less, words after it more."""
    contrasts = list(_CONTRAST.finditer(text))
    if not contrasts:
        return hits
    pivot = contrasts[-1].start()
    return [
        _Hit(h.start, h.value * (BEFORE_BUT if h.start < pivot else AFTER_BUT), h.cue, h.is_word)
        for h in hits
    ]


def _emoji(text: str) -> list[_Hit]:
    return [
        _Hit(len(text), value, emoji)
        for emoji, value in lexicon.EMOJI_VALENCE.items()
        for _ in range(min(text.count(emoji), 3))
    ]


def _has_negative_emoji(text: str) -> bool:
    return any(value < 0 and emoji in text for emoji, value in lexicon.EMOJI_VALENCE.items())


def _amplifier(text: str) -> float:
    """Exclamation marks and shouted words (not acronyms) make the negative side louder."""
    shouted = [w for w in _SHOUTED.findall(text) if w not in _ACRONYMS]
    factor = 1.0 + 0.08 * min(text.count("!"), 4)
    if shouted and not text.isupper():
        factor += 0.2
    return factor


def _sentiment(hits: list[_Hit], amplifier: float) -> Sentiment:
    negative = sum(-h.value for h in hits if h.value < 0) * amplifier
    positive = sum(h.value for h in hits if h.value > 0)
    base = negative + positive + 1.0
    mixed = min(negative, positive) / base if negative >= 1 and positive >= 1 else 0.0
    scores = SentimentScores(
        positive=positive / base - mixed / 2,
        negative=negative / base - mixed / 2,
        neutral=1.0 / base,
        mixed=mixed,
    )
    cues = tuple(dict.fromkeys(h.cue for h in sorted(hits, key=lambda h: h.value)))
    return Sentiment(label=_label(scores), scores=scores, cues=cues[:8])


def _label(scores: SentimentScores) -> SentimentLabel:
    ranked: list[tuple[float, SentimentLabel]] = [
        (scores.negative, "NEGATIVE"),
        (scores.positive, "POSITIVE"),
        (scores.mixed, "MIXED"),
        (scores.neutral, "NEUTRAL"),
    ]
    return max(ranked, key=lambda pair: pair[0])[1]
