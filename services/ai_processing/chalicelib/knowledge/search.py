"""Hybrid search: BM25 over the analysed question and vector similarity, fused by rank.

The question is analysed once (normalised, corrected, expanded: `query.py`); BM25 ranks the
passages that share its stems (the best `k x DEPTH`), the embedder embeds it once and ranks the
same candidates by cosine similarity; weighted reciprocal rank fusion (each list adds
weight / (60 + rank), BM25 counting double) merges the two without comparing their scores. A
passage that shares no word with the question even after correction and expansion is not returned:
similarity alone always finds a nearest passage, and one about something else only misleads an
answer. Without an embedder, or when the index's vectors come from another model, BM25 alone
answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from chalicelib.knowledge.index import Hit, KnowledgeIndex
from parley.embeddings import Embedder
from parley.errors import DependencyError

DEPTH = 4  # each ranking lists k x this candidates
MIN_DEPTH = 20
RRF_K = 60  # the usual constant: a passage ranked well by both beats one ranked first by one
DENSE_WEIGHT = 0.5  # BM25 sees corrected and expanded words; similarity is the second opinion


def hybrid_search(
    index: KnowledgeIndex,
    query: str,
    k: int,
    collections: Iterable[str] | None = None,
    *,
    embedder: Embedder | None = None,
    logger: Any = None,
) -> list[Hit]:
    """The best `k` passages for `query`, best first (scores: BM25, or fused when hybrid)."""
    wanted = list(collections) if collections is not None else None
    analysed = index.analyse(query)
    depth = max(k * DEPTH, MIN_DEPTH)
    lexical = index.search(analysed, depth, wanted)
    if not lexical or embedder is None or index.embedding_model != embedder.model:
        return lexical[:k]
    try:
        [vector] = embedder.embed([analysed.dense_text], purpose="query")
    except DependencyError as exc:  # the words still find passages
        if logger is not None:
            logger.warning("query embedding failed, BM25 only", extra={"reason": exc.code})
        return lexical[:k]
    dense = index.nearest(vector, depth, wanted, among=[hit.chunk_id for hit in lexical])
    return fuse([lexical, dense], k, weights=(1.0, DENSE_WEIGHT))


def fuse(
    rankings: Sequence[Sequence[Hit]],
    limit: int,
    *,
    weights: Sequence[float] | None = None,
    k: int = RRF_K,
) -> list[Hit]:
    """Weighted reciprocal rank fusion: a passage scores the sum of weight / (k + rank) over the
    rankings that list it; ties keep the order of the first ranking that has it."""
    scores: dict[int, float] = {}
    hits: dict[int, Hit] = {}
    for ranking, weight in zip(rankings, weights or [1.0] * len(rankings), strict=True):
        for rank, hit in enumerate(ranking, 1):
            scores[hit.chunk_id] = scores.get(hit.chunk_id, 0.0) + weight / (k + rank)
            hits.setdefault(hit.chunk_id, hit)
    best = sorted(scores, key=lambda chunk_id: -scores[chunk_id])[:limit]
    return [replace(hits[chunk_id], score=scores[chunk_id]) for chunk_id in best]
