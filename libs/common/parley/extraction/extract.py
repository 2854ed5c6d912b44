"""Text extraction per document type: bytes in, a titled list of sectioned blocks out.

Every extractor raises `DocumentRejected` (with the reason) for a file it cannot read; nothing
else escapes `extract`.
"""

from __future__ import annotations

from collections.abc import Callable

from parley.extraction import html_text, office, text
from parley.extraction.documents import ExtractedDocument
from parley.extraction.exceptions import DocumentRejected, UnsupportedDocument

Extractor = Callable[[bytes, str], ExtractedDocument]

EXTRACTORS: dict[str, Extractor] = {
    "md": text.markdown,
    "txt": text.plain_text,
    "csv": text.csv_table,
    "html": html_text.html,
    "pdf": office.pdf,
    "docx": office.docx,
    "xlsx": office.xlsx,
}


def extract(key: str, data: bytes) -> ExtractedDocument:
    """Extract a document, its type from the key's extension; raises DocumentRejected with the
    reason when it cannot."""
    kind = text.file_type(key)
    extractor = EXTRACTORS.get(kind)
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
    document.title = document.title or text.default_title(key)
    return document
