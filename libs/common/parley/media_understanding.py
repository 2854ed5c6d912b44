"""Understanding inbound media: the roles (Protocols) the media service's engines fill, their
results and their errors.

AWS adapters (Transcribe, Rekognition, Textract) and real offline ones (pocketsphinx, Tesseract,
the `parley.extraction` extractors) implement the same roles; settings choose which. Results are
pydantic models so they travel in events as they are.

Errors: an engine that failed in a way worth retrying raises `MediaEngineError` (retryable); one
that refused the input for good raises `MediaEngineRejected`; input no engine can read raises
`UnreadableMedia`; a language the engine has no model for raises `UnsupportedLanguage`; a missing
local binary (ffmpeg, tesseract) raises `EngineUnavailable`. Only `MediaEngineError` is retryable.
"""

from __future__ import annotations

import io
import wave
from typing import ClassVar, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from parley.errors import DependencyError, InvalidInput, PermanentDependencyError


class Audio16k(BaseModel):
    """Decoded audio: 16 kHz, mono, signed 16-bit little-endian PCM (what recognisers take)."""

    model_config = ConfigDict(frozen=True)

    SAMPLE_RATE: ClassVar[int] = 16000
    pcm: bytes = Field(repr=False)

    @property
    def samples(self) -> int:
        return len(self.pcm) // 2

    @property
    def duration_seconds(self) -> float:
        return self.samples / self.SAMPLE_RATE

    def wav_bytes(self) -> bytes:
        """The audio as a WAV file (for engines that read files, such as Amazon Transcribe)."""
        out = io.BytesIO()
        with wave.open(out, "wb") as writer:
            writer.setnchannels(1)
            writer.setsampwidth(2)
            writer.setframerate(self.SAMPLE_RATE)
            writer.writeframes(self.pcm)
        return out.getvalue()


class Transcript(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str
    confidence: float = Field(ge=0.0, le=1.0)  # the engine's word confidences, averaged
    language: str  # BCP-47, e.g. `en-US`


class ModerationLabel(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    parent: str = ""
    confidence: float = Field(ge=0.0, le=1.0)


class ImageReading(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str = ""  # printed text found in the image, one line per line
    labels: list[str] = Field(default_factory=list)  # what the image shows, most likely first
    moderation: list[ModerationLabel] = Field(default_factory=list)
    width: int | None = None
    height: int | None = None


class DocumentText(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str
    pages: int | None = None
    title: str = ""


UnderstandingStatus = Literal[
    "understood",  # `text` holds what the media says
    "empty",  # read, but nothing to say (no speech, no text)
    "too_short",  # a clip under the minimum: no engine was called
    "too_long",  # a clip over the maximum: no engine was called
    "cannot_listen",  # a language the configured recogniser has no model for
    "unreadable",  # broken or undecodable file, or an engine refused it for good
    "unsupported",  # a kind or type nothing here reads
]


class Understanding(BaseModel):
    """What the media service learned from one file, for the AI and for the customer."""

    model_config = ConfigDict(frozen=True)

    kind: str
    status: UnderstandingStatus
    text: str = ""  # for the AI: transcript, text in the image, or the document's text
    # For the customer when the media could not be understood (an honest answer in their
    # language, e.g. "I can't listen to this one, could you type it?").
    reply: str | None = None
    # "I heard: …, is that right?" when a transcript's confidence is below the threshold.
    confirmation: str | None = None
    reason: str | None = None  # the error code or rule behind a status other than understood
    truncated: bool = False  # `text` was cut to the configured maximum
    duration_seconds: float | None = None
    transcript: Transcript | None = None
    image: ImageReading | None = None
    document: DocumentText | None = None


class Transcriber(Protocol):
    """Speech to text. `language_hint` is the session's language (`en`, `es-US`...) or None."""

    def transcribe(self, audio: Audio16k, language_hint: str | None) -> Transcript: ...


class ImageReader(Protocol):
    """Printed text, labels and moderation labels of an image (`mime` as sniffed)."""

    def read(self, image_bytes: bytes, mime: str) -> ImageReading: ...


class DocumentReader(Protocol):
    """The text of a document (`mime` as sniffed; `filename` as sent, may be empty)."""

    def read(self, data: bytes, mime: str, filename: str) -> DocumentText: ...


class MediaEngineError(DependencyError):
    """An engine failed (throttled, timed out, unavailable): retrying may succeed."""

    code = "media_engine_error"


class MediaEngineRejected(PermanentDependencyError):
    """An engine refused the input for good (bad format, too large, failed job)."""

    code = "media_engine_rejected"


class EngineUnavailable(PermanentDependencyError):
    """A local engine binary (ffmpeg, tesseract) is not installed where the service runs."""

    code = "engine_unavailable"


class UnreadableMedia(InvalidInput):
    """The file cannot be decoded or read (broken, or not what its type says)."""

    code = "unreadable_media"


class UnsupportedLanguage(InvalidInput):
    """The configured engine has no model for the language (e.g. Spanish speech offline)."""

    code = "unsupported_language"


def primary_language(code: str | None) -> str:
    """`es-US`, `es_MX`, `ES` -> `es`; "" for None."""
    return (code or "").replace("_", "-").split("-", 1)[0].strip().lower()
