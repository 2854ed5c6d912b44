"""Redis cache of answers to repeated questions, keyed by the normalised question, the knowledge
base version, the agent, the language and the "KB-only" marker. Redis being down only means no
caching.

Only answers that depend on the knowledge base alone are shared between customers: no tool but
`search_knowledge` was called, nothing personal (a placeholder of the customer's data) was in the
request, and the answer did not lean on the conversation so far: its question stands on its own
(no follow-up words such as "and for ...", "it", "eso") and, when the model saw earlier messages
or a summary, every search it made used words of the question alone.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from parley.retrieval import Passage

PREFIX = "parley:ai:answer:"
KB_ONLY = "kb-only"
KB_TOOL = "search_knowledge"
_NOT_WORD = re.compile(r"[^a-z0-9]+")
# Words that make a question lean on what was said before (lower case, accents dropped).
_FOLLOW_UP_START = re.compile(
    r"^(?:and|also|so|then|what about|how about|what if|same|y|e|tambien|entonces|"
    r"y si|que tal|lo mismo)\b"
)


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_BACK_REFERENCE = _word_set(
    "it its that this these those they them there same eso esto ese esa esos esas ello "
    "aquello alli ahi mismo misma"
)
_FUNCTION_WORDS = _word_set(
    "the and for are was were what when where which who how does did can could would should "
    "you your our with from about have has had there their any some much many is a an of to "
    "in on at do i me my la el los las del que cual cuales cuando donde como cuanto cuanta "
    "para por con una uno unos unas mis tus sus hay son es de en se me mi lo le"
)


class CachedAnswer(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str
    buttons: list[str] = Field(default_factory=list)
    sources: list[Passage] = Field(default_factory=list)
    intent: str = ""


def normalise(question: str) -> str:
    """Lower case, accents and punctuation dropped, whitespace collapsed."""
    folded = unicodedata.normalize("NFKD", question.lower())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return _NOT_WORD.sub(" ", plain).strip()


def cache_key(question: str, kb_version: str, agent: str, language: str) -> str:
    """The key of a KB-only answer (the only kind the cache holds)."""
    raw = "|".join((normalise(question), kb_version, agent, language, KB_ONLY))
    return PREFIX + hashlib.sha256(raw.encode()).hexdigest()


def _words(text: str) -> list[str]:
    return normalise(text).split()


def _content_words(text: str) -> set[str]:
    """The question's own words, a trailing plural `s` dropped."""
    words = (w for w in _words(text) if len(w) > 2 and w not in _FUNCTION_WORDS)
    return {w[:-1] if len(w) > 4 and w.endswith("s") else w for w in words}


def stands_alone(question: str) -> bool:
    """A question that means the same whatever was said before it."""
    words = _words(question)
    if not words or _FOLLOW_UP_START.match(" ".join(words)):
        return False
    return not _BACK_REFERENCE & set(words) and bool(_content_words(question))


def may_look_up(question: str, *, personal: bool) -> bool:
    """Whether a cached answer may be given to this question."""
    return not personal and stands_alone(question)


def may_store(
    question: str,
    *,
    has_context: bool,
    personal: bool,
    tools: Sequence[str],
    queries: Sequence[str],
) -> bool:
    """Whether the answer depends on the knowledge base alone, so any customer may get it."""
    if not may_look_up(question, personal=personal):
        return False
    if not tools or any(name != KB_TOOL for name in tools):
        return False
    asked = _content_words(question)
    return not has_context or all(_content_words(q) <= asked for q in queries)


class ResponseCache:
    """Get/put answers; every Redis error is swallowed (and counted) so a turn never fails on it."""

    def __init__(self, redis: Any, ttl_seconds: int = 3600, logger: Any = None) -> None:
        self.redis = redis
        self.ttl = ttl_seconds
        self.logger = logger
        self.errors = 0

    def get(self, key: str) -> CachedAnswer | None:
        if self.redis is None or self.ttl <= 0:
            return None
        try:
            raw = self.redis.get(key)
            return CachedAnswer.model_validate(json.loads(raw)) if raw else None
        except (ValueError, ValidationError):
            return None
        except Exception as exc:
            self._failed("get", exc)
            return None

    def put(self, key: str, answer: CachedAnswer) -> None:
        if self.redis is None or self.ttl <= 0:
            return
        try:
            self.redis.set(key, answer.model_dump_json(), ex=self.ttl)
        except Exception as exc:
            self._failed("put", exc)

    def _failed(self, operation: str, exc: Exception) -> None:
        self.errors += 1
        if self.logger is not None:
            self.logger.warning(
                "response cache unavailable",
                extra={"operation": operation, "error": type(exc).__name__},
            )
