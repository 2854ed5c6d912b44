"""`SqliteFtsRetriever`: searches the index the manager publishes, reloading new versions.

One per container: it checks the manifest at most every `reload_seconds`, downloads a new version
once into the container's cache and swaps it in; searches in flight finish on the old one. If S3
cannot be reached it keeps answering from the version it has.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from chalicelib.knowledge.embeddings import cosine
from chalicelib.knowledge.index import Hit, KnowledgeIndex
from parley.errors import DependencyError
from parley.retrieval import Passage

if TYPE_CHECKING:
    from chalicelib.knowledge.cache import IndexCache
    from chalicelib.knowledge.embeddings import Embedder
    from chalicelib.knowledge.store import S3IndexStore

RERANK_CANDIDATES = 4  # with embeddings, BM25's best k x this are reranked by similarity


class SqliteFtsRetriever:
    """Implements `parley.retrieval.Retriever` over the SQLite FTS5 knowledge index."""

    def __init__(
        self,
        store: S3IndexStore,
        cache: IndexCache,
        *,
        reload_seconds: float = 30.0,
        embedder: Embedder | None = None,
        clock: Callable[[], float] = time.monotonic,
        logger: Any = None,
    ) -> None:
        self.store = store
        self.cache = cache
        self.reload_seconds = reload_seconds
        self.embedder = embedder
        self.clock = clock
        self.logger = logger
        self.version: str | None = None
        self._index: KnowledgeIndex | None = None
        self._checked_at: float | None = None
        self._lock = threading.Lock()

    def search(
        self, query: str, *, k: int = 5, collections: Sequence[str] | None = None
    ) -> list[Passage]:
        with self._lock:
            self._refresh()
            if self._index is None:
                return []
            wanted = k * RERANK_CANDIDATES if self.embedder else k
            hits = self._index.search(query, wanted, collections)
            if self.embedder and hits:
                hits = self._rerank(self._index, query, hits)[:k]
        return [_passage(hit) for hit in hits]

    def refresh(self) -> str | None:
        """Check the manifest now; the version in use."""
        with self._lock:
            self._checked_at = None
            self._refresh()
            return self.version

    def _refresh(self) -> None:
        now = self.clock()
        if self._checked_at is not None and now - self._checked_at < self.reload_seconds:
            return
        try:
            manifest, _ = self.store.read_manifest()
            if manifest is None or manifest.version == self.version:
                self._checked_at = now
                return
            path = self.cache.local(self.store, manifest)
        except DependencyError as exc:
            if self._index is None:
                raise
            if self.logger is not None:
                self.logger.warning("knowledge index check failed", extra={"reason": str(exc)})
            return  # keep serving the version we have; check again on the next search
        previous, self._index = self._index, KnowledgeIndex(path, readonly=True)
        self.version, self._checked_at = manifest.version, now
        if previous is not None:
            previous.close()
        if self.logger is not None:
            self.logger.info("knowledge index loaded", extra={"version": manifest.version})

    def _rerank(self, index: KnowledgeIndex, query: str, hits: list[Hit]) -> list[Hit]:
        """Half BM25 (scaled to the best hit), half cosine similarity to the query."""
        assert self.embedder is not None
        vectors = index.vectors([hit.chunk_id for hit in hits])
        if not vectors:
            return hits
        [query_vector] = self.embedder.embed([query])
        best = max(hit.score for hit in hits) or 1.0

        def blended(hit: Hit) -> float:
            vector = vectors.get(hit.chunk_id)
            similarity = cosine(query_vector, vector) if vector else 0.0
            return 0.5 * hit.score / best + 0.5 * similarity

        return sorted(hits, key=blended, reverse=True)


def _passage(hit: Hit) -> Passage:
    return Passage(
        document=hit.document,
        section=hit.section,
        text=hit.text,
        score=hit.score,
        collection=hit.collection,
        title=hit.title,
        ordinal=hit.ordinal,
    )
