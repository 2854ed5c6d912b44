"""Understanding one downloaded, validated media file: the media handler's one call.

Retryable engine errors (`MediaEngineError`: throttled, timed out) propagate, so the job is retried;
permanent ones become an `Understanding` whose `reply` tells the customer honestly, in their
language, that the file could not be understood.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from chalicelib.engines import audio as audio_decoding
from chalicelib.engines.confirm import confirmation, message, needs_confirmation
from chalicelib.engines.factory import Engines
from parley.errors import ParleyError
from parley.extraction import UnsupportedDocument
from parley.media_types import base_mime
from parley.media_understanding import Understanding, UnderstandingStatus, UnsupportedLanguage

if TYPE_CHECKING:
    from parley.business_profile import BusinessProfile

_READERS: dict[str, str] = {
    "audio": "audio",
    "video": "audio",
    "image": "image",
    "sticker": "image",
    "document": "document",
}


def understand(
    media: bytes | Path,
    mime: str,
    kind: str,
    *,
    engines: Engines,
    language: str | None = None,
    filename: str = "",
    profile: BusinessProfile | None = None,
) -> Understanding:
    """What `media` (bytes or a file path) of WhatsApp `kind` (audio, video, image, sticker,
    document) and sniffed `mime` says. `language` is the session's (`en`, `es`, ...): the hint for
    speech and the language of any reply to the customer, whose wording comes from `profile`
    (default: the BUSINESS_PROFILE setting's)."""
    data = media.read_bytes() if isinstance(media, Path) else media
    reader = _READERS.get(kind)
    if kind == "document" and base_mime(mime).startswith("image/"):
        reader = "image"  # a photo sent as a document
    if reader is None:
        return _answer(kind, "unsupported", language, profile, reason="unsupported_kind")
    readers: dict[str, Callable[[], Understanding]] = {
        "audio": lambda: _listen(data, mime, kind, engines, language, profile),
        "image": lambda: _look(data, mime, kind, engines, language, profile),
        "document": lambda: _read(data, mime, kind, engines, language, filename, profile),
    }
    try:
        return readers[reader]()
    except ParleyError as exc:
        if exc.retryable:
            raise
        return _answer(kind, _status_of(exc), language, profile, reason=exc.code)


def _status_of(error: ParleyError) -> UnderstandingStatus:
    if isinstance(error, UnsupportedLanguage):
        return "cannot_listen"
    if isinstance(error, UnsupportedDocument):
        return "unsupported"
    return "unreadable"


def _listen(
    data: bytes,
    mime: str,
    kind: str,
    engines: Engines,
    language: str | None,
    profile: BusinessProfile | None,
) -> Understanding:
    settings = engines.settings
    clip = audio_decoding.decode(
        data, mime, limit_seconds=settings.max_audio_seconds + 1, ffmpeg=settings.ffmpeg_binary
    )
    seconds = round(clip.duration_seconds, 2)
    if clip.duration_seconds < settings.min_audio_seconds:
        return _answer(kind, "too_short", language, profile, reason="too_short", duration=seconds)
    if clip.duration_seconds > settings.max_audio_seconds:
        minutes = max(1, int(settings.max_audio_seconds // 60))
        return _answer(
            kind,
            "too_long",
            language,
            profile,
            reason="too_long",
            duration=seconds,
            minutes=minutes,
        )
    transcript = engines.transcriber.transcribe(clip, language)
    if not transcript.text:
        return _answer(
            kind, "empty", language, profile, message_name="empty_audio", duration=seconds
        )
    asks = needs_confirmation(transcript, settings.transcript_confirm_below)
    return Understanding(
        kind=kind,
        status="understood",
        text=transcript.text,
        transcript=transcript,
        confirmation=confirmation(transcript, language, profile) if asks else None,
        duration_seconds=seconds,
    )


def _look(
    data: bytes,
    mime: str,
    kind: str,
    engines: Engines,
    language: str | None,
    profile: BusinessProfile | None,
) -> Understanding:
    reading = engines.image_reader.read(data, mime)
    text, truncated = _cut(reading.text, engines.settings.max_text_chars)
    if not text and not reading.labels:
        return Understanding(
            kind=kind,
            status="empty",
            image=reading,
            reply=message("empty_image", language, profile),
            reason="no_text",
        )
    return Understanding(
        kind=kind, status="understood", text=text, truncated=truncated, image=reading
    )


def _read(
    data: bytes,
    mime: str,
    kind: str,
    engines: Engines,
    language: str | None,
    filename: str,
    profile: BusinessProfile | None,
) -> Understanding:
    document = engines.document_reader.read(data, mime, filename)
    text, truncated = _cut(document.text, engines.settings.max_text_chars)
    if not text:
        return _answer(kind, "empty", language, profile, message_name="empty_document")
    return Understanding(
        kind=kind, status="understood", text=text, truncated=truncated, document=document
    )


def _cut(text: str, limit: int) -> tuple[str, bool]:
    text = text.strip()
    return (text[:limit].rstrip(), True) if len(text) > limit else (text, False)


def _answer(
    kind: str,
    status: UnderstandingStatus,
    language: str | None,
    profile: BusinessProfile | None,
    *,
    reason: str | None = None,
    message_name: str | None = None,
    duration: float | None = None,
    minutes: int = 0,
) -> Understanding:
    return Understanding(
        kind=kind,
        status=status,
        reply=message(message_name or status, language, profile, minutes=minutes),
        reason=reason or status,
        duration_seconds=duration,
    )
