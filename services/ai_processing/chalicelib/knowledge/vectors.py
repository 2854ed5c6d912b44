"""Passage vectors kept in the index file, searched by cosine similarity.

Vectors are stored at unit length (float32), so similarity is a dot product. One index version's
vectors are held in memory and scanned whole: with numpy (installed wherever the offline embedder
is) one matrix product, else plain Python (the Lambda zip ships no numpy; a few hundred passages of
256 dimensions then take about 2 ms, next to a Bedrock embedding call of tens of ms).
"""

from __future__ import annotations

import heapq
import math
import operator
from array import array
from collections.abc import Iterable, Sequence
from typing import Any


def unit(vector: Sequence[float]) -> list[float] | None:
    """The vector scaled to length 1; None for a zero or broken one (NaN from an empty text)."""
    norm = math.sqrt(math.fsum(x * x for x in vector))
    if not norm or not math.isfinite(norm):
        return None
    return [x / norm for x in vector]


def to_blob(vector: Sequence[float]) -> bytes | None:
    scaled = unit(vector)
    return array("f", scaled).tobytes() if scaled is not None else None


def from_blob(blob: bytes) -> list[float]:
    vector = array("f")
    vector.frombytes(blob)
    return vector.tolist()


class VectorTable:
    """One index version's vectors, from (chunk id, collection, stored vector) rows."""

    def __init__(self, rows: Iterable[tuple[int, str, bytes]], *, use_numpy: bool = True) -> None:
        loaded = [(chunk_id, collection, from_blob(blob)) for chunk_id, collection, blob in rows]
        size = len(loaded[0][2]) if loaded else 0
        loaded = [row for row in loaded if len(row[2]) == size]
        self.ids = [chunk_id for chunk_id, _, _ in loaded]
        self.collections = [collection for _, collection, _ in loaded]
        self._vectors = [vector for _, _, vector in loaded]
        self._numpy = _numpy() if use_numpy and loaded else None
        self._matrix = self._numpy.asarray(self._vectors, "float32") if self._numpy else None

    def __len__(self) -> int:
        return len(self.ids)

    def nearest(
        self,
        query: Sequence[float],
        limit: int,
        collections: Iterable[str] | None = None,
        among: Iterable[int] | None = None,
    ) -> list[tuple[int, float]]:
        """The `limit` most similar chunks (of `collections`, of the chunks `among`), best first,
        as (chunk id, cosine similarity)."""
        probe = unit(query)
        if probe is None or limit <= 0 or not self.ids or len(probe) != len(self._vectors[0]):
            return []
        similarities = self._similarities(probe)
        wanted = set(collections) if collections is not None else None
        allowed = set(among) if among is not None else None
        scored = (
            (similarity, chunk_id)
            for similarity, chunk_id, collection in zip(
                similarities, self.ids, self.collections, strict=True
            )
            if (wanted is None or collection in wanted) and (allowed is None or chunk_id in allowed)
        )
        return [(chunk_id, similarity) for similarity, chunk_id in heapq.nlargest(limit, scored)]

    def _similarities(self, probe: list[float]) -> list[float]:
        if self._numpy is not None:
            result: list[float] = (self._matrix @ self._numpy.asarray(probe, "float32")).tolist()
            return result
        return [sum(map(operator.mul, probe, vector)) for vector in self._vectors]


def _numpy() -> Any:
    try:
        import numpy
    except ImportError:  # (a Lambda zip): the plain Python scan
        return None
    return numpy
