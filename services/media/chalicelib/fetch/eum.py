"""`MediaSource` of AWS End User Messaging Social (reference §4).

`GetWhatsAppMessageMedia` writes the file straight into our media bucket and answers only its type
and size. It lands under a staging prefix of the message; the object is found by listing that
prefix (EUM may name it as it likes: the extension is never built from the MIME type), streamed
with the size cap like any download, checked, and every staged object is deleted afterwards.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Mapping
from typing import Any

from chalicelib.fetch.errors import MediaDownloadError, MediaExpired, MediaTooLarge
from chalicelib.fetch.landing import Clock, Landing, check_age, discard, media_of, utc_now
from chalicelib.fetch.settings import FetchSettings
from parley.errors import ConfigurationError, InvalidInput
from parley.media_fetch import FetchedMedia
from parley.media_types import size_cap
from parley.payloads import MessageReceived

AWS_ID_PREFIX = "phone-number-id-"
CHUNK = 64 * 1024
# AWS error code -> retryable (absent: not retryable); ResourceNotFound is an expired media id
_RETRYABLE_AWS_CODES = {
    "ThrottledRequestException": True,
    "InternalServiceException": True,
    "DependencyException": True,
    "AccessDeniedException": True,  # our IAM or key policy: fixable without the customer
    "AccessDeniedByMetaException": True,
}


def aws_phone_number_id(arn_or_id: str) -> str:
    """`arn:…:phone-number-id/<id>` (or the id itself) -> `phone-number-id-<id>`."""
    last = arn_or_id.rsplit("/", 1)[-1]
    return last if last.startswith(AWS_ID_PREFIX) else AWS_ID_PREFIX + last


def eum_media_request(
    media_id: str, origination_phone_number_id: str, bucket: str, key: str
) -> dict[str, Any]:
    """Arguments of `get_whatsapp_message_media` that store an inbound media file in S3."""
    return {
        "mediaId": media_id,
        "originationPhoneNumberId": aws_phone_number_id(origination_phone_number_id),
        "destinationS3File": {"bucketName": bucket, "key": key},
    }


class EumMediaSource:
    """Inbound media of the EUM channel. `origination_ids` maps a Meta phone_number_id to its
    EUM id (BUSINESS_NUMBERS' `eum_phone_number_id`)."""

    def __init__(
        self,
        settings: FetchSettings,
        *,
        bucket: str,
        origination_ids: Mapping[str, str],
        social_client: Any = None,
        s3_client: Any = None,
        clock: Clock = utc_now,
    ) -> None:
        self._settings = settings
        self._bucket = bucket
        self._origins = dict(origination_ids)
        self._social_client = social_client
        self._s3_client = s3_client
        self._clock = clock
        self._landing = Landing(settings)

    def fetch(self, message: MessageReceived) -> FetchedMedia:
        ref, kind = media_of(message)
        if not ref.media_id:
            raise InvalidInput(f"EUM message {message.message_id} has no media id")
        origin = self._origins.get(message.business_phone_number_id)
        if not origin:
            raise ConfigurationError(
                f"business number {message.business_phone_number_id} has no eum_phone_number_id"
            )
        check_age(message, self._settings.media_id_ttl_days, self._clock)
        prefix = self.staging_prefix(message)
        request = eum_media_request(ref.media_id, origin, self._bucket, prefix + ref.media_id)
        try:
            answer = self._social.get_whatsapp_message_media(**request)
        except Exception as error:
            raise _eum_error(error) from error
        try:
            cap = size_cap(kind)
            if int(answer.get("fileSize") or 0) > cap:
                raise MediaTooLarge(f"{answer['fileSize']} bytes is over the {kind} cap {cap}")
            key = self._staged_key(prefix)
            declared = ref.mime_type or answer.get("mimeType")
            return self._read(key, message, cap, declared, ref.sha256)
        finally:
            self._delete_staged(prefix)

    def staging_prefix(self, message: MessageReceived) -> str:
        staging = self._settings.eum_staging_prefix
        return f"{staging}{message.business_phone_number_id}/{message.wa_id}/{message.message_id}/"

    def _staged_key(self, prefix: str) -> str:
        listed = self._s3.list_objects_v2(Bucket=self._bucket, Prefix=prefix).get("Contents", [])
        if not listed:
            raise MediaDownloadError("EUM reported the media stored, but nothing is under it")
        newest = max(listed, key=lambda item: item["LastModified"])
        return str(newest["Key"])

    def _read(
        self,
        key: str,
        message: MessageReceived,
        cap: int,
        declared: str | None,
        expected_sha256: str | None,
    ) -> FetchedMedia:
        path = self._landing.new_path()
        digest, size = hashlib.sha256(), 0
        try:
            body = self._s3.get_object(Bucket=self._bucket, Key=key)["Body"]
            with path.open("wb") as sink:
                for chunk in body.iter_chunks(CHUNK):
                    size += len(chunk)
                    if size > cap:
                        raise MediaTooLarge(f"over the {cap} bytes cap while reading")
                    digest.update(chunk)
                    sink.write(chunk)
        except MediaTooLarge:
            discard(path)
            raise
        except Exception as error:
            discard(path)
            raise MediaDownloadError(f"reading the EUM media from S3 failed: {error!r}") from error
        return self._landing.finish(
            path,
            message,
            size=size,
            sha256=digest.hexdigest(),
            declared=declared,
            expected_sha256=expected_sha256,
        )

    def _delete_staged(self, prefix: str) -> None:
        # Best effort, never hiding the fetch's own outcome; the bucket's lifecycle removes
        # anything left, and erasure (S3MediaStore.delete_customer) covers the staging prefix.
        with contextlib.suppress(Exception):
            listed = self._s3.list_objects_v2(Bucket=self._bucket, Prefix=prefix)
            objects = [{"Key": item["Key"]} for item in listed.get("Contents", [])]
            if objects:
                self._s3.delete_objects(Bucket=self._bucket, Delete={"Objects": objects})

    @property
    def _social(self) -> Any:
        if self._social_client is None:
            from parley import aws

            self._social_client = aws.client("socialmessaging", read_timeout=30.0)
        return self._social_client

    @property
    def _s3(self) -> Any:
        if self._s3_client is None:
            from parley import aws

            self._s3_client = aws.client("s3", read_timeout=30.0)
        return self._s3_client


def _eum_error(error: BaseException) -> Exception:
    response = getattr(error, "response", None)
    if not isinstance(response, dict):  # connection failure, timeout
        return MediaDownloadError(f"EUM unreachable: {type(error).__name__}")
    code = str(response.get("Error", {}).get("Code", ""))
    if code == "ResourceNotFoundException":
        return MediaExpired("EUM does not know this media id (expired or deleted)")
    retryable = _RETRYABLE_AWS_CODES.get(code, False)
    return MediaDownloadError(f"GetWhatsAppMessageMedia failed: {code}", retryable=retryable)
