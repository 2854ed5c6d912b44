"""NegEx-style negation scope for English and Spanish.

A negation trigger ("don't", "no", "nunca", "sin", ...) opens a scope over at least the next
word that runs forward until punctuation, a contrast or restart word ("but", "pero", "sino",
"just", "I want", "quiero", ...) or `MAX_SCOPE_WORDS` words, whichever comes first. A match
that starts inside a scope is negated. Pseudo-triggers look like negation but are not ("no one
answers", "can't I talk to someone?", "no problem", "¿no hay nadie?"): they open no scope.

Two trigger sets: `GENERIC` (any negation; used for explicit requests and for sentiment) and
`DECLINE` (the customer declines or disclaims: "I don't want", "no need", "no voy a"; used for
the sensitive topics whose policy allows it, so "I never got my refund" stays a refund topic).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_SCOPE_WORDS = 6

_GENERIC = (
    r"\b(?:not|no|never|nor|neither|without|don't|do not|doesn't|does not|didn't|did not|"
    r"won't|wouldn't|isn't|aren't|wasn't|weren't|shouldn't|ni|nunca|jamas|sin|tampoco)\b"
)
_DECLINE = (
    r"\b(?:(?:i |we )?(?:don't|do not|didn't|did not) (?:want|need|wanna|have to|require)|"
    r"no need|not necessary|no thanks|no thank you|i'm not (?:going to|asking|trying|looking)|"
    r"not going to|not asking|not looking|never said|won't|"
    r"no (?:quiero|queremos|necesito|necesitamos|voy a|vamos a|pienso|estoy pidiendo|busco)|"
    r"no hace falta|no es necesario|no hay necesidad)\b"
)
_PSEUDO = (
    r"\b(?:no one|nobody|no problem|no worries|no doubt|not only|not sure|why not|"
    r"can't|cannot|couldn't|don't know|do not know|didn't know|wouldn't mind|"
    r"isn't there|aren't there|is there not|no more than|"
    r"no puedo|no pude|no pueden|no puede|no podemos|no podria|no se|no sabia|no hay|"
    r"no me (?:pueden|puedes|puede|podrian|podrias|importaria)|no te preocupes|"
    r"no entiendo|no estoy segur[oa])\b"
)
_TERMINATOR = (
    r"[.,;:!?\n¡¿]|\s(?:but|pero|sino|aunque|though|although|however|instead|rather|just|only|"
    r"solo|so|entonces|because|porque|i want|i need|i'd like|i would like|quiero|necesito|"
    r"prefiero|mejor|y quiero|and i)\b"
)

GENERIC = re.compile(_GENERIC)
DECLINE = re.compile(_DECLINE)
PSEUDO = re.compile(_PSEUDO)
TERMINATOR = re.compile(_TERMINATOR)
_WORD = re.compile(r"\S+")
_FIRST_WORD = re.compile(r"[^\S\n]*[\w']+")


@dataclass(frozen=True)
class Scope:
    """A negated stretch of normalised text: the trigger and the characters it covers."""

    trigger: str
    start: int
    end: int

    def covers(self, position: int) -> bool:
        return self.start <= position < self.end


def scopes(text: str, triggers: re.Pattern[str] = GENERIC) -> list[Scope]:
    """The negation scopes of a normalised text."""
    pseudo = [m.span() for m in PSEUDO.finditer(text)]
    found = []
    for match in triggers.finditer(text):
        if any(s <= match.start() < e for s, e in pseudo):
            continue
        found.append(Scope(match.group(0), match.end(), _scope_end(text, match.end())))
    return found


def _scope_end(text: str, start: int) -> int:
    # The first word is always in scope: "no quiero que me llamen", "don't want a person".
    first = _FIRST_WORD.match(text, start)
    if first is None:  # punctuation right after the trigger: "no, I want a person"
        return start
    stop = TERMINATOR.search(text, first.end())
    end = stop.start() if stop else len(text)
    words = list(_WORD.finditer(text, start, end))
    if len(words) > MAX_SCOPE_WORDS:
        end = words[MAX_SCOPE_WORDS - 1].end()
    return end


def is_negated(position: int, found: list[Scope]) -> bool:
    """Whether a match starting at `position` lies in one of the scopes."""
    return any(scope.covers(position) for scope in found)
