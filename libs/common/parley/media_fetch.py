"""The role "fetch a customer's media file from the channel it came by" (a port; the media
service's adapters fill it in per channel: Meta Cloud API, AWS End User Messaging Social, Twilio).

A `MediaSource` returns the file already checked: within WhatsApp's size cap for its kind, its
real type sniffed from the bytes and matching the declared one, its checksum verified when the
channel gave one, and not a decompression bomb. It raises `parley.errors.InvalidInput` (never
retried; the customer sent something unusable) or `DependencyError` (retried).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from parley.media_types import MediaKind
from parley.payloads import MessageReceived


@dataclass(frozen=True)
class FetchedMedia:
    """A downloaded, checked media file in a local temporary file (never the whole file in memory:
    a document may be 100 MB). Call `discard()` once it is stored."""

    path: Path
    kind: MediaKind
    mime_type: str  # the sniffed type, without parameters
    declared_mime_type: str | None  # what the channel said, as given
    size: int
    sha256: str  # hex
    filename: str | None = None

    def read_bytes(self) -> bytes:
        return self.path.read_bytes()

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


class MediaSource(Protocol):
    """Downloads the media of one inbound message through one channel."""

    def fetch(self, message: MessageReceived) -> FetchedMedia:
        """The checked file; InvalidInput-family errors for unusable media, DependencyError for
        failures of the channel or of ours (retryable)."""
        ...
