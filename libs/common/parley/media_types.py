"""WhatsApp media kinds, their size caps and the MIME types each kind may carry (reference §2,
"Limits"; AWS End User Messaging Social's supported-media-types page mirrors Meta's table).

The one definition the media service (download caps, type checks) and anything else that needs
the caps should import, instead of repeating the numbers.
"""

from __future__ import annotations

from typing import Literal, cast

MediaKind = Literal["image", "audio", "video", "document", "sticker"]
MEDIA_KINDS: frozenset[str] = frozenset({"image", "audio", "video", "document", "sticker"})

MB = 1024 * 1024
SIZE_CAPS: dict[MediaKind, int] = {
    "audio": 16 * MB,
    "video": 16 * MB,
    "image": 5 * MB,
    "sticker": 500 * 1024,  # animated; a static sticker is at most 100 KB
    "document": 100 * MB,
}

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

ALLOWED_MIME_TYPES: dict[MediaKind, frozenset[str]] = {
    "image": frozenset({"image/jpeg", "image/png"}),
    "sticker": frozenset({"image/webp"}),
    "audio": frozenset({"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"}),
    "video": frozenset({"video/mp4", "video/3gpp"}),
    "document": frozenset(
        {
            "text/plain",
            "text/csv",
            "application/pdf",
            "application/msword",
            "application/vnd.ms-excel",
            "application/vnd.ms-powerpoint",
            DOCX,
            XLSX,
            PPTX,
        }
    ),
}


def is_media_kind(value: str) -> bool:
    return value in MEDIA_KINDS


def as_media_kind(value: str) -> MediaKind:
    """`value` as a MediaKind; ValueError for a kind that carries no media (text, location...)."""
    if value not in MEDIA_KINDS:
        raise ValueError(f"{value!r} is not a media kind")
    return cast(MediaKind, value)


def size_cap(kind: MediaKind) -> int:
    """WhatsApp's maximum size in bytes of one `kind` file."""
    return SIZE_CAPS[kind]


def base_mime(value: str | None) -> str:
    """`audio/ogg; codecs=opus` -> `audio/ogg` (lower case, parameters stripped); "" for None."""
    return (value or "").split(";", 1)[0].strip().lower()


def is_allowed(kind: MediaKind, mime_type: str | None) -> bool:
    """Whether WhatsApp carries `mime_type` (parameters ignored) as `kind`."""
    return base_mime(mime_type) in ALLOWED_MIME_TYPES[kind]
