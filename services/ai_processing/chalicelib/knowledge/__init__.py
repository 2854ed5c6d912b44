"""The knowledge-base manager (S3 upload -> extract -> chunk -> index) and its retrievers.

`KnowledgeBaseIndexer` keeps a versioned SQLite FTS5 index (with passage vectors when an embedder
is configured) in the knowledge-base bucket equal to the documents there; `SqliteFtsRetriever`
searches it (reloading new versions; hybrid BM25 + similarity with an embedder) and
`BedrockKnowledgeBaseRetriever` is the production alternative. Both implement
`parley.retrieval.Retriever`. Embedders: `WordLlamaEmbedder` (offline) and `BedrockEmbedder`.
"""

from chalicelib.knowledge.bedrock import BedrockKnowledgeBaseRetriever
from chalicelib.knowledge.cache import IndexCache
from chalicelib.knowledge.embeddings import BedrockEmbedder, WordLlamaEmbedder
from chalicelib.knowledge.manager import IndexingOptions, KnowledgeBaseIndexer, SyncResult
from chalicelib.knowledge.notifications import index_from_sqs, parse_notification
from chalicelib.knowledge.retriever import SqliteFtsRetriever
from chalicelib.knowledge.store import Manifest, S3IndexStore

__all__ = [
    "BedrockEmbedder",
    "BedrockKnowledgeBaseRetriever",
    "IndexCache",
    "IndexingOptions",
    "KnowledgeBaseIndexer",
    "Manifest",
    "S3IndexStore",
    "SqliteFtsRetriever",
    "SyncResult",
    "WordLlamaEmbedder",
    "index_from_sqs",
    "parse_notification",
]
