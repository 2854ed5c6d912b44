"""Offline document reading with the shared extractors (`parley.extraction`): PDF (pypdf), DOCX,
XLSX (openpyxl), text and CSV. A scanned PDF (images, no text layer) has no text offline."""

from __future__ import annotations

from pathlib import PurePosixPath

from parley.extraction import default_title, extract, file_type
from parley.media_types import DOCX, XLSX, base_mime
from parley.media_understanding import DocumentText

EXTENSIONS = {
    "application/pdf": "pdf",
    DOCX: "docx",
    XLSX: "xlsx",
    "text/plain": "txt",
    "text/csv": "csv",
    "text/markdown": "md",
    "text/html": "html",
}


def extension_for(mime: str, filename: str) -> str:
    """The extractor's type: from the sniffed MIME type, else from the file name."""
    return EXTENSIONS.get(base_mime(mime)) or file_type(filename)


class LocalDocumentReader:
    """`DocumentReader` with the knowledge base's extractors."""

    def read(self, data: bytes, mime: str, filename: str) -> DocumentText:
        kind = extension_for(mime, filename)
        stem = PurePosixPath(filename).stem if filename else ""
        key = f"{stem or 'document'}.{kind}"
        # raises DocumentRejected (UnsupportedDocument for a type it does not read)
        document = extract(key, data)
        if not stem and document.title == default_title(key):
            document.title = ""  # "Document", made up from no file name, tells the AI nothing
        return DocumentText(text=document.as_text(), pages=document.pages, title=document.title)
