"""Fetch and keep inbound media (issue 11, point 1): download through the channel the message came
by, check it (size caps, real type, checksum, bombs, corrupt files), store it once per message.

The media handler calls `fetch_and_keep(message, sources, store)`, with `sources` from
`build_sources(FetchSettings(), ChannelAccess(...))` and an `S3MediaStore`.
"""

from chalicelib.fetch.channels import MetaMediaSource, TwilioMediaSource
from chalicelib.fetch.errors import (
    ChecksumMismatch,
    CorruptMedia,
    MediaBomb,
    MediaDownloadError,
    MediaExpired,
    MediaRejected,
    MediaTooLarge,
    MediaTypeMismatch,
    UnsafeMediaUrl,
    UnsupportedMediaType,
)
from chalicelib.fetch.eum import EumMediaSource
from chalicelib.fetch.guard import UrlGuard
from chalicelib.fetch.keep import ChannelAccess, build_sources, fetch_and_keep
from chalicelib.fetch.settings import FetchSettings
from chalicelib.fetch.store import S3MediaStore, StoredMedia
from chalicelib.fetch.stream import HttpFetcher

__all__ = [
    "ChannelAccess",
    "ChecksumMismatch",
    "CorruptMedia",
    "EumMediaSource",
    "FetchSettings",
    "HttpFetcher",
    "MediaBomb",
    "MediaDownloadError",
    "MediaExpired",
    "MediaRejected",
    "MediaTooLarge",
    "MediaTypeMismatch",
    "MetaMediaSource",
    "S3MediaStore",
    "StoredMedia",
    "TwilioMediaSource",
    "UnsafeMediaUrl",
    "UnsupportedMediaType",
    "UrlGuard",
    "build_sources",
    "fetch_and_keep",
]
