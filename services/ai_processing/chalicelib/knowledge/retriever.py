"""`SqliteFtsRetriever`: searches the index the manager publishes, reloading new versions.

One per container: it checks the manifest at most every `reload_seconds`, downloads a new version
once into the container's cache and swaps it in; searches in flight finish on the old one. If S3
cannot be reached it keeps answering from the version it has. With an embedder, a search is hybrid
(BM25 and vector similarity fused: `search.py`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from chalicelib.knowledge.index import Hit, KnowledgeIndex
from chalicelib.knowledge.search import hybrid_search
from parley.errors import DependencyError
from parley.retrieval import Passage

if TYPE_CHECKING:
    from chalicelib.knowledge.cache import IndexCache
    from chalicelib.knowledge.store import S3IndexStore
    from parley.embeddings import Embedder


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
            hits = hybrid_search(
                self._index, query, k, collections, embedder=self.embedder, logger=self.logger
            )
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
        loaded = KnowledgeIndex(path, readonly=True)
        loaded.warm()
        previous, self._index = self._index, loaded
        self.version, self._checked_at = manifest.version, now
        if previous is not None:
            previous.close()
        if self.logger is not None:
            self.logger.info("knowledge index loaded", extra=self._loaded(self._index))

    def _loaded(self, index: KnowledgeIndex) -> dict[str, object]:
        """What a newly loaded version searches with (BM25 alone until vectors of the
        configured model are built)."""
        model = self.embedder.model if self.embedder else None
        hybrid = model is not None and index.embedding_model == model
        return {"version": self.version, "vectors": index.embedding_model, "hybrid": hybrid}


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
