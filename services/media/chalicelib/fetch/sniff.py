"""The real type of a file, from its bytes (magic numbers), never from its name or a header.

`sniff` answers a `Sniffed(mime, family)`; types of one family are the same container and may be
declared either way (an `audio/mp4` voice file whose `ftyp` brand says `isom`, `text/csv` that is
plain text). `family_of` gives the family of a declared type, so the two can be compared.
"""

from __future__ import annotations

import codecs
import zipfile
from dataclasses import dataclass
from pathlib import Path

from chalicelib.fetch.errors import CorruptMedia
from parley.media_types import DOCX, PPTX, XLSX, base_mime

HEAD = 4096
CONTENT_TYPES_CAP = 1024 * 1024  # [Content_Types].xml is a few KB; never inflate more
TEXT_CHUNK = 1024 * 1024

FAMILY_OF_MIME = {
    "audio/ogg": "ogg",
    "audio/opus": "ogg",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/aac": "aac",
    "audio/x-aac": "aac",
    "audio/amr": "amr",
    "audio/mp4": "mp4",
    "audio/m4a": "mp4",
    "audio/x-m4a": "mp4",
    "audio/3gpp": "mp4",
    "video/mp4": "mp4",
    "video/3gpp": "mp4",
    "image/jpeg": "jpeg",
    "image/jpg": "jpeg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
    "application/pdf": "pdf",
    DOCX: "docx",
    XLSX: "xlsx",
    PPTX: "pptx",
    "application/zip": "zip",
    "application/msword": "ole",
    "application/vnd.ms-excel": "ole",
    "application/vnd.ms-powerpoint": "ole",
    "text/plain": "text",
    "text/csv": "text",
}
UNDECLARED = frozenset({"", "application/octet-stream", "binary/octet-stream"})
OOXML = (
    ("wordprocessingml.document.main", DOCX, "docx"),
    ("spreadsheetml.sheet.main", XLSX, "xlsx"),
    ("presentationml.presentation.main", PPTX, "pptx"),
)
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True)
class Sniffed:
    mime: str
    family: str


MAGIC_PREFIXES: tuple[tuple[bytes, Sniffed], ...] = (
    (b"OggS", Sniffed("audio/ogg", "ogg")),
    (b"#!AMR\n", Sniffed("audio/amr", "amr")),
    (b"#!AMR-WB\n", Sniffed("audio/amr", "amr")),
    (b"\xff\xd8\xff", Sniffed("image/jpeg", "jpeg")),
    (b"\x89PNG\r\n\x1a\n", Sniffed("image/png", "png")),
    (b"GIF87a", Sniffed("image/gif", "gif")),
    (b"GIF89a", Sniffed("image/gif", "gif")),
    (b"PK\x03\x04", Sniffed("application/zip", "zip")),
    (OLE_MAGIC, Sniffed("application/x-ole-storage", "ole")),
)


def family_of(declared: str | None) -> str | None:
    """The family of a declared type; "" when nothing was really declared; None when unknown."""
    mime = base_mime(declared)
    if mime in UNDECLARED:
        return ""
    return FAMILY_OF_MIME.get(mime)


def sniff(path: Path) -> Sniffed | None:
    """What the file really is, or None when it is none of the types WhatsApp carries."""
    with path.open("rb") as handle:
        head = handle.read(HEAD)
    found = sniff_head(head)
    if found is not None and found.family == "zip":
        return _office(path)
    if found is None and _is_text(path):
        return Sniffed("text/plain", "text")
    return found


def sniff_head(head: bytes) -> Sniffed | None:
    """The type from the first bytes (ZIP-based Office files answer `zip`: see `sniff`)."""
    for magic, found in MAGIC_PREFIXES:
        if head.startswith(magic):
            return found
    if head[4:8] == b"ftyp":
        return _ftyp(head[8:12])
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed("image/webp", "webp")
    if b"%PDF-" in head[:1024]:  # readers accept junk before the header
        return Sniffed("application/pdf", "pdf")
    return _mpeg_audio(head)


def _ftyp(brand: bytes) -> Sniffed:
    if brand in (b"M4A ", b"M4B ", b"M4P "):
        return Sniffed("audio/mp4", "mp4")
    if brand.startswith((b"3gp", b"3g2")):
        return Sniffed("video/3gpp", "mp4")
    if brand == b"qt  ":
        return Sniffed("video/quicktime", "quicktime")
    return Sniffed("video/mp4", "mp4")


def _mpeg_audio(head: bytes) -> Sniffed | None:
    if head.startswith(b"ID3"):
        return Sniffed("audio/mpeg", "mp3")
    if len(head) < 2 or head[0] != 0xFF:
        return None
    second = head[1]
    if second & 0xF6 == 0xF0:  # ADTS: sync 12 bits, layer 00
        return Sniffed("audio/aac", "aac")
    if second & 0xE0 == 0xE0 and (second >> 1) & 0x03 != 0:  # MPEG audio frame, layer I-III
        return Sniffed("audio/mpeg", "mp3")
    return None


def _office(path: Path) -> Sniffed:
    """DOCX/XLSX/PPTX by the main part named in `[Content_Types].xml`; other zips are zips."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" not in names:
                return Sniffed("application/zip", "zip")
            with archive.open("[Content_Types].xml") as part:
                types = part.read(CONTENT_TYPES_CAP).decode("utf-8", "replace")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as error:
        raise CorruptMedia("the file is not a readable zip archive") from error
    for marker, mime, family in OOXML:
        if marker in types:
            return Sniffed(mime, family)
    return Sniffed("application/zip", "zip")


def _is_text(path: Path) -> bool:
    """UTF-8 (a BOM allowed) without NUL bytes, read in chunks."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    with path.open("rb") as handle:
        while chunk := handle.read(TEXT_CHUNK):
            if b"\x00" in chunk:
                return False
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return False
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return path.stat().st_size > 0
