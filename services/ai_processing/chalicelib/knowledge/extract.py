"""Text extraction per document type: bytes in, a titled list of sectioned blocks out.

Office and PDF formats are in `office.py`, HTML in `html_text.py`. Every extractor raises
`DocumentRejected` (with the reason) for a file it cannot read; nothing else escapes.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import PurePosixPath

from chalicelib.knowledge.documents import ExtractedDocument, HeadingPath
from chalicelib.knowledge.exceptions import DocumentRejected, UnsupportedDocument

Extractor = Callable[[bytes, str], ExtractedDocument]

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_TABLE_SEPARATOR = re.compile(r"^\|?[\s:|-]+\|?$")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|`)")
_FENCE = re.compile(r"^\s*(```|~~~)")


def file_type(key: str) -> str:
    """The type by extension, lowercase without the dot (`md` for `.markdown` too)."""
    suffix = PurePosixPath(key).suffix.lower().lstrip(".")
    return {"markdown": "md", "htm": "html", "text": "txt"}.get(suffix, suffix)


def default_title(key: str) -> str:
    """`demo/tuition-and-fees.md` -> `Tuition and fees`."""
    stem = PurePosixPath(key).stem.replace("-", " ").replace("_", " ").strip()
    return stem[:1].upper() + stem[1:] if stem else key


def extract(key: str, data: bytes) -> ExtractedDocument:
    """Extract a document; raises DocumentRejected with the reason when it cannot."""
    kind = file_type(key)
    extractor = _extractors().get(kind)
    if extractor is None:
        raise UnsupportedDocument(f"unsupported file type {('.' + kind) if kind else '(none)'}")
    try:
        document = extractor(data, key)
    except DocumentRejected:
        raise
    except Exception as exc:  # a broken file raises whatever its parser raises
        raise DocumentRejected(f"cannot read the {kind.upper()} file: {exc!r}"[:500]) from exc
    if not document.blocks:
        raise DocumentRejected(f"no text found in the {kind.upper()} file")
    document.title = document.title or default_title(key)
    return document


def _extractors() -> dict[str, Extractor]:
    from chalicelib.knowledge import html_text, office

    return {
        "md": markdown,
        "txt": plain_text,
        "csv": csv_table,
        "html": html_text.html,
        "pdf": office.pdf,
        "docx": office.docx,
        "xlsx": office.xlsx,
    }


def decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def markdown(data: bytes, key: str) -> ExtractedDocument:
    document = ExtractedDocument()
    path = HeadingPath()
    paragraph: list[str] = []

    def flush() -> None:
        document.add(path.path, "\n".join(paragraph))
        paragraph.clear()

    for raw in decode(data).splitlines():
        line = raw.rstrip()
        heading = _HEADING.match(line)
        if heading:
            flush()
            text = _inline(heading.group(2))
            path.enter(len(heading.group(1)), text)
            if len(heading.group(1)) == 1 and not document.title:
                document.title = text
        elif not line.strip():
            flush()
        elif not _FENCE.match(line) and not _TABLE_SEPARATOR.match(line.strip()):
            paragraph.append(_markdown_line(line))
    flush()
    return document


def _markdown_line(line: str) -> str:
    stripped = line.strip()
    if stripped.startswith("|"):
        cells = [_inline(cell) for cell in stripped.strip("|").split("|")]
        return " | ".join(cell for cell in cells if cell)
    return _inline(stripped)


def _inline(text: str) -> str:
    return _EMPHASIS.sub("", _LINK.sub(r"\1", text)).strip()


def plain_text(data: bytes, key: str) -> ExtractedDocument:
    document = ExtractedDocument()
    for paragraph in re.split(r"\n\s*\n", decode(data)):
        document.add((), paragraph)
    return document


def csv_table(data: bytes, key: str) -> ExtractedDocument:
    """Each row as `Header: value; Header: value` under the file's title."""
    text = decode(data)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], ",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = [row for row in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in row)]
    document = ExtractedDocument()
    add_table(document, (default_title(key),), rows)
    return document


def add_table(
    document: ExtractedDocument, headings: tuple[str, ...], rows: list[list[str]]
) -> None:
    """A table whose first row names the columns: one block per data row."""
    if not rows:
        return
    header = [cell.strip() for cell in rows[0]]
    if len(rows) == 1:
        document.add(headings, " | ".join(c for c in header if c))
    for row in rows[1:]:
        pairs = (
            f"{header[i]}: {cell.strip()}" if i < len(header) and header[i] else cell.strip()
            for i, cell in enumerate(row)
            if cell.strip()
        )
        document.add(headings, "; ".join(pairs))
