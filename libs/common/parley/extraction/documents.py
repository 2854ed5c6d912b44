"""What extraction produces: a document as titled, sectioned blocks."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Block:
    """A paragraph (or table row group) under its heading path."""

    headings: tuple[str, ...]
    text: str


@dataclass
class ExtractedDocument:
    title: str = ""
    blocks: list[Block] = field(default_factory=list)
    pages: int | None = field(default=None, compare=False)  # PDFs only

    def add(self, headings: tuple[str, ...], text: str) -> None:
        """Add a block; lines are kept (tables, lists), runs of spaces collapsed, blanks dropped."""
        lines = (" ".join(line.split()) for line in text.splitlines())
        cleaned = "\n".join(line for line in lines if line)
        if cleaned:
            self.blocks.append(Block(headings, cleaned))

    def as_text(self) -> str:
        """The whole document as plain text: the title, each new heading on its own line, then
        the blocks, separated by blank lines (what a language model reads)."""
        parts: list[str] = [self.title] if self.title else []
        current: tuple[str, ...] = ()
        for block in self.blocks:
            if block.headings != current:
                shared = 0
                while shared < min(len(current), len(block.headings)) and (
                    current[shared] == block.headings[shared]
                ):
                    shared += 1
                parts.extend(h for h in block.headings[shared:] if h != self.title)
                current = block.headings
            parts.append(block.text)
        return "\n\n".join(parts)


class HeadingPath:
    """The current heading path while reading a document: a level-n heading replaces levels >= n."""

    def __init__(self) -> None:
        self._levels: list[tuple[int, str]] = []

    def enter(self, level: int, heading: str) -> None:
        heading = " ".join(heading.split())
        if not heading:
            return
        self._levels = [(lv, h) for lv, h in self._levels if lv < level]
        self._levels.append((level, heading))

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(h for _, h in self._levels)
