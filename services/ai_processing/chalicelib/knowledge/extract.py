"""Text extraction per document type: moved to the shared library (`parley.extraction`), which the
media service's document reader uses too. Re-exported here for the knowledge-base manager."""

from parley.extraction import (
    EXTRACTORS,
    Extractor,
    add_table,
    decode,
    default_title,
    extract,
    file_type,
)
from parley.extraction.text import csv_table, markdown, plain_text

__all__ = [
    "EXTRACTORS",
    "Extractor",
    "add_table",
    "csv_table",
    "decode",
    "default_title",
    "extract",
    "file_type",
    "markdown",
    "plain_text",
]
