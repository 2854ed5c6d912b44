"""The one place the ai_processing service's dependencies are built from settings (lazily)."""

from __future__ import annotations

import os
from functools import cached_property
from typing import TYPE_CHECKING, Any

from parley import health
from parley.service import ServiceRuntime

if TYPE_CHECKING:
    from chalicelib.knowledge import IndexCache, KnowledgeBaseIndexer, S3IndexStore
    from parley.embeddings import Embedder
    from parley.retrieval import Retriever
    from parley.settings import AiProcessingSettings


def _settings() -> AiProcessingSettings:
    from parley.settings import (  # pydantic-settings costs ~200 ms of import
        AiProcessingSettings,
        load_settings,
    )

    return load_settings(AiProcessingSettings)


def _dependencies(s: AiProcessingSettings) -> list[health.Dependency]:
    return [
        health.queue(s.turns_queue),
        health.queue(s.outbound_queue),
        health.queue(s.kb_events_queue),
        health.bucket(s.kb_bucket),
    ]


class AiProcessingRuntime(ServiceRuntime["AiProcessingSettings"]):
    """The shared runtime plus the knowledge base: its indexer and the configured retriever."""

    _KNOWLEDGE = ("kb_store", "kb_cache", "embedder", "retriever")

    @cached_property
    def kb_store(self) -> S3IndexStore:
        from chalicelib.knowledge import S3IndexStore

        return S3IndexStore(self.settings.kb_bucket, self.settings.kb_index_prefix)

    @cached_property
    def kb_cache(self) -> IndexCache:
        import tempfile

        from chalicelib.knowledge import IndexCache

        directory = self.settings.kb_cache_dir or os.path.join(tempfile.gettempdir(), "parley-kb")
        return IndexCache(directory)

    def kb_indexer(self) -> KnowledgeBaseIndexer:
        from chalicelib.knowledge import IndexingOptions, KnowledgeBaseIndexer

        s = self.settings
        options = IndexingOptions(
            chunk_chars=s.kb_chunk_chars,
            chunk_overlap=s.kb_chunk_overlap,
            max_document_bytes=s.kb_max_document_bytes,
        )
        return KnowledgeBaseIndexer(
            self.kb_store, self.kb_cache, options, embedder=self.embedder, logger=self.logger
        )

    @cached_property
    def embedder(self) -> Embedder | None:
        """The passage embedder the settings choose; its model loads on first use."""
        s = self.settings
        if s.embedder == "none":
            return None
        if s.embedder == "bedrock":
            from chalicelib.knowledge import BedrockEmbedder

            return BedrockEmbedder(
                s.bedrock_embedding_model, dimensions=s.bedrock_embedding_dimensions
            )
        from chalicelib.knowledge import WordLlamaEmbedder

        return WordLlamaEmbedder()

    @cached_property
    def retriever(self) -> Retriever:
        """The knowledge retriever the settings choose (one per container)."""
        s = self.settings
        if s.retriever == "bedrock":
            from chalicelib.knowledge import BedrockKnowledgeBaseRetriever

            assert s.bedrock_knowledge_base_id  # the settings require it for "bedrock"
            return BedrockKnowledgeBaseRetriever(s.bedrock_knowledge_base_id)
        from chalicelib.knowledge import SqliteFtsRetriever

        return SqliteFtsRetriever(
            self.kb_store,
            self.kb_cache,
            reload_seconds=s.kb_reload_seconds,
            embedder=self.embedder,
            logger=self.logger,
        )

    def index_knowledge_base(
        self, raw_event: dict[str, Any], context: Any = None
    ) -> dict[str, Any]:
        """Apply a batch of knowledge-base bucket notifications (kb-events queue)."""
        from chalicelib.knowledge import index_from_sqs

        return index_from_sqs(raw_event, self.kb_indexer, service=self.name, context=context)

    def reset(self) -> None:
        for attribute in self._KNOWLEDGE:
            self.__dict__.pop(attribute, None)
        super().reset()


runtime = AiProcessingRuntime(_settings, _dependencies)
