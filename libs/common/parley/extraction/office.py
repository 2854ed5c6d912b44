"""PDF (pypdf), DOCX (the standard library's zip and XML reader) and XLSX (openpyxl) extraction.

DOCX is read without python-docx, whose lxml dependency is a compiled wheel (the knowledge-base
manager ships only pure-Python packages to Lambda). The libraries are imported on first use.
"""

from __future__ import annotations

import io
import re
import zipfile
from xml.etree import ElementTree

from parley.extraction.documents import ExtractedDocument, HeadingPath
from parley.extraction.exceptions import DocumentRejected, UnsupportedDocument
from parley.extraction.text import add_table

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"
_HEADING_STYLE = re.compile(r"^heading\s*(\d)$")
MAX_XML_BYTES = 64 * 1024 * 1024  # uncompressed, per part: a zip bomb is refused


def pdf(data: bytes, key: str) -> ExtractedDocument:
    """Each page's paragraphs under `Page n`; the title from the metadata or the first line."""
    try:
        from pypdf import PdfReader
    except ImportError as error:  # every zip ships parley; only some services ship pypdf
        raise UnsupportedDocument("PDF reading is not installed in this service") from error

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted and not reader.decrypt(""):
        raise DocumentRejected("the PDF is encrypted")
    document = ExtractedDocument(pages=len(reader.pages))
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text() or ""
        for paragraph in re.split(r"\n\s*\n", text):
            document.add((f"Page {number}",), paragraph)
    metadata_title = reader.metadata.title if reader.metadata else None
    first_line = document.blocks[0].text.splitlines()[0] if document.blocks else ""
    document.title = str(metadata_title or (first_line if len(first_line) <= 100 else ""))
    return document


def docx(data: bytes, key: str) -> ExtractedDocument:
    """Paragraphs under their heading styles (Heading n, outline level), tables as rows."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        body = _xml(archive, "word/document.xml").find(f"{_W}body")
        if body is None:
            raise DocumentRejected("the DOCX file has no document body")
        levels = _heading_levels(archive)
        document = ExtractedDocument(title=_core_title(archive))
    path = HeadingPath()
    for element in body:
        if element.tag == f"{_W}p":
            _docx_paragraph(element, levels, path, document)
        elif element.tag == f"{_W}tbl":
            add_table(document, path.path, _docx_rows(element))
    return document


def _docx_paragraph(
    element: ElementTree.Element,
    levels: dict[str, int],
    path: HeadingPath,
    document: ExtractedDocument,
) -> None:
    text = _docx_text(element)
    style = element.find(f"{_W}pPr/{_W}pStyle")
    style_id = style.get(f"{_W}val", "") if style is not None else ""
    outline = element.find(f"{_W}pPr/{_W}outlineLvl")
    level = levels.get(style_id)
    if outline is not None:
        level = int(outline.get(f"{_W}val", "0")) + 1
    if style_id.lower() == "title" and text:
        document.title = document.title or text
    elif level is not None and text:
        path.enter(level, text)
        document.title = document.title or (text if level == 1 else "")
    else:
        document.add(path.path, text)


def _docx_text(element: ElementTree.Element) -> str:
    parts: list[str] = []
    for node in element.iter():
        if node.tag == f"{_W}t":
            parts.append(node.text or "")
        elif node.tag == f"{_W}tab":
            parts.append(" ")
        elif node.tag in (f"{_W}br", f"{_W}cr"):
            parts.append("\n")
    return "".join(parts).strip()


def _docx_rows(table: ElementTree.Element) -> list[list[str]]:
    rows = []
    for row in table.iter(f"{_W}tr"):
        cells = [
            " ".join(_docx_text(p) for p in cell.iter(f"{_W}p")).strip()
            for cell in row.iter(f"{_W}tc")
        ]
        if any(cells):
            rows.append(cells)
    return rows


def _heading_levels(archive: zipfile.ZipFile) -> dict[str, int]:
    """Style id -> heading level, from the style names (built-in names are English in any UI)."""
    if "word/styles.xml" not in archive.namelist():
        return {f"Heading{n}": n for n in range(1, 10)}
    levels = {}
    for style in _xml(archive, "word/styles.xml").iter(f"{_W}style"):
        name = style.find(f"{_W}name")
        match = _HEADING_STYLE.match((name.get(f"{_W}val", "") if name is not None else "").lower())
        if match:
            levels[style.get(f"{_W}styleId", "")] = int(match.group(1))
    return levels


def _core_title(archive: zipfile.ZipFile) -> str:
    if "docProps/core.xml" not in archive.namelist():
        return ""
    title = _xml(archive, "docProps/core.xml").find(_DC_TITLE)
    return (title.text or "").strip() if title is not None else ""


def _xml(archive: zipfile.ZipFile, name: str) -> ElementTree.Element:
    if archive.getinfo(name).file_size > MAX_XML_BYTES:
        raise DocumentRejected(f"{name} is larger than {MAX_XML_BYTES} bytes uncompressed")
    return ElementTree.fromstring(archive.read(name))


def xlsx(data: bytes, key: str) -> ExtractedDocument:
    """Each sheet under its name; the first row names the columns of the rows below it."""
    try:
        from openpyxl import load_workbook
    except ImportError as error:  # every zip ships parley; only some services ship openpyxl
        raise UnsupportedDocument("XLSX reading is not installed in this service") from error

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        document = ExtractedDocument(title=workbook.properties.title or "")
        for sheet in workbook.worksheets:
            rows = [
                ["" if value is None else str(value) for value in row]
                for row in sheet.iter_rows(values_only=True)
            ]
            add_table(document, (sheet.title,), [r for r in rows if any(c.strip() for c in r)])
    finally:
        workbook.close()
    return document
