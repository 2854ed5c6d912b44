"""The one error tree of Parley.

Every error carries `code`, `http_status` and `retryable`. HTTP handlers turn an error into a
response from `http_status`; batch handlers decide retry (leave the message on the queue) or park
(send it to the DLQ with the reason) from `retryable`. Nothing matches on message text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar


class ParleyError(Exception):
    """Root of every error Parley raises on purpose."""

    code: ClassVar[str] = "parley_error"
    http_status: ClassVar[int] = 500
    retryable: bool = False  # per class; an instance may override it (see WhatsAppApiError)
    # A 5xx message may carry what a dependency said (AWS error text, ARNs, resource names): it is
    # logged, and the caller gets PUBLIC_MESSAGE instead unless the class says its text is safe.
    message_is_public: ClassVar[bool] = False
    PUBLIC_MESSAGE: ClassVar[str] = "the service could not complete the request; try again later"

    def __init__(self, message: str, *, detail: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail or {}

    def to_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"error": self.code, "message": self.message}
        if self.detail:
            body["detail"] = self.detail
        return body

    def public_dict(self) -> dict[str, object]:
        """The answer for an HTTP caller: a client error's reason as is (it is about the request),
        a server error's only when its class wrote it for callers."""
        if self.http_status < 500 or self.message_is_public:
            return self.to_dict()
        return {"error": self.code, "message": self.PUBLIC_MESSAGE}


class ConfigurationError(ParleyError):
    """A setting is missing or invalid: the service cannot start."""

    code = "configuration_error"


class InvalidSettings(ConfigurationError):
    """Environment variables missing or invalid; the message names the variables (no values)."""

    message_is_public = True


class SecretNotSet(ConfigurationError):
    """A credential (app secret, verify token, auth token, signing secret) is missing, empty, a
    placeholder or implausibly short: the route refuses every request until an operator sets it.
    The message names the credential, never the secret's resource id."""

    http_status = 503
    message_is_public = True


class InvalidInput(ParleyError):
    """The input can never be processed as sent (bad JSON, wrong shape, unknown event type)."""

    code = "invalid_input"
    http_status = 400


class PayloadTooLarge(InvalidInput):
    code = "payload_too_large"
    http_status = 413


class Unauthorized(ParleyError):
    """Missing or wrong credentials or signature."""

    code = "unauthorized"
    http_status = 401


class Forbidden(ParleyError):
    code = "forbidden"
    http_status = 403


class NotFound(ParleyError):
    code = "not_found"
    http_status = 404


class Conflict(ParleyError):
    """The operation collides with current state (e.g. a duplicate or an event in progress)."""

    code = "conflict"
    http_status = 409
    retryable = True


class DependencyError(ParleyError):
    """A system we depend on failed; by default worth retrying."""

    code = "dependency_error"
    http_status = 502
    retryable = True


class StorageError(DependencyError):
    code = "storage_error"


class Throttled(DependencyError):
    code = "throttled"
    http_status = 503


class ModelError(DependencyError):
    code = "model_error"


class WhatsAppApiError(DependencyError):
    """An error answered by the WhatsApp API; retryable depends on Meta's error code."""

    code = "whatsapp_api_error"

    def __init__(
        self,
        message: str,
        *,
        meta_code: int | None = None,
        retryable: bool = True,
        detail: dict[str, object] | None = None,
        ambiguous: bool = False,
    ) -> None:
        super().__init__(message, detail=detail)
        self.meta_code = meta_code
        self.retryable = retryable  # Meta's error code decides
        # The request may have reached the API (a read timeout, a connection dropped after
        # sending): whether the message went out is unknown, so it must not be resent blindly.
        self.ambiguous = ambiguous


class PermanentDependencyError(DependencyError):
    """A dependency refused the request in a way retrying cannot fix."""

    code = "permanent_dependency_error"
    retryable = False


class BatchIncomplete(ParleyError):
    """Records of an SQS batch failed with a retryable error. The other records were deleted from
    the queue already; raising makes Lambda hand the failed ones back to SQS (retry, then the DLQ)
    whether or not the event source mapping reports batch item failures."""

    code = "batch_incomplete"
    retryable = True

    def __init__(self, failed_ids: Sequence[str], total: int) -> None:
        ids = ", ".join(failed_ids)
        super().__init__(
            f"{len(failed_ids)} of {total} records failed and will be retried: {ids}",
            detail={"failed_message_ids": list(failed_ids)},
        )
        self.failed_ids = tuple(failed_ids)


def is_retryable(error: BaseException) -> bool:
    """Unknown exceptions are treated as retryable: a bug fixed by a deploy can then drain the queue
    within maxReceiveCount, and anything still failing lands in the DLQ with its reason."""
    if isinstance(error, ParleyError):
        return bool(error.retryable)
    return True
