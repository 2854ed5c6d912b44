"""HTML to sectioned text with the standard library's parser: scripts and styles dropped, headings
kept as the section path, block elements as paragraphs, table rows as lines."""

from __future__ import annotations

from html.parser import HTMLParser

from parley.extraction.documents import ExtractedDocument, HeadingPath
from parley.extraction.text import decode

_SKIPPED = frozenset({"script", "style", "noscript", "template", "svg", "head"})
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_BLOCKS = frozenset(
    {"p", "div", "section", "article", "main", "header", "footer", "aside", "nav", "ul", "ol",
     "table", "blockquote", "pre", "dl", "form", "figure", "body", "html"}
)  # fmt: skip
_LINES = frozenset({"li", "tr", "br", "dt", "dd", "hr"})
_CELLS = frozenset({"td", "th"})


class _SectionedText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.document = ExtractedDocument()
        self.path = HeadingPath()
        self.title = ""
        self._skip_depth = 0
        self._in_title = False
        self._heading: tuple[int, list[str]] | None = None
        self._lines: list[str] = [""]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skip_depth += 1
        elif tag == "title":
            self._in_title = True
        elif tag in _HEADINGS:
            self._flush()
            self._heading = (_HEADINGS[tag], [])
        elif tag in _CELLS:
            self._lines[-1] += " | "
        self._break(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag == "title":
            self._in_title = False
        elif tag in _HEADINGS and self._heading is not None:
            level, parts = self._heading
            text = " ".join("".join(parts).split())
            self.path.enter(level, text)
            if level == 1 and not self.document.title:
                self.document.title = text
            self._heading = None
        self._break(tag)

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif self._skip_depth:
            return
        elif self._heading is not None:
            self._heading[1].append(data)
        else:
            self._lines[-1] += data

    def _break(self, tag: str) -> None:
        if tag in _BLOCKS:
            self._flush()
        elif tag in _LINES:
            self._lines.append("")

    def _flush(self) -> None:
        lines = (" ".join(line.split()).strip(" |") for line in self._lines)
        self.document.add(self.path.path, "\n".join(line for line in lines if line))
        self._lines = [""]

    def finish(self) -> ExtractedDocument:
        self.close()
        self._flush()
        title = " ".join(self.title.split())
        if title:
            self.document.title = title
        return self.document


def html(data: bytes, key: str) -> ExtractedDocument:
    parser = _SectionedText()
    parser.feed(decode(data))
    return parser.finish()
