"""Chunking by headings and paragraphs with overlap.

A chunk never spans two sections (its heading path is its citation). Inside a section, paragraphs
are packed up to about `target` characters; the next chunk repeats the last ~`overlap` characters
(cut at a word boundary) so an answer straddling a boundary is still found whole in one chunk. A
paragraph longer than `target` is split by lines, then sentences, then words.
"""

from __future__ import annotations

import re
from itertools import groupby

from chalicelib.knowledge.documents import Chunk, ExtractedDocument

_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+")


def chunk_document(
    key: str, document: ExtractedDocument, *, target: int = 800, overlap: int = 150
) -> list[Chunk]:
    """The document's chunks in reading order, each with its key, title and section path."""
    chunks: list[Chunk] = []
    for headings, group in groupby(document.blocks, key=lambda block: block.headings):
        section = section_label(headings, document.title)
        blocks = [split_long(block.text, target) for block in group]
        for text in pack(blocks, target, overlap):
            chunks.append(Chunk(key, document.title, section, text, len(chunks)))
    return chunks


def section_label(headings: tuple[str, ...], title: str) -> str:
    """`Title > A > B` -> `A > B`: the document's own title heading is not repeated."""
    if headings and headings[0] == title:
        headings = headings[1:]
    return " > ".join(headings)


def split_long(text: str, target: int) -> list[str]:
    """Pieces of at most `target` characters, split at the coarsest boundary that fits."""
    if len(text) <= target:
        return [text]
    pieces: list[str] = []
    for line in text.splitlines():
        if len(line) <= target:
            pieces.append(line)
            continue
        for sentence in _SENTENCE_END.split(line):
            pieces.extend([sentence] if len(sentence) <= target else _words(sentence, target))
    return pieces


def _words(text: str, target: int) -> list[str]:
    pieces: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > target:
            pieces.append(current)
            current = ""
        current = f"{current} {word}" if current else word[:target]
    if current:
        pieces.append(current)
    return pieces


def pack(blocks: list[list[str]], target: int, overlap: int) -> list[str]:
    """Pack paragraphs' pieces into chunks of about `target` characters with overlap."""
    chunks: list[str] = []
    current = ""
    only_overlap = True  # `current` holds nothing new yet: never emitted alone
    for pieces in blocks:
        separator = "\n"  # between paragraphs; a space between pieces of one paragraph
        for piece in pieces:
            if current and not only_overlap and len(current) + 1 + len(piece) > target:
                chunks.append(current)
                current, only_overlap = tail(current, overlap), True
            current = f"{current}{separator}{piece}" if current else piece
            only_overlap, separator = False, " "
    if current and not only_overlap:
        chunks.append(current)
    return chunks


def tail(text: str, size: int) -> str:
    """The last `size` characters or fewer, starting at a word boundary."""
    if size <= 0:
        return ""
    if len(text) <= size:
        return text
    end = text[-size:]
    space = next((i for i, ch in enumerate(end) if ch.isspace()), -1)
    return end[space + 1 :] if space >= 0 else end
