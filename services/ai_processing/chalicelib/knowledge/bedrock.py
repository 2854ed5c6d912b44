"""`BedrockKnowledgeBaseRetriever`: Bedrock Knowledge Base `retrieve` (production).

Documents are cited by their key in the knowledge-base bucket (as the SQLite index does); the
collection is the document's `collection` metadata attribute (its `.metadata.json` sidecar), or
else its top-level folder, and a search limited to collections filters on that attribute.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from parley import aws
from parley.errors import DependencyError, PermanentDependencyError, Throttled
from parley.retrieval import Passage

_PERMANENT = frozenset(
    {"ValidationException", "ResourceNotFoundException", "AccessDeniedException"}
)
_THROTTLED = frozenset({"ThrottlingException", "ServiceQuotaExceededException"})
_PAGE = "x-amz-bedrock-kb-document-page-number"


class BedrockKnowledgeBaseRetriever:
    """Implements `parley.retrieval.Retriever` with `bedrock-agent-runtime` `retrieve`."""

    def __init__(self, knowledge_base_id: str, client: Any = None) -> None:
        self.knowledge_base_id = knowledge_base_id
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = aws.client("bedrock-agent-runtime", read_timeout=10.0)
        return self._client

    def search(
        self, query: str, *, k: int = 5, collections: Sequence[str] | None = None
    ) -> list[Passage]:
        if not query.strip():
            return []
        try:
            response = self.client.retrieve(**self.request(query, k, collections))
        except Exception as exc:
            raise dependency_error(exc, "Bedrock knowledge base retrieve") from exc
        return [_passage(result) for result in response.get("retrievalResults", [])][:k]

    def request(self, query: str, k: int, collections: Sequence[str] | None) -> dict[str, Any]:
        search: dict[str, Any] = {"numberOfResults": k}
        if collections is not None:
            wanted = list(collections)
            search["filter"] = (
                {"equals": {"key": "collection", "value": wanted[0]}}
                if len(wanted) == 1
                else {"in": {"key": "collection", "value": wanted}}
            )
        return {
            "knowledgeBaseId": self.knowledge_base_id,
            "retrievalQuery": {"text": query},
            "retrievalConfiguration": {"vectorSearchConfiguration": search},
        }


def dependency_error(exc: Exception, what: str) -> DependencyError:
    """A failed Bedrock call as an error of the tree, by its error code."""
    code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__))
    message = f"{what} failed: {code}"
    if code in _THROTTLED:
        return Throttled(message)
    if code in _PERMANENT:
        return PermanentDependencyError(message)
    return DependencyError(message)


def _passage(result: dict[str, Any]) -> Passage:
    metadata = result.get("metadata") or {}
    document = _document(result.get("location") or {}, metadata)
    page = metadata.get(_PAGE)
    collection = metadata.get("collection") or (
        document.split("/", 1)[0] if "/" in document else ""
    )
    return Passage(
        document=document,
        section=f"Page {int(page)}" if isinstance(page, int | float) else "",
        text=str((result.get("content") or {}).get("text", "")),
        score=float(result.get("score") or 0.0),
        collection=str(collection),
        title=str(metadata.get("title", "")),
    )


def _document(location: dict[str, Any], metadata: dict[str, Any]) -> str:
    """`s3://bucket/demo/fees.md` -> `demo/fees.md`; other sources by their URL."""
    uri = str(
        (location.get("s3Location") or {}).get("uri")
        or metadata.get("x-amz-bedrock-kb-source-uri")
        or next(
            (v.get("url") for v in location.values() if isinstance(v, dict) and v.get("url")),
            "",
        )
    )
    if uri.startswith("s3://"):
        return uri.removeprefix("s3://").split("/", 1)[-1]
    return uri
