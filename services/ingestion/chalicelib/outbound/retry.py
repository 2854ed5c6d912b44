"""Retries of one send with exponential backoff and full jitter (tenacity), bounded twice: by the
number of attempts (settings.send_max_attempts) and by the job's deadline (the Lambda timeout).

Only errors the channel marked retryable are retried here (130429, 131000, 131016, HTTP 5xx,
a connection that could not be made, ...); a read timeout after the request went out is not (the
outbox, chalicelib/outbound/sender.py, decides). When the budget is spent the last error is raised
as is: it is retryable, so SQS redelivers the job later.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from parley.errors import DependencyError, Throttled

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    backoff_base: float = 0.25  # seconds; the n-th wait is random in [0, base * 2^n]
    backoff_max: float = 4.0


def worth_retrying(error: BaseException) -> bool:
    """A transient dependency failure; not pacing (the pacer already waited up to the deadline),
    and not an ambiguous one (the message may have gone out: the outbox reconciles it first)."""
    return (
        isinstance(error, DependencyError)
        and error.retryable
        and not isinstance(error, Throttled)
        and not getattr(error, "ambiguous", False)
    )


def call_with_retry(
    attempt: Callable[[], T],
    policy: RetryPolicy,
    *,
    deadline: float,
    logger: Any,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """`attempt()` until it succeeds, fails permanently, or the attempts or time run out."""
    from tenacity import (
        RetryCallState,
        Retrying,
        retry_if_exception,
        stop_after_attempt,
        stop_any,
        wait_random_exponential,
    )
    from tenacity.stop import stop_base

    class past_deadline(stop_base):
        def __call__(self, state: RetryCallState) -> bool:
            return time.monotonic() + (state.upcoming_sleep or 0.0) > deadline

    def log_retry(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        logger.warning(
            "send failed, retrying",
            extra={
                "attempt": state.attempt_number,
                "meta_code": getattr(error, "meta_code", None),
                "reason": str(error)[:300],
                "sleep_s": round(state.upcoming_sleep or 0.0, 3),
            },
        )

    retrying = Retrying(
        stop=stop_any(stop_after_attempt(max(1, policy.max_attempts)), past_deadline()),
        wait=wait_random_exponential(multiplier=policy.backoff_base, max=policy.backoff_max),
        retry=retry_if_exception(worth_retrying),
        before_sleep=log_retry,
        sleep=sleep,
        reraise=True,
    )
    return retrying(attempt)
