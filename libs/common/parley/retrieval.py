"""Knowledge retrieval: the `Retriever` role and the `Passage` it returns.

Agents ask a retriever for the passages of the business's documents that best answer a question and
cite them by `document` (and `title`). Adapters: `SqliteFtsRetriever` (the local default, an SQLite
FTS5 index built by the ai_processing knowledge-base manager) and `BedrockKnowledgeBaseRetriever`
(Bedrock Knowledge Base `retrieve`, production).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict


class Passage(BaseModel):
    """One retrieved piece of a document, best first in a result list."""

    model_config = ConfigDict(frozen=True)

    document: str
    """The document's key in the knowledge base (its S3 key or URI): what a citation names."""
    section: str = ""
    """Heading path inside the document (`Tuition > Fees`), or empty."""
    text: str
    score: float
    """Relevance, higher is better; comparable only within one result list."""
    collection: str = ""
    """The knowledge collection the document belongs to (its top-level folder by default)."""
    title: str = ""
    """The document's human title, when known."""
    ordinal: int | None = None
    """The passage's place in its document (0 = first), when the retriever knows it."""


@runtime_checkable
class Retriever(Protocol):
    """Finds the passages that best answer `query`."""

    def search(
        self, query: str, *, k: int = 5, collections: Sequence[str] | None = None
    ) -> list[Passage]:
        """At most `k` passages, best first; `collections` limits the search (None: all)."""
        ...
