"""Errors of fetching media, under `parley.errors`.

`MediaRejected` (an `InvalidInput`, never retried): the customer's file cannot be used; its
`customer_reason` says why, in words the reply to the customer can be chosen from.
`MediaDownloadError` (a `DependencyError`, retried unless the instance says otherwise): the
provider or we failed; the customer did nothing wrong.
"""

from __future__ import annotations

from typing import ClassVar

from parley.errors import DependencyError, InvalidInput


class MediaRejected(InvalidInput):
    """The customer's media cannot be used as sent."""

    code = "media_rejected"
    customer_reason: ClassVar[str] = "rejected"


class MediaTooLarge(MediaRejected):
    """Over WhatsApp's cap for its kind (declared or counted), or it would expand too far."""

    code = "media_too_large"
    customer_reason = "too_large"


class MediaBomb(MediaTooLarge):
    """A decompression bomb: too many pixels, a zip that expands too far, a PDF over the limits."""

    code = "media_bomb"


class UnsupportedMediaType(MediaRejected):
    code = "unsupported_media_type"
    customer_reason = "unsupported_type"


class MediaTypeMismatch(MediaRejected):
    """The bytes are of another type than the channel declared."""

    code = "media_type_mismatch"
    customer_reason = "type_mismatch"


class CorruptMedia(MediaRejected):
    code = "corrupt_media"
    customer_reason = "corrupt"


class MediaExpired(MediaRejected):
    """The media id or URL is gone (WhatsApp keeps inbound media 7 days)."""

    code = "media_expired"
    customer_reason = "expired"


class UnsafeMediaUrl(MediaRejected):
    """The URL (or a redirect) is not https, not a provider host, or resolves to a private,
    loopback, link-local, multicast or reserved address."""

    code = "unsafe_media_url"
    customer_reason = "unsafe_url"


class ChecksumMismatch(MediaRejected):
    code = "media_checksum_mismatch"
    customer_reason = "checksum_mismatch"


class MediaDownloadError(DependencyError):
    """The provider failed (5xx, timeout, refused our credentials) or our side did."""

    code = "media_download_error"

    def __init__(
        self, message: str, *, retryable: bool = True, detail: dict[str, object] | None = None
    ) -> None:
        super().__init__(message, detail=detail)
        self.retryable = retryable


class HttpStatusError(MediaDownloadError):
    """A non-2xx answer; the channel adapter decides what it means (re-resolve, expired...)."""

    code = "media_http_error"

    def __init__(self, status: int, url_host: str) -> None:
        super().__init__(f"HTTP {status} from {url_host}", retryable=status >= 500 or status == 429)
        self.status = status
