"""Redis cache of answers to repeated questions, keyed by the normalised question, the knowledge
base version and the agent. Redis being down only means no caching."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from parley.retrieval import Passage

PREFIX = "parley:ai:answer:"
_NOT_WORD = re.compile(r"[^a-z0-9]+")


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
    raw = "|".join((normalise(question), kb_version, agent, language))
    return PREFIX + hashlib.sha256(raw.encode()).hexdigest()


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
