"""Settings of the media engines (environment variables; defaults suit the local stage)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from parley.errors import InvalidSettings


class EngineSettings(BaseSettings):
    """`MEDIA_ENGINES=aws` uses Transcribe, Rekognition and Textract (and needs `MEDIA_BUCKET` for
    the objects Transcribe and asynchronous Textract read); `local` uses pocketsphinx, Tesseract
    and the shared extractors, offline."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=False)

    media_engines: Literal["local", "aws"] = "local"
    media_bucket: str | None = None
    engine_work_prefix: str = "engines/"  # Transcribe/Textract work objects, deleted after use
    min_audio_seconds: float = 0.5
    max_audio_seconds: float = Field(default=300.0, gt=0)
    # A transcript whose confidence is below this is confirmed with the customer; 0 never asks.
    transcript_confirm_below: float = Field(default=0.5, ge=0.0, le=1.0)
    transcribe_timeout_seconds: float = 90.0  # within the 120 s of the process_media Lambda
    transcribe_identify_min_seconds: float = 10.0  # shorter clips use the session's language
    textract_timeout_seconds: float = 60.0
    rekognition_min_confidence: float = 60.0
    max_text_chars: int = 20_000  # of a document or image text handed on to the AI
    ffmpeg_binary: str = "ffmpeg"
    tesseract_binary: str = "tesseract"
    ocr_languages: str = "eng+spa"


def load_engine_settings() -> EngineSettings:
    """EngineSettings from the environment; InvalidSettings names the bad variables."""
    try:
        settings = EngineSettings()
    except ValidationError as exc:
        names = ", ".join(str(e["loc"][0]).upper() for e in exc.errors() if e["loc"])
        raise InvalidSettings(f"EngineSettings: invalid environment: {names}") from exc
    if settings.media_engines == "aws" and not settings.media_bucket:
        raise InvalidSettings(
            "EngineSettings: MEDIA_BUCKET (missing; required by MEDIA_ENGINES=aws)"
        )
    return settings
