"""`ComprehendSentimentAnalyser`: the `SentimentAnalyser` on Amazon Comprehend DetectSentiment.

Used only when configured (the offline `LexiconSentimentAnalyser` is the default). The client is
passed in, or built lazily with `parley.aws` (explicit timeouts, standard retries, honours
`AWS_ENDPOINT_URL`). Comprehend accepts at most 5,000 UTF-8 bytes: longer text keeps its end
(the newest messages). Errors become Parley errors (throttling and service faults retryable,
a refused request not), unless a `fallback` analyser is given, which then answers instead.
"""

from __future__ import annotations

from typing import Any

from parley.errors import DependencyError, InvalidInput, ParleyError, Throttled
from parley.sentiment import Sentiment, SentimentAnalyser, SentimentScores

MAX_BYTES = 4_900
LANGUAGES = frozenset({"en", "es", "fr", "de", "it", "pt", "ar", "hi", "ja", "ko", "zh"})
_THROTTLED = frozenset({"ThrottlingException", "TooManyRequestsException"})
_REFUSED = frozenset(
    {"InvalidRequestException", "TextSizeLimitExceededException", "UnsupportedLanguageException"}
)


class ComprehendSentimentAnalyser:
    """Amazon Comprehend `DetectSentiment` in English, Spanish (and Comprehend's other
    languages; anything else is sent as English)."""

    def __init__(self, client: Any = None, *, fallback: SentimentAnalyser | None = None) -> None:
        self._client = client
        self._fallback = fallback

    @property
    def client(self) -> Any:
        if self._client is None:
            from parley import aws

            self._client = aws.client("comprehend")
        return self._client

    def analyse(self, text: str, language: str) -> Sentiment:
        body = truncate(text)
        if not body.strip():
            return Sentiment(label="NEUTRAL")
        try:
            answer = self._detect(body, language_code(language))
        except ParleyError:
            if self._fallback is None:
                raise
            return self._fallback.analyse(text, language)
        scores = answer["SentimentScore"]
        return Sentiment(
            label=answer["Sentiment"],
            scores=SentimentScores(
                positive=scores["Positive"],
                negative=scores["Negative"],
                neutral=scores["Neutral"],
                mixed=scores["Mixed"],
            ),
        )

    def _detect(self, text: str, code: str) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return dict(self.client.detect_sentiment(Text=text, LanguageCode=code))
        except ClientError as exc:
            raise _error(exc) from exc
        except BotoCoreError as exc:
            raise DependencyError(f"comprehend detect_sentiment: {type(exc).__name__}") from exc


def language_code(language: str) -> str:
    code = (language or "en")[:2].lower()
    return code if code in LANGUAGES else "en"


def truncate(text: str, limit: int = MAX_BYTES) -> str:
    """The last `limit` UTF-8 bytes of `text`, cut at a character boundary."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[-limit:].decode("utf-8", errors="ignore")


def _error(exc: Any) -> ParleyError:
    code = str(exc.response.get("Error", {}).get("Code", ""))
    message = f"comprehend detect_sentiment failed: {code or 'error'}"
    if code in _THROTTLED:
        return Throttled(message)
    if code in _REFUSED:
        return InvalidInput(message)
    return DependencyError(message)
