"""HTML extraction: moved to `parley.extraction.html_text`, re-exported here."""

from parley.extraction.html_text import html

__all__ = ["html"]
