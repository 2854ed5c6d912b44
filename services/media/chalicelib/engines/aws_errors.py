"""AWS engine failures as `parley` errors: throttling and service faults are retryable, anything
else (bad image, unsupported document, access denied) is permanent."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from parley.media_understanding import MediaEngineError, MediaEngineRejected

RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "LimitExceededException",
        "ProvisionedThroughputExceededException",
        "InternalServerError",
        "InternalFailureException",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
        "SlowDown",
    }
)


@contextmanager
def engine_errors(engine: str) -> Iterator[None]:
    """Translate botocore errors raised inside the block (`raise ... from` the original)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if code in RETRYABLE_CODES or status >= 500:
            raise MediaEngineError(f"{engine} failed: {code}", detail={"code": code}) from exc
        raise MediaEngineRejected(f"{engine} refused: {code}", detail={"code": code}) from exc
    except BotoCoreError as exc:  # connection errors, timeouts
        raise MediaEngineError(f"{engine} unreachable: {type(exc).__name__}") from exc
