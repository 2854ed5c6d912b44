"""Decompression bombs refused before anything decodes the file, and structurally broken files.

Images: the pixel count read from the header (PNG IHDR, JPEG SOF, WebP VP8/VP8L/VP8X, GIF) without
decoding. Office files (ZIP): entry count, total uncompressed size and per-entry ratio from the
central directory. Python's zipfile never inflates past an entry's declared size (and checks its
CRC), so limits on the declared sizes bind whoever extracts the text later. PDF: pypdf parses the
cross-reference table and page tree (its own per-stream output limits apply) and the object and
page counts must stay within limits.
"""

from __future__ import annotations

import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from chalicelib.fetch.errors import CorruptMedia, MediaBomb

JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # not DHT, JPG, DAC
JPEG_MAX_SEGMENTS = 10_000
RATIO_FLOOR = 1024 * 1024  # small entries may compress extremely well without harm


@dataclass(frozen=True)
class BombLimits:
    max_image_pixels: int = 50_000_000
    zip_max_entries: int = 10_000
    zip_max_total_bytes: int = 512 * 1024 * 1024
    zip_max_entry_ratio: int = 200
    pdf_max_pages: int = 2_000
    pdf_max_objects: int = 1_000_000


def check(path: Path, family: str, limits: BombLimits) -> None:
    """CorruptMedia for a broken file, MediaBomb for one over the limits; nothing is decoded."""
    if family in ("png", "jpeg", "webp", "gif"):
        width, height = image_size(path, family)
        if width <= 0 or height <= 0:
            raise CorruptMedia(f"the {family} header gives no size")
        if width * height > limits.max_image_pixels:
            raise MediaBomb(f"{width}x{height} pixels is over {limits.max_image_pixels}")
    elif family in ("docx", "xlsx", "pptx", "zip"):
        check_zip(path, limits)
    elif family == "pdf":
        check_pdf(path, limits)


def image_size(path: Path, family: str) -> tuple[int, int]:
    with path.open("rb") as handle:
        if family == "jpeg":
            return _jpeg_size(handle)
        head = handle.read(64)
    if family == "png":
        return _png_size(head)
    if family == "webp":
        return _webp_size(head)
    if len(head) < 10:  # GIF logical screen
        raise CorruptMedia("truncated GIF header")
    width, height = struct.unpack("<HH", head[6:10])
    return width, height


def _png_size(head: bytes) -> tuple[int, int]:
    if len(head) < 24 or head[12:16] != b"IHDR":
        raise CorruptMedia("PNG without an IHDR chunk first")
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def _webp_size(head: bytes) -> tuple[int, int]:
    chunk = head[12:16]
    if chunk == b"VP8 " and len(head) >= 30 and head[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(head) >= 25 and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(head) >= 30:
        width = int.from_bytes(head[24:27], "little") + 1
        height = int.from_bytes(head[27:30], "little") + 1
        return width, height
    raise CorruptMedia("WebP without a VP8, VP8L or VP8X header")


def _jpeg_size(handle: BinaryIO) -> tuple[int, int]:
    if handle.read(2) != b"\xff\xd8":
        raise CorruptMedia("JPEG without a start-of-image marker")
    for _ in range(JPEG_MAX_SEGMENTS):
        marker = _next_marker(handle)
        if marker in (0xD9, 0xDA):  # end of image or start of scan before any frame header
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # no length
            continue
        length_bytes = handle.read(2)
        if len(length_bytes) < 2:
            break
        (length,) = struct.unpack(">H", length_bytes)
        if length < 2:
            break
        if marker in JPEG_SOF:
            frame = handle.read(5)
            if len(frame) < 5:
                break
            height, width = struct.unpack(">HH", frame[1:5])
            return width, height
        handle.seek(length - 2, 1)
    raise CorruptMedia("JPEG without a frame header")


def _next_marker(handle: BinaryIO) -> int:
    byte = handle.read(1)
    if byte != b"\xff":
        raise CorruptMedia("JPEG segment does not start with a marker")
    while byte == b"\xff":  # fill bytes
        byte = handle.read(1)
    if not byte:
        raise CorruptMedia("truncated JPEG")
    return byte[0]


def check_zip(path: Path, limits: BombLimits) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as error:
        raise CorruptMedia("the file is not a readable zip archive") from error
    if len(entries) > limits.zip_max_entries:
        raise MediaBomb(f"{len(entries)} zip entries, over {limits.zip_max_entries}")
    total = sum(entry.file_size for entry in entries)
    if total > limits.zip_max_total_bytes:
        raise MediaBomb(f"expands to {total} bytes, over {limits.zip_max_total_bytes}")
    for entry in entries:
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > RATIO_FLOOR and ratio > limits.zip_max_entry_ratio:
            raise MediaBomb(f"a zip entry expands {ratio:.0f} times")


def check_pdf(path: Path, limits: BombLimits) -> None:
    from pypdf import PdfReader

    try:
        reader = PdfReader(path, strict=False)
        size = int(reader.trailer.get("/Size", 0) or 0)
        if size > limits.pdf_max_objects:
            raise MediaBomb(f"{size} PDF objects, over {limits.pdf_max_objects}")
        if reader.is_encrypted:
            return  # pages cannot be counted without the password; nothing will decode it
        pages = len(reader.pages)
    except MediaBomb:
        raise
    except Exception as error:  # pypdf raises many kinds on malformed input
        raise CorruptMedia("the PDF cannot be read") from error
    if pages == 0:
        raise CorruptMedia("the PDF has no pages")
    if pages > limits.pdf_max_pages:
        raise MediaBomb(f"{pages} PDF pages, over {limits.pdf_max_pages}")
