"""What every channel's download goes through once the bytes are on disk: the checksum, the real
type against the declared one and the kind, then the bomb and structure checks."""

from __future__ import annotations

import base64
import binascii
import hmac
from pathlib import Path

from chalicelib.fetch import bombs
from chalicelib.fetch.errors import (
    ChecksumMismatch,
    CorruptMedia,
    MediaTypeMismatch,
    UnsupportedMediaType,
)
from chalicelib.fetch.sniff import family_of, sniff
from parley.media_types import MediaKind, base_mime, is_allowed


def check_sha256(expected: str | None, actual_hex: str) -> None:
    """Meta gives the hash hex in `GET /{media-id}` and base64 in some webhooks: accept both."""
    if not expected:
        return
    wanted = expected.strip()
    if len(wanted) != 64:
        try:
            wanted = base64.b64decode(wanted, validate=True).hex()
        except (binascii.Error, ValueError) as error:
            raise ChecksumMismatch("the given sha256 is neither hex nor base64") from error
    if not hmac.compare_digest(wanted.lower(), actual_hex.lower()):
        raise ChecksumMismatch("the file's sha256 differs from the one the channel gave")


def real_type(path: Path, kind: MediaKind, declared: str | None) -> tuple[str, str]:
    """(mime type, family) of the file: sniffed, matching the declared type's family and
    allowed for `kind`; the declared type is kept when it names the same container more
    precisely (an `audio/mp4` file whose brand reads like a video)."""
    declared_family = family_of(declared)
    found = sniff(path)
    if found is None:
        if declared_family:  # it says it is a known type, and is not
            raise CorruptMedia(f"the bytes are not a valid {base_mime(declared)}")
        raise UnsupportedMediaType("the file is of no type WhatsApp carries")
    if declared_family and declared_family != found.family:
        raise MediaTypeMismatch(f"declared {base_mime(declared)}, the bytes are {found.mime}")
    if declared_family is None:
        raise MediaTypeMismatch(f"declared {base_mime(declared)}, the bytes are {found.mime}")
    mime = found.mime
    if declared_family and is_allowed(kind, declared):
        mime = base_mime(declared)
    if not is_allowed(kind, mime):
        raise UnsupportedMediaType(f"{mime} is not carried as {kind}")
    return mime, found.family


def inspect_file(
    path: Path,
    *,
    kind: MediaKind,
    declared: str | None,
    expected_sha256: str | None,
    actual_sha256: str,
    limits: bombs.BombLimits,
) -> str:
    """The file's real MIME type once every check passed; a MediaRejected error otherwise."""
    check_sha256(expected_sha256, actual_sha256)
    mime, family = real_type(path, kind, declared)
    bombs.check(path, family, limits)
    return mime
