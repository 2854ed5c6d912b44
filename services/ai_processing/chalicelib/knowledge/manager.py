"""The knowledge-base manager: keeps the index equal to what the bucket holds.

Every run compares the bucket listing with the current index (by ETag): new and changed documents
are extracted, chunked and indexed; documents no longer listed are dropped (this also covers a
deletion whose notification never came); a broken file is recorded with its reason in the
manifest's `errors` and left alone until it changes. A run that changes nothing publishes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chalicelib.knowledge.chunking import chunk_document
from chalicelib.knowledge.exceptions import DocumentRejected, IndexConflict
from chalicelib.knowledge.extract import extract
from chalicelib.knowledge.index import SCHEMA_VERSION, KnowledgeIndex, embedding_text
from chalicelib.knowledge.store import (
    DocumentError,
    Manifest,
    ManifestDocument,
    S3IndexStore,
    StoredObject,
    new_version,
)

if TYPE_CHECKING:
    from pathlib import Path

    from chalicelib.knowledge.cache import IndexCache
    from parley.embeddings import Embedder


@dataclass(frozen=True)
class IndexingOptions:
    chunk_chars: int = 800
    chunk_overlap: int = 150
    max_document_bytes: int = 25_000_000
    keep_versions: int = 5
    attempts: int = 3  # runs redone after losing a publishing race


@dataclass
class SyncResult:
    version: str | None
    published: bool = False
    indexed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    errors: list[DocumentError] = field(default_factory=list)


@dataclass
class _Plan:
    to_index: list[StoredObject]
    to_remove: list[str]
    kept_errors: list[DocumentError]
    dropped_errors: int

    @property
    def changes(self) -> bool:
        return bool(self.to_index or self.to_remove or self.dropped_errors)


class KnowledgeBaseIndexer:
    def __init__(
        self,
        store: S3IndexStore,
        cache: IndexCache,
        options: IndexingOptions | None = None,
        *,
        embedder: Embedder | None = None,
        logger: Any = None,
    ) -> None:
        self.store = store
        self.cache = cache
        self.options = options or IndexingOptions()
        self.embedder = embedder
        self.logger = logger

    def sync(self) -> SyncResult:
        """Bring the index up to date with the bucket; redone if another run published first."""
        for attempt in range(1, self.options.attempts + 1):
            try:
                return self._sync_once()
            except IndexConflict:
                if attempt == self.options.attempts:
                    raise
                self._log("info", "index publishing race lost, redoing the run", attempt=attempt)
        raise AssertionError("unreachable")

    def _sync_once(self) -> SyncResult:
        manifest, manifest_etag = self.store.read_manifest()
        listing = self.store.documents()
        if manifest is not None and not self._compatible(manifest):
            manifest_for_copy, previous_errors = None, []
        else:
            manifest_for_copy = manifest
            previous_errors = manifest.errors if manifest else []
        work = self.cache.working_copy(self.store, manifest_for_copy)
        index = KnowledgeIndex(work)
        try:
            plan = _plan(index.documents(), previous_errors, listing)
            if not plan.changes and manifest_for_copy is not None:
                work.unlink(missing_ok=True)
                return SyncResult(version=manifest_for_copy.version)
            result = self._apply(index, plan)
            new_manifest = self._manifest(index, result.errors)
            index.compact()
        finally:
            index.close()
        return self._publish(work, new_manifest, manifest_etag, result)

    def _compatible(self, manifest: Manifest) -> bool:
        model = self.embedder.model if self.embedder else None
        return manifest.schema_version == SCHEMA_VERSION and manifest.embedding_model == model

    def _apply(self, index: KnowledgeIndex, plan: _Plan) -> SyncResult:
        result = SyncResult(version=None, errors=list(plan.kept_errors))
        for key in plan.to_remove:
            index.remove(key)
            result.removed.append(key)
        for stored in plan.to_index:
            try:
                self._index_document(index, stored)
                result.indexed.append(stored.key)
            except DocumentRejected as exc:
                index.remove(stored.key)  # the stored file no longer says what the old one did
                result.errors.append(
                    DocumentError(key=stored.key, etag=stored.etag, reason=exc.message)
                )
                self._log("warning", "document not indexed", key=stored.key, reason=exc.message)
        index.commit()
        return result

    def _index_document(self, index: KnowledgeIndex, stored: StoredObject) -> None:
        limit = self.options.max_document_bytes
        if stored.size > limit:
            raise DocumentRejected(f"the file is larger than {limit} bytes ({stored.size})")
        data, etag = self.store.read(stored.key)
        document = extract(stored.key, data)
        chunks = chunk_document(
            stored.key,
            document,
            target=self.options.chunk_chars,
            overlap=self.options.chunk_overlap,
        )
        if self.embedder is None:
            index.replace(stored.key, etag, chunks)
            return
        vectors = self.embedder.embed([embedding_text(c) for c in chunks])
        index.replace(stored.key, etag, chunks, vectors, embedding_model=self.embedder.model)

    def _manifest(self, index: KnowledgeIndex, errors: list[DocumentError]) -> Manifest:
        version = new_version()
        documents = [
            ManifestDocument(**vars(document))
            for document in sorted(index.documents().values(), key=lambda d: d.key)
        ]
        return Manifest(
            schema_version=SCHEMA_VERSION,
            version=version,
            index_key=f"{self.store.prefix}{version}.sqlite",
            documents=documents,
            errors=sorted(errors, key=lambda e: e.key),
            embedding_model=self.embedder.model if self.embedder else None,
        )

    def _publish(
        self, work: Path, manifest: Manifest, expected_etag: str | None, result: SyncResult
    ) -> SyncResult:
        try:
            self.store.publish(work, manifest, expected_etag)
        except Exception:
            work.unlink(missing_ok=True)
            raise
        self.cache.adopt(work, manifest.version)
        self.store.prune(self.options.keep_versions, manifest.index_key)
        result.version, result.published = manifest.version, True
        self._log(
            "info",
            "knowledge index published",
            version=manifest.version,
            documents=len(manifest.documents),
            indexed=len(result.indexed),
            removed=len(result.removed),
            errors=len(result.errors),
        )
        return result

    def _log(self, level: str, message: str, **extra: object) -> None:
        if self.logger is not None:
            getattr(self.logger, level)(message, extra=extra)


def _plan(
    indexed: dict[str, Any], errors: list[DocumentError], listing: dict[str, StoredObject]
) -> _Plan:
    failed = {error.key: error for error in errors}
    to_index = [
        stored
        for key, stored in sorted(listing.items())
        if (key not in indexed or indexed[key].etag != stored.etag)
        and (key not in failed or failed[key].etag != stored.etag)
    ]
    kept = [e for e in errors if e.key in listing and listing[e.key].etag == e.etag]
    return _Plan(
        to_index=to_index,
        to_remove=sorted(key for key in indexed if key not in listing),
        kept_errors=kept,
        dropped_errors=len(errors) - len(kept),
    )
