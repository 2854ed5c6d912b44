"""Embedders (`parley.embeddings.Embedder`) for hybrid search.

`WordLlamaEmbedder` is offline: WordLlama's weights and tokenizer ship inside its wheel and it is
loaded with downloads disabled, once per process, on first use. It is a development requirement
(with numpy and tokenizers it adds about 100 MB, too much for the service's Lambda zip), used by the
local stage and the tests. `BedrockEmbedder` is the AWS one: Titan Text Embeddings v2 or Cohere
Embed multilingual v3 through bedrock-runtime `InvokeModel`.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from chalicelib.knowledge.bedrock import dependency_error
from parley import aws
from parley.embeddings import Embedder, Purpose
from parley.errors import ConfigurationError

__all__ = ["BedrockEmbedder", "Embedder", "WordLlamaEmbedder"]

TITAN_V2 = "amazon.titan-embed-text-v2:0"
COHERE_MULTILINGUAL = "cohere.embed-multilingual-v3"
_COHERE_BATCH = 96  # texts per Cohere request (its limit)
_COHERE_MAX_CHARS = 2048  # Cohere rejects longer texts
TITAN_WORKERS = 8  # Titan embeds one text per request: a document's chunks go in parallel

_models: dict[tuple[str, int], Any] = {}
_models_lock = threading.Lock()


class WordLlamaEmbedder:
    """Offline static embeddings (WordLlama `l2_supercat`, 256 dimensions)."""

    def __init__(self, config: str = "l2_supercat", dimensions: int = 256) -> None:
        self.config = config
        self.dimensions = dimensions
        self.model = f"wordllama-{config}-{dimensions}"

    def embed(self, texts: Sequence[str], *, purpose: Purpose = "document") -> list[list[float]]:
        """Unit vectors; a zero vector for a blank text (it has no tokens to average)."""
        filled = [i for i, text in enumerate(texts) if text.strip()]
        result = [[0.0] * self.dimensions for _ in texts]
        if filled:
            model = _wordllama(self.config, self.dimensions)
            vectors = model.embed([texts[i] for i in filled], norm=True)
            for i, vector in zip(filled, vectors, strict=True):
                result[i] = [float(x) for x in vector]
        return result


def _wordllama(config: str, dimensions: int) -> Any:
    """The loaded model, shared by the process (loading takes ~0.4 s)."""
    key = (config, dimensions)
    with _models_lock:
        if key not in _models:
            _models[key] = load_wordllama(config, dimensions)
        return _models[key]


def load_wordllama(config: str = "l2_supercat", dimensions: int = 256) -> Any:
    """WordLlama's model from the files inside its wheel; never downloads anything."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        import wordllama
        from wordllama import WordLlama
    except ImportError as exc:
        raise ConfigurationError(
            "EMBEDDER=wordllama needs the wordllama package (requirements-dev.txt); "
            "use EMBEDDER=bedrock in AWS"
        ) from exc
    finally:  # wordllama calls logging.basicConfig() on import: the service's logging is its own
        root.handlers[:], root.level = handlers, level
    package = Path(wordllama.__file__).parent
    # The wheel's tokenizer sits in <package>/tokenizers, where `load` looks only as a cache
    # directory; with downloads disabled nothing is ever fetched (a missing file is an error).
    return WordLlama.load(config, dim=dimensions, cache_dir=package, disable_download=True)


class BedrockEmbedder:
    """Bedrock embeddings: Titan Text Embeddings v2 (any `amazon.titan-embed-text-v2*`) or Cohere
    Embed (`cohere.embed-*`), which embeds questions and passages differently."""

    def __init__(
        self,
        model_id: str = TITAN_V2,
        *,
        dimensions: int = 256,
        workers: int = TITAN_WORKERS,
        client: Any = None,
    ) -> None:
        self.model_id = model_id
        self.dimensions = dimensions
        self.workers = workers
        self.cohere = model_id.startswith("cohere.")
        # Cohere v3 vectors have a fixed size; Titan's is chosen and names the vector space too.
        self.model = f"bedrock-{model_id}" + ("" if self.cohere else f"-{dimensions}")
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws.client("bedrock-runtime", read_timeout=10.0)
        return self._client

    def embed(self, texts: Sequence[str], *, purpose: Purpose = "document") -> list[list[float]]:
        if not texts:
            return []
        if self.cohere:
            return [
                vector
                for start in range(0, len(texts), _COHERE_BATCH)
                for vector in self._cohere(texts[start : start + _COHERE_BATCH], purpose)
            ]
        if len(texts) == 1 or self.workers <= 1:
            return [self._titan(text) for text in texts]
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            return list(pool.map(self._titan, texts))

    def _titan(self, text: str) -> list[float]:
        body = {"inputText": text or " ", "dimensions": self.dimensions, "normalize": True}
        return [float(x) for x in self._invoke(body)["embedding"]]

    def _cohere(self, texts: Sequence[str], purpose: Purpose) -> list[list[float]]:
        body = {
            "texts": [(text or " ")[:_COHERE_MAX_CHARS] for text in texts],
            "input_type": "search_query" if purpose == "query" else "search_document",
            "truncate": "END",
        }
        return [[float(x) for x in vector] for vector in self._invoke(body)["embeddings"]]

    def _invoke(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self.client.invoke_model(
                modelId=self.model_id,
                body=json.dumps(body).encode(),
                contentType="application/json",
                accept="application/json",
            )
            result: dict[str, Any] = json.loads(response["body"].read())
        except Exception as exc:
            raise dependency_error(exc, "Bedrock embedding") from exc
        return result
