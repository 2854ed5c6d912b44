"""Sarcasm cues: praise that means the opposite.

"great, another useless answer 🙄", "genial, otra vez lo mismo", "yeah right", "gracias por
nada", "love how nobody answers". A cue is either an explicit sarcastic formula, or a positive
word together with an eye-roll emoji, or a positive word followed by "another / again / otra vez"
in a negative context. The analyser then reads the praise as blame.
"""

from __future__ import annotations

import re

from chalicelib.signals.lexicon import EYE_ROLL

_FORMULAS = re.compile(
    r"\byeah,? right\b|\bya,? claro\b|\bsi,? claro\b|\bclaro,? claro\b|"
    r"\bthanks? (?:you )?for nothing\b|\bgracias por nada\b|"
    r"\boh,? (?:great|wonderful|perfect|fantastic|joy|genial|perfecto)\b|"
    r"\bjust (?:great|perfect|wonderful|fantastic|lovely)\b|(?:^|\s)/s\b|"
    r"\bwow,? (?:so|very|such|really|muy|que) (?:helpful|useful|fast|quick|util|rapido)\b"
)
_PRAISE = (
    r"\b(?:great|perfect|wonderful|awesome|fantastic|nice|lovely|amazing|brilliant|genial|"
    r"perfecto|perfecta|excelente|maravilloso|que bien|buenisimo|estupendo|fenomenal)\b"
)
_PRAISE_THEN_AGAIN = re.compile(
    _PRAISE + r"[\s,.!]*(?:\w+\W+){0,2}?"
    r"(?:another|again|yet another|otra vez|otra|otro|de nuevo|una vez mas)\b"
)
_QUOTED_OR_SURE = re.compile(r"[\"'][^\"']{4,80}[\"']|^(?:sure|yeah|ok|okay|claro|si|aja)\b")
_LOVE_HOW = re.compile(r"\b(?:i )?love (?:how|that|it when)\b|\bme encanta (?:como|que)\b")
_PRAISE_ANYWHERE = re.compile(_PRAISE + r"|\b(?:thanks|thank you|gracias|helpful|util)\b")
_NEGATIVE_CONTEXT = re.compile(
    r"\b(?:same|mismo|misma|waiting|esperando|nothing|nada|useless|inutil|nobody|nadie|"
    r"never|nunca|still|todavia|broken|crashed|caido|down|error|wrong|no one|ignored)\b"
)


def sarcasm_cue(normalised: str, original: str, negative_evidence: bool) -> str | None:
    """The sarcastic formula found, or None. `negative_evidence` says whether the text already
    holds negative words, which a praise-then-"again" cue needs."""
    formula = _FORMULAS.search(normalised)
    if formula:
        return formula.group(0).strip()
    eye_roll = any(emoji in original for emoji in EYE_ROLL)
    praise = _PRAISE_ANYWHERE.search(normalised)
    if eye_roll and praise:
        return f"{praise.group(0)} + eye-roll"
    if eye_roll and _QUOTED_OR_SURE.search(normalised):
        return "quoted promise + eye-roll"
    negative_context = negative_evidence or bool(_NEGATIVE_CONTEXT.search(normalised))
    again = _PRAISE_THEN_AGAIN.search(normalised)
    if again and negative_context:
        return again.group(0)
    love_how = _LOVE_HOW.search(normalised)
    if love_how and negative_context:
        return love_how.group(0)
    return None
