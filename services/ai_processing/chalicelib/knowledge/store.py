"""The knowledge-base bucket: its documents, and the versioned index kept beside them.

Layout (`prefix` is `index/` by default; nothing under it is indexed):
    <prefix><version>.sqlite   one immutable object per index version
    <prefix>current.json       the manifest: version, index key, documents with etags, errors
The manifest is replaced with a conditional write (If-Match on its ETag, or If-None-Match for the
first one), so two indexing runs that race cannot lose each other's work: the loser is redone.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from chalicelib.knowledge.exceptions import IndexConflict
from parley import aws
from parley.errors import StorageError

MANIFEST_NAME = "current.json"
_CONFLICT_CODES = frozenset({"PreconditionFailed", "ConditionalRequestConflict", "412", "409"})
_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


class ManifestDocument(BaseModel):
    key: str
    etag: str
    title: str
    collection: str
    language: str
    chunks: int


class DocumentError(BaseModel):
    """A document that could not be indexed, and why (retried only when its etag changes)."""

    key: str
    etag: str
    reason: str


class Manifest(BaseModel):
    schema_version: int
    version: str
    index_key: str
    built_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    documents: list[ManifestDocument] = Field(default_factory=list)
    errors: list[DocumentError] = Field(default_factory=list)
    embedding_model: str | None = None


class StoredObject(BaseModel):
    key: str
    etag: str
    size: int


def new_version() -> str:
    """Sortable and unique: `20270115T093000123456Z-1a2b3c4d`."""
    import uuid

    return f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}"


def _etag(value: str) -> str:
    return value.strip('"')


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


CONFIG_PREFIX = "config/"  # the agents configuration override lives here, not knowledge


class S3IndexStore:
    """Reads documents and reads/publishes index versions in one bucket."""

    def __init__(self, bucket: str, prefix: str = "index/", s3: Any = None) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self._s3 = s3

    @property
    def s3(self) -> Any:
        return self._s3 if self._s3 is not None else aws.client("s3", read_timeout=30.0)

    @property
    def manifest_key(self) -> str:
        return f"{self.prefix}{MANIFEST_NAME}"

    def is_index_key(self, key: str) -> bool:
        return key.startswith(self.prefix)

    def is_document_key(self, key: str) -> bool:
        """Folder markers, index objects, the agents configuration (`config/`) and Bedrock
        metadata sidecars are not documents."""
        return not (
            key.endswith("/")
            or self.is_index_key(key)
            or key.startswith(CONFIG_PREFIX)
            or key.endswith(".metadata.json")
        )

    def documents(self) -> dict[str, StoredObject]:
        found: dict[str, StoredObject] = {}
        try:
            pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
            for page in pages:
                for item in page.get("Contents", []):
                    if self.is_document_key(item["Key"]):
                        obj = StoredObject(
                            key=item["Key"], etag=_etag(item["ETag"]), size=item["Size"]
                        )
                        found[obj.key] = obj
        except Exception as exc:
            raise StorageError(f"cannot list the knowledge-base bucket: {exc}") from exc
        return found

    def read(self, key: str) -> tuple[bytes, str]:
        """A document's bytes and etag."""
        try:
            response = self.s3.get_object(Bucket=self.bucket, Key=key)
            return response["Body"].read(), _etag(response["ETag"])
        except Exception as exc:
            raise StorageError(f"cannot read {key} from the knowledge base: {exc}") from exc

    def read_manifest(self) -> tuple[Manifest | None, str | None]:
        """The current manifest and its ETag; (None, None) before the first index."""
        try:
            response = self.s3.get_object(Bucket=self.bucket, Key=self.manifest_key)
        except Exception as exc:
            if _code(exc) in _MISSING_CODES:
                return None, None
            raise StorageError(f"cannot read the knowledge-base manifest: {exc}") from exc
        manifest = Manifest.model_validate_json(response["Body"].read())
        return manifest, _etag(response["ETag"])

    def download_index(self, manifest: Manifest, target: Path) -> None:
        try:
            self.s3.download_file(self.bucket, manifest.index_key, str(target))
        except Exception as exc:
            raise StorageError(f"cannot download {manifest.index_key}: {exc}") from exc

    def publish(self, index_file: Path, manifest: Manifest, expected_etag: str | None) -> None:
        """Upload the index version, then make it current unless another run got there first."""
        try:
            self.s3.upload_file(str(index_file), self.bucket, manifest.index_key)
        except Exception as exc:
            raise StorageError(f"cannot upload {manifest.index_key}: {exc}") from exc
        condition = {"IfMatch": expected_etag} if expected_etag else {"IfNoneMatch": "*"}
        body = json.dumps(manifest.model_dump(mode="json"), ensure_ascii=False, indent=1)
        try:
            self.s3.put_object(
                Bucket=self.bucket,
                Key=self.manifest_key,
                Body=body.encode(),
                ContentType="application/json",
                **condition,
            )
        except Exception as exc:
            if _code(exc) in _CONFLICT_CODES:
                self._delete(manifest.index_key)
                raise IndexConflict("the knowledge index changed while this run built it") from exc
            raise StorageError(f"cannot publish the knowledge-base manifest: {exc}") from exc

    def prune(self, keep: int, current: str) -> None:
        """Delete index versions beyond the newest `keep` (never the current one)."""
        try:
            pages = self.s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix
            )
            keys = sorted(
                item["Key"]
                for page in pages
                for item in page.get("Contents", [])
                if item["Key"].endswith(".sqlite")
            )
        except Exception:  # pruning is housekeeping: the next run tries again
            return
        for key in keys[:-keep] if keep > 0 else keys:
            if key != current:
                self._delete(key)

    def _delete(self, key: str) -> None:
        try:
            self.s3.delete_object(Bucket=self.bucket, Key=key)
        except Exception:  # an orphan index version is harmless; prune removes it later
            return
