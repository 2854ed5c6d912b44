"""Chunking by headings and paragraphs with overlap; table rows as units.

A chunk never spans two sections (its heading path is its citation). Inside a section, paragraphs
are packed up to about `target` characters; the next chunk repeats the last ~`overlap` characters
(cut at a word boundary) so an answer straddling a boundary is still found whole in one chunk. A
paragraph longer than `target` is split by lines, then sentences, then words.

A Markdown table (extracted as `cell | cell` lines under its header line) is kept whole for
questions about the table, and each row is also a chunk of its own that names its columns and the
table's heading: `Undergraduate Programs — Program: Nursing; Degree: B.S.N.; Credits: 128` (pairs
separated as the extractors write CSV, XLSX and DOCX rows), so a look-up of one row finds that row
with its headers.
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
        caption = headings[-1] if headings else document.title
        for text in _section_texts([block.text for block in group], caption, target, overlap):
            chunks.append(Chunk(key, document.title, section, text, len(chunks)))
    return chunks


def _section_texts(blocks: list[str], caption: str, target: int, overlap: int) -> list[str]:
    """One section's chunk texts in reading order: packed paragraphs, each table's rows after it."""
    texts: list[str] = []
    pending: list[list[str]] = []
    for text in blocks:
        pending.append(split_long(text, target))
        rows = table_rows(text, caption)
        if rows:
            texts += pack(pending, target, overlap)
            texts += rows
            pending = []
    return texts + pack(pending, target, overlap)


def table_rows(text: str, caption: str = "") -> list[str]:
    """Each data row of the tables in a block as `Header: value; Header: value`, after the
    caption; none when the block holds no table (two or more `a | b` lines in a row)."""
    rows: list[str] = []
    run: list[list[str]] = []
    for line in [*text.splitlines(), ""]:
        cells = [cell.strip() for cell in line.split(" | ")]
        if len(cells) > 1:
            run.append(cells)
            continue
        if len(run) > 1:
            rows += [_labelled(run[0], row, caption) for row in run[1:]]
        run = []
    return rows


def _labelled(header: list[str], row: list[str], caption: str) -> str:
    """`Caption — Header: value; Header: value` (as other formats' table rows are extracted)."""
    if len(row) == len(header):  # (an empty cell was dropped by extraction: keep the row as is)
        row = [
            f"{name}: {value}" if name else value for name, value in zip(header, row, strict=True)
        ]
    cells = "; ".join(row)
    return f"{caption} — {cells}" if caption else cells


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
