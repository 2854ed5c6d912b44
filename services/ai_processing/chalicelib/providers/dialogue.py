"""The question a turn asks: several messages sent together (a burst) ask the question in them —
greetings and fillers (`hola`, `tengo una pregunta`, `quick question`) are dropped — and a short
follow-up (`and for graduate students?`, `¿y para posgrado?`, a tapped reply button) asks the
earlier question again about what it names."""

from __future__ import annotations

import re
from collections.abc import Sequence

from chalicelib.knowledge.language import fold, tokens
from chalicelib.providers import phrases
from chalicelib.providers.question import analyse

MAX_FOLLOW_UP_TERMS = 3
MAX_FOLLOW_UP_WORDS = 8
# A question ending on a pronoun asks about what was said before (`how much is it?`).
_PRONOUN = re.compile(r"\b(?:it|that|this|those|them|one|eso|esto|ese|esa|ella|el)\W*$")
_FOLLOW_UP = re.compile(
    r"^(?:and|&|what about|how about|and what about|and for|and if|also for|same for|"
    r"what if|and the|and in|and on|and with|y|y para|y los|y las|y el|y la|y si|y en|y con|"
    r"y que tal|que tal|y sobre|e|para|for|about|sobre)\b"
)
_LEAD = re.compile(
    r"^\W*(?:and what about|what about|how about|and for|and if|also for|same for|what if|"
    r"and|y que tal|que tal|y para|y sobre|y|para|for|about|sobre)\b\W*",
    re.IGNORECASE,
)
# Words of one kind that exclude each other: a follow-up naming one replaces the other in the
# earlier question (`when is the fall deadline?` + `and spring?`).
_CONTRASTS = (
    "fall autumn spring summer winter otono primavera verano invierno",
    "monday tuesday wednesday thursday friday saturday sunday lunes martes miercoles jueves "
    "viernes sabado domingo",
    "january february march april may june july august september october november december "
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "online presencial morning afternoon evening night manana tarde noche",
    "first second third fourth primer segundo tercer cuarto",
)
_PREFIXES = ("under", "post", "pos", "pre", "non", "sub", "un", "in", "no")


def question_of(texts: Sequence[str]) -> str:
    """The burst's question: its messages without greetings, thanks and fillers, each without a
    leading greeting, a follow-up among them joined to the message before it; the burst as sent
    when nothing else is left (small talk)."""
    kept: list[str] = []
    for text in (t.strip() for t in texts):
        if not text or phrases.small_talk(text) or phrases.is_filler(text):
            continue
        said = phrases.strip_opening(text)
        if kept and is_follow_up(said):
            kept[-1] = combine(kept[-1], said)
        else:
            kept.append(said)
    return "\n".join(kept) if kept else "\n".join(t.strip() for t in texts if t.strip())


def is_follow_up(text: str) -> bool:
    """A short message that leans on the earlier question: it names only what changes (`and
    for graduate students?`, `¿y para posgrado?`, a tapped button `Graduate`) or asks only for
    another kind of answer about the same thing (`what time?`, `how much is it?`)."""
    plain = " ".join(fold(w) for w in tokens(text))
    words = len(plain.split())
    question = analyse(text)
    topic = [t for t, w in question.weighted_terms.items() if w >= 1.0]
    if len(question.terms) > MAX_FOLLOW_UP_TERMS or words > MAX_FOLLOW_UP_WORDS:
        return False
    if _FOLLOW_UP.match(plain):
        return bool(question.terms) and (question.kind is None or words <= 5)
    if not topic:
        return question.kind is not None or _PRONOUN.search(plain) is not None
    if _PRONOUN.search(plain) and len(topic) <= 2:
        return True
    return question.kind is None and not question.yes_no and words <= 3


def resolve(question: str, earlier: Sequence[str]) -> str:
    """The question to answer: a follow-up asked as the latest earlier question that was not
    one, with what the follow-up names; any other question as it is. `earlier` holds the
    customer's earlier messages, oldest first (a message may hold a burst, one per line)."""
    if not is_follow_up(question):
        return question
    for message in reversed(earlier):
        lines = [line for line in message.splitlines() if line.strip()]
        for line in reversed(lines):
            asked = question_of([line])
            if phrases.small_talk(asked) or phrases.is_filler(asked) or is_follow_up(asked):
                continue
            if not analyse(asked).terms:
                continue
            return combine(asked, question)
    return question


def combine(earlier: str, follow_up: str) -> str:
    """`When is the fall deadline?` + `and for spring?` -> `When is the deadline spring?`: the
    earlier question without the words the follow-up replaces, then what the follow-up names,
    in one question."""
    named = _LEAD.sub("", follow_up.strip()).strip(" ?¿!¡.")
    new = {fold(w) for w in tokens(named)}
    kept = [w for w in earlier.split() if not any(_replaces(n, fold(_bare(w))) for n in new)]
    asked = " ".join(kept).rstrip(" ?")
    return f"{asked} {named}?".strip() if named else " ".join(kept)


def _bare(word: str) -> str:
    return re.sub(r"^\W+|\W+$", "", word.lower())


def _replaces(new: str, old: str) -> bool:
    if not new or not old or new == old:
        return False
    if any(new in group.split() and old in group.split() for group in _CONTRASTS):
        return True
    return _root(new) == _root(old) and len(_root(new)) >= 4


def _root(word: str) -> str:
    """`undergraduate` and `graduate`, `pregrado` and `posgrado` share a root."""
    for prefix in _PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 4:
            return word[len(prefix) :]
    return word
