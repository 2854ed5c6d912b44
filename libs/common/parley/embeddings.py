"""Text embeddings: the `Embedder` role.

A knowledge index stores one vector per passage, computed when it is built, and a search embeds the
question once and ranks passages by cosine similarity. Adapters (in ai_processing's knowledge base):
`WordLlamaEmbedder` (offline, weights inside its wheel) and `BedrockEmbedder` (Titan Text Embeddings
v2 or Cohere Embed multilingual v3 through bedrock-runtime `InvokeModel`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol, runtime_checkable

Purpose = Literal["document", "query"]
"""What a text is: some models embed a question differently from the passages it looks for."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into vectors of one vector space."""

    model: str
    """Names the vector space (model and dimensions): an index built with another is rebuilt."""

    def embed(self, texts: Sequence[str], *, purpose: Purpose = "document") -> list[list[float]]:
        """One vector per text, in order. Raises a `parley.errors.DependencyError` when the
        model cannot be reached."""
        ...
