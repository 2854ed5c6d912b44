"""The media bucket: one object per message, under the conversation, encrypted with the stack key.

Key: `media/<phone_number_id>/<wa_id>/<message_id>/<safe filename or "media">`. A redelivered
message finds its object (any name under the message's prefix) and writes nothing; two deliveries
racing are settled by S3's conditional write (`If-None-Match: *`). Objects are encrypted with
SSE-KMS (the stack's key, or the bucket default: the same key, infra/template.yaml MediaBucket);
the bucket's lifecycle rule expires them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from parley.errors import InvalidInput, StorageError
from parley.events import split_conversation_key
from parley.media_fetch import FetchedMedia
from parley.whatsapp.ids import is_phone_number_id

ROOT = "media/"
DEFAULT_NAME = "media"
MAX_NAME = 120
_MESSAGE_ID = re.compile(r"[A-Za-z0-9._=+-]{1,256}")
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._ -]+")
_ALREADY_WRITTEN = frozenset({"PreconditionFailed", "ConditionalRequestConflict", "412"})


@dataclass(frozen=True)
class StoredMedia:
    bucket: str
    key: str
    mime_type: str | None
    size: int
    sha256: str | None
    created: bool  # False: it was already stored (a redelivery)


def safe_filename(name: str | None) -> str:
    """A customer-given file name fit for an S3 key: its last path part, ASCII letters, digits,
    dots, dashes, spaces and underscores only, no leading dot; "media" when nothing is left."""
    if not name:
        return DEFAULT_NAME
    last = re.split(r"[\\/]", name)[-1]
    ascii_name = unicodedata.normalize("NFKD", last).encode("ascii", "ignore").decode("ascii")
    cleaned = _UNSAFE_NAME_CHARS.sub("_", ascii_name).strip(" .")[:MAX_NAME].strip(" .")
    return cleaned or DEFAULT_NAME


def message_prefix(phone_number_id: str, wa_id: str, message_id: str) -> str:
    if not (is_phone_number_id(phone_number_id) and is_phone_number_id(wa_id)):
        raise InvalidInput("phone_number_id and wa_id must be digits only")
    if not _MESSAGE_ID.fullmatch(message_id) or message_id in (".", ".."):
        raise InvalidInput(f"message id {message_id[:60]!r} cannot be part of a key")
    return f"{ROOT}{phone_number_id}/{wa_id}/{message_id}/"


class S3MediaStore:
    """Stores fetched media once per message; erases a customer's media."""

    def __init__(
        self,
        bucket: str,
        *,
        kms_key_id: str | None = None,
        staging_prefix: str = "eum-incoming/",
        s3_client: Any = None,
    ) -> None:
        self._bucket = bucket
        self._kms_key_id = kms_key_id
        self._staging = staging_prefix
        self._client = s3_client

    def existing(self, conversation: str, message_id: str) -> StoredMedia | None:
        """The message's stored object, if any (a redelivery needs no download)."""
        phone_number_id, wa_id = split_conversation_key(conversation)
        prefix = message_prefix(phone_number_id, wa_id, message_id)
        try:
            listed = self._s3.list_objects_v2(Bucket=self._bucket, Prefix=prefix, MaxKeys=1)
            contents = listed.get("Contents", [])
            if not contents:
                return None
            key = str(contents[0]["Key"])
            head = self._s3.head_object(Bucket=self._bucket, Key=key)
        except Exception as error:
            raise StorageError(f"cannot look up stored media: {error!r}") from error
        metadata = head.get("Metadata") or {}
        return StoredMedia(
            self._bucket,
            key,
            head.get("ContentType"),
            int(head.get("ContentLength") or 0),
            metadata.get("sha256"),
            created=False,
        )

    def put_once(self, conversation: str, message_id: str, media: FetchedMedia) -> StoredMedia:
        """Store `media` for the message unless something is stored for it already."""
        found = self.existing(conversation, message_id)
        if found is not None:
            return found
        phone_number_id, wa_id = split_conversation_key(conversation)
        key = message_prefix(phone_number_id, wa_id, message_id) + safe_filename(media.filename)
        encryption: dict[str, str] = {"ServerSideEncryption": "aws:kms"}
        if self._kms_key_id:
            encryption["SSEKMSKeyId"] = self._kms_key_id
        try:
            with media.path.open("rb") as body:
                self._s3.put_object(
                    Bucket=self._bucket,
                    Key=key,
                    Body=body,
                    ContentType=media.mime_type,
                    ContentLength=media.size,
                    Metadata={"sha256": media.sha256, "kind": media.kind},
                    IfNoneMatch="*",
                    **encryption,
                )
        except Exception as error:
            if _error_code(error) in _ALREADY_WRITTEN:
                again = self.existing(conversation, message_id)
                if again is not None:
                    return again
            raise StorageError(f"cannot store media: {_error_code(error) or error!r}") from error
        size, sha = media.size, media.sha256
        return StoredMedia(self._bucket, key, media.mime_type, size, sha, created=True)

    def delete_customer(self, wa_id: str, phone_number_ids: Iterable[str] | None = None) -> int:
        """Delete every stored and staged object of the customer (under every business number
        found in the bucket unless given); the number of objects deleted."""
        if not is_phone_number_id(wa_id):
            raise InvalidInput("wa_id must be digits only")
        given = None if phone_number_ids is None else tuple(phone_number_ids)
        deleted = 0
        try:
            for root in (ROOT, self._staging):
                numbers = given if given is not None else self._numbers(root)
                for number in numbers:
                    deleted += self._delete_prefix(f"{root}{number}/{wa_id}/")
        except Exception as error:
            raise StorageError(f"cannot erase the customer's media: {error!r}") from error
        return deleted

    def _numbers(self, root: str) -> Iterator[str]:
        pages = self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=self._bucket, Prefix=root, Delimiter="/"
        )
        for page in pages:
            for common in page.get("CommonPrefixes", []):
                yield str(common["Prefix"])[len(root) :].rstrip("/")

    def _delete_prefix(self, prefix: str) -> int:
        pages = self._s3.get_paginator("list_objects_v2").paginate(
            Bucket=self._bucket, Prefix=prefix
        )
        deleted = 0
        for page in pages:
            objects = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if objects:  # at most 1,000 per page, DeleteObjects' own limit
                self._s3.delete_objects(
                    Bucket=self._bucket, Delete={"Objects": objects, "Quiet": True}
                )
                deleted += len(objects)
        return deleted

    @property
    def _s3(self) -> Any:
        if self._client is None:
            from parley import aws

            self._client = aws.client("s3", read_timeout=30.0)
        return self._client


def _error_code(error: BaseException) -> str:
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return ""
    return str(response.get("Error", {}).get("Code", ""))
