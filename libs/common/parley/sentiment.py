"""The sentiment role: how negative, positive, neutral or mixed a customer's message is.

`SentimentAnalyser` is the Protocol; adapters are Amazon Comprehend `DetectSentiment` in AWS and
an offline English + Spanish lexicon analyser by default (both in the escalation service). The
`Sentiment` model mirrors Comprehend's answer, so either adapter fills it the same way.
"""

from __future__ import annotations

from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

SentimentLabel = Literal["POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"]


class SentimentScores(BaseModel):
    """Confidence of each label, each in [0, 1] (Comprehend's `SentimentScore`)."""

    model_config = ConfigDict(frozen=True)

    positive: float = Field(default=0.0, ge=0, le=1)
    negative: float = Field(default=0.0, ge=0, le=1)
    neutral: float = Field(default=1.0, ge=0, le=1)
    mixed: float = Field(default=0.0, ge=0, le=1)


class Sentiment(BaseModel):
    """The analysis of one text: the dominant label, the scores, and the cues that drove it
    (words, emoji, "sarcasm"; an analyser that cannot tell, such as Comprehend, leaves it empty)."""

    model_config = ConfigDict(frozen=True)

    label: SentimentLabel
    scores: SentimentScores = Field(default_factory=SentimentScores)
    cues: tuple[str, ...] = ()

    @property
    def negative(self) -> float:
        return self.scores.negative


class SentimentAnalyser(Protocol):
    """Analyses a customer's text in `language` ("en" or "es"; others may fall back to "en")."""

    def analyse(self, text: str, language: str) -> Sentiment: ...
