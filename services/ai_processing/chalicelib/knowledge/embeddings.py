"""The embedding hook: vectors are computed and used only when an `Embedder` is configured.

None is configured by default (BM25 alone serves the demo well); a provider adapter (e.g. Bedrock
Titan embeddings) implements this role and is passed to the indexer and the retriever.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol


class Embedder(Protocol):
    model: str
    """Names the vector space: an index built with another model is rebuilt."""

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0
