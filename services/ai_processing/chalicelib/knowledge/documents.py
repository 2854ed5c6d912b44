"""What extraction produces and chunking consumes: a document as titled, sectioned blocks.

`Block`, `ExtractedDocument` and `HeadingPath` live in the shared `parley.extraction`; `Chunk` is
the knowledge base's own."""

from __future__ import annotations

from dataclasses import dataclass

from parley.extraction.documents import Block, ExtractedDocument, HeadingPath

__all__ = ["Block", "Chunk", "ExtractedDocument", "HeadingPath"]


@dataclass(frozen=True)
class Chunk:
    """One indexed piece of a document."""

    document: str
    title: str
    section: str
    text: str
    ordinal: int
