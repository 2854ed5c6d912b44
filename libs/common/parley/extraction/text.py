"""Plain-text formats (Markdown, text, CSV) and the helpers every extractor shares (`decode`,
`add_table`, `file_type`, `default_title`). Imports nothing else of the package but its models, so
`office` and `html_text` depend on this module and not on `extract` (no import cycle)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import PurePosixPath

from parley.extraction.documents import ExtractedDocument, HeadingPath

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


def decode(data: bytes) -> str:
    """Text bytes as UTF-8 (with or without BOM), else Windows-1252, else Latin-1."""
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
