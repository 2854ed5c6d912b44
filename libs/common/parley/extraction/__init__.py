"""Text extraction from documents (Markdown, text, CSV, HTML, PDF, DOCX, XLSX), shared by the
knowledge-base manager (ai_processing) and the media service's offline document reader.

pypdf and openpyxl are imported on first use; DOCX and HTML need only the standard library.
"""

from parley.extraction.documents import Block, ExtractedDocument, HeadingPath
from parley.extraction.exceptions import DocumentRejected, UnsupportedDocument
from parley.extraction.extract import EXTRACTORS, Extractor, extract
from parley.extraction.text import add_table, decode, default_title, file_type

__all__ = [
    "EXTRACTORS",
    "Block",
    "DocumentRejected",
    "ExtractedDocument",
    "Extractor",
    "HeadingPath",
    "UnsupportedDocument",
    "add_table",
    "decode",
    "default_title",
    "extract",
    "file_type",
]
