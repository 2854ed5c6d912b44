"""What the channel adapters share: the message's media reference and kind, the age check, the
temporary file a download lands in, and the checks that turn it into a `FetchedMedia`."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from chalicelib.fetch.bombs import BombLimits
from chalicelib.fetch.checks import inspect_file
from chalicelib.fetch.errors import MediaExpired
from chalicelib.fetch.settings import FetchSettings
from parley.errors import InvalidInput
from parley.media_fetch import FetchedMedia
from parley.media_types import MediaKind, as_media_kind
from parley.payloads import MediaRef, MessageReceived

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def media_of(message: MessageReceived) -> tuple[MediaRef, MediaKind]:
    """The message's media reference and kind; InvalidInput for a message without media."""
    if message.media is None:
        raise InvalidInput(f"message {message.message_id} carries no media")
    try:
        return message.media, as_media_kind(message.kind)
    except ValueError as error:
        raise InvalidInput(f"a {message.kind} message has no media to fetch") from error


def check_age(message: MessageReceived, ttl_days: int, clock: Clock) -> None:
    """MediaExpired, without asking the provider, once the media id cannot be valid any more."""
    sent = message.sent_at if message.sent_at.tzinfo else message.sent_at.replace(tzinfo=UTC)
    if clock() - sent > timedelta(days=ttl_days):
        raise MediaExpired(f"media of a message older than {ttl_days} days has expired")


class Landing:
    """Temporary files for downloads, and the checks every download goes through."""

    def __init__(self, settings: FetchSettings) -> None:
        self._dir = settings.tmp_dir
        self._limits = BombLimits(
            max_image_pixels=settings.max_image_pixels,
            zip_max_entries=settings.zip_max_entries,
            zip_max_total_bytes=settings.zip_max_total_bytes,
            zip_max_entry_ratio=settings.zip_max_entry_ratio,
            pdf_max_pages=settings.pdf_max_pages,
            pdf_max_objects=settings.pdf_max_objects,
        )

    def new_path(self) -> Path:
        handle, name = tempfile.mkstemp(prefix="parley-media-", dir=self._dir)
        os.close(handle)
        return Path(name)

    def finish(
        self,
        path: Path,
        message: MessageReceived,
        *,
        size: int,
        sha256: str,
        declared: str | None,
        expected_sha256: str | None,
    ) -> FetchedMedia:
        """The checked file; the file is removed when a check refuses it."""
        ref, kind = media_of(message)
        try:
            mime = inspect_file(
                path,
                kind=kind,
                declared=declared,
                expected_sha256=expected_sha256,
                actual_sha256=sha256,
                limits=self._limits,
            )
        except BaseException:
            discard(path)
            raise
        return FetchedMedia(path, kind, mime, declared, size, sha256, ref.filename)


def discard(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
