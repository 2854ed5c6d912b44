"""Repeated failure: the customer says the assistant is not helping, or asks again what they
already asked.

Two weak answers in a row are the context service's business (it sees the answers' confidence);
this module reads only what the customer writes: complaints about the assistant ("you're not
helping", "eso no responde mi pregunta", "ya te lo pregunté") and a new message that repeats an
earlier one (same content words, Jaccard similarity at least `thresholds.repeat_similarity`,
at least `repeat_min_shared_words` shared words: greetings never count).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from chalicelib.signals.models import Signal
from chalicelib.signals.policy import EscalationPolicy
from chalicelib.signals.text import content_words

_YOU = r"(?:you|you're|you are|this bot|the bot|this chat|this assistant|the assistant|bot|it)"
_COMPLAINTS = tuple(
    re.compile(pattern)
    for pattern in (
        rf"\b{_YOU}\s+(?:is|are|'s|'re)?\s*(?:not|isn't|aren't|still not)\s+(?:helping|helpful|"
        r"understanding|listening|answering|getting it)\b",
        r"\b(?:this|that|it|your answer|the answer)(?:'s| is| was)?\s+(?:not|isn't|wasn't)\s+"
        r"(?:helpful|helping|useful|what i (?:asked|said|wanted|need|needed))\b",
        r"\b(?:you|that|this|it|your answer|this bot|the bot|this chat|the assistant|this thing)\s+"
        r"(?:doesn't|didn't|does not|did not|don't|do not)\s+"
        r"(?:help|answer (?:my|the) question|understand|get it)\b",
        r"\bnot what i (?:asked|said|wanted|need|needed)\b|\bthat wasn't my question\b",
        r"\b(?:useless|stupid|dumb|worthless|pointless) (?:bot|answer|answers|assistant|chat|"
        r"chatbot|robot|reply|replies|response)\b|\b(?:bot|assistant|chatbot|robot|you)\s+"
        r"(?:is|are|'s|'re)\s+(?:so\s+)?(?:useless|stupid|dumb|worthless|no help)\b",
        r"\byou (?:keep|kept) (?:giving|saying|repeating|sending|telling)\b|\bsame (?:answer|"
        r"thing|response|reply|message) (?:again|over)\b|\bgoing (?:around )?in circles\b",
        r"\b(?:i )?already (?:asked|told you|said)\b|\bi (?:just )?asked (?:you )?(?:that|this)\b|"
        r"\banswer my question\b|\bfor the (?:second|third|2nd|3rd) time\b",
        r"\bno me (?:esta|estas|estan)\s+(?:entendiendo|ayudando|respondiendo)\b|"
        r"\bno me (?:entiendes|ayudas|ayudaste|sirve|sirves|sirvio)\b|"
        r"\bno (?:entiendes|sirves|ayudas)\b",
        r"\beso no (?:responde|contesta|es lo que|me sirve|ayuda)\b|\bno (?:responde|respondes|"
        r"contesta|contestas|contestaste|respondiste) (?:a )?(?:mi|la) pregunta\b",
        r"\bno (?:es|era|fue) lo que (?:pregunte|pedi|quiero|necesito|dije)\b",
        r"\b(?:wrong|incorrect) (?:answer|info|information|link|response)\b|"
        r"\b(?:gave|sent|told) me (?:the )?wrong\b|\b(?:me respondes|me contestas|me dices|me das)"
        r" (?:otra vez |de nuevo |siempre )?lo mismo\b",
        r"\bnot (?:my|the) question\b|\b(?:esa|eso|esta) no (?:es|era) (?:mi pregunta|la pregunta|"
        r"lo que (?:pregunte|pedi|quiero|necesito))\b",
        r"^(?:again|i repeat|once again|otra vez|de nuevo|repito|te repito|vuelvo a preguntar)\b|"
        r"\b(?:i'll|let me|i will) ask (?:again|one more time)\b|\basking again\b|"
        r"\bte (?:lo )?vuelvo a preguntar\b|\bpregunto (?:de nuevo|otra vez)\b",
        r"\bsame (?:answer|thing|response|reply|info|message)\b(?:\s+\S+){0,4}?\s*(?:again|before|"
        r"already|as before|you gave|you sent|you said|over)\b|\b(?:you )?(?:already|just) (?:gave|"
        r"sent|told|said) (?:me )?(?:that|this|the same)\b",
        r"\bya (?:te |le |les )?(?:lo )?(?:pregunte|dije|he preguntado|he dicho|escribi)\b|"
        r"\bte lo (?:repito|vuelvo a preguntar|pregunte|dije)\b|\bpor (?:segunda|tercera) vez\b",
        r"\b(?:otra vez|de nuevo|siempre) (?:lo mismo|la misma respuesta)\b|\bme (?:sigues|sigue|"
        r"siguen) (?:diciendo|respondiendo|mandando|contestando) lo mismo\b",
        r"\b(?:sigues|sigue|vuelves a|keep|keeps)\s+(?:\w+\s+)?(?:diciendo|respondiendo|mandando|"
        r"contestando|enviando|dando|poniendo|sending|giving|saying|telling)\b(?:\s+\S+){0,2}?\s+"
        r"(?:lo mismo|la misma|el mismo|los mismos|las mismas|the same)\b",
        r"\b(?:bot|robot|asistente|chat) (?:inutil|tonto|no sirve)\b|\b(?:eres|es) (?:un |una )?"
        r"(?:inutil|tonto|tonta)\b|\bno (?:sirve|sirves) para nada\b|\bdando vueltas\b",
    )
)


def detect_failure(
    texts: Sequence[str], earlier: Sequence[str], policy: EscalationPolicy
) -> Signal | None:
    """A repeated-failure signal from normalised new messages and the raw earlier ones."""
    for text in texts:
        for pattern in _COMPLAINTS:
            match = pattern.search(text)
            if match:
                return Signal(kind="repeated_failure", evidence=(match.group(0),))
    return _repeat(texts, earlier, policy)


def _repeat(
    texts: Sequence[str], earlier: Sequence[str], policy: EscalationPolicy
) -> Signal | None:
    limits = policy.thresholds
    previous = [content_words(text) for text in earlier[-limits.repeat_lookback :]]
    for text in texts:
        words = content_words(text)
        for old in previous:
            shared = words & old
            if len(shared) < limits.repeat_min_shared_words:
                continue
            similarity = len(shared) / len(words | old)
            if similarity >= limits.repeat_similarity:
                evidence = ("repeats an earlier question: " + " ".join(sorted(shared)),)
                return Signal(kind="repeated_failure", evidence=evidence, score=similarity)
    return None
