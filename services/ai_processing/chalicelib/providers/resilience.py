"""`ResilientChatModel`: retries within a time budget behind a circuit breaker.

Retryable model errors (throttling, timeouts, 5xx, a malformed tool call) are retried with
exponential backoff and full jitter (tenacity) while the budget lasts; a permanent error is raised
at once. The breaker opens after N consecutive failures of the model service and fails fast for M
seconds, then lets one probe through (half-open): its success closes it, its failure re-opens it.
The breaker lives in process memory, one per container (per `build_chat_model` call): containers
learn of an outage independently, which is enough to stop a container piling calls on a failing
model. When the breaker is open or the budget is spent the caller gets `ModelUnavailable`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Literal

from tenacity import RetryCallState, Retrying, retry_if_exception, wait_exponential_jitter

from chalicelib.providers.exceptions import MalformedToolCall, ModelUnavailable
from parley.chat import ChatModel, ChatRequest, ChatResponse
from parley.errors import is_retryable

Clock = Callable[[], float]
State = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """Consecutive-failure breaker; thread-safe (a container may serve turns from threads)."""

    def __init__(
        self, failures: int = 5, reset_seconds: float = 30.0, *, clock: Clock = time.monotonic
    ) -> None:
        self._threshold = failures
        self._reset = reset_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> State:
        with self._lock:
            return self._state()

    def _state(self) -> State:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self._reset:
            return "half_open"
        return "open"

    def allow(self) -> bool:
        """May a call go through now? In half-open state only one probe at a time."""
        with self._lock:
            state = self._state()
            if state == "closed":
                return True
            if state == "half_open" and not self._probing:
                self._probing = True
                return True
            return False

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._probing = False

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._probing or self._failures >= self._threshold:
                self._opened_at = self._clock()
            self._probing = False


class ResilientChatModel:
    """Wraps any `ChatModel`; `sleep` and `clock` are injectable for tests."""

    def __init__(
        self,
        inner: ChatModel,
        retry_budget_seconds: float,
        breaker: CircuitBreaker,
        *,
        initial_backoff: float = 0.25,
        max_backoff: float = 4.0,
        max_attempts: int = 6,
        sleep: Callable[[float], None] = time.sleep,
        clock: Clock = time.monotonic,
    ) -> None:
        self.inner = inner
        self.breaker = breaker
        self._budget = retry_budget_seconds
        self._wait = wait_exponential_jitter(
            multiplier=initial_backoff, max=max_backoff, jitter=0.5
        )
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._clock = clock

    def complete(self, request: ChatRequest) -> ChatResponse:
        retrying = Retrying(
            retry=retry_if_exception(_worth_retrying),
            stop=self._stop(self._clock()),
            wait=self._wait,
            sleep=self._sleep,
            reraise=True,
        )
        attempts = 0
        try:
            for attempt in retrying:
                with attempt:
                    attempts += 1
                    return self._attempt(request)
        except ModelUnavailable:
            raise
        except Exception as exc:
            if not is_retryable(exc):
                raise
            code = getattr(exc, "code", type(exc).__name__)
            raise ModelUnavailable(
                f"the model did not answer within {self._budget:g} s ({attempts} attempts)",
                detail={"attempts": attempts, "last_error": code},
            ) from exc
        raise AssertionError("unreachable")  # pragma: no cover - Retrying returns or raises

    def _stop(self, started: float) -> Callable[[RetryCallState], bool]:
        def stop(state: RetryCallState) -> bool:
            # Stop when the next wait would end past the budget (an attempt's own timeout may
            # still overrun it by one call) or after max_attempts.
            elapsed = self._clock() - started
            over = elapsed + (state.upcoming_sleep or 0.0) > self._budget
            return over or state.attempt_number >= self._max_attempts

        return stop

    def _attempt(self, request: ChatRequest) -> ChatResponse:
        if not self.breaker.allow():
            raise ModelUnavailable(
                "the model's circuit breaker is open", detail={"circuit": "open"}
            )
        try:
            response = self.inner.complete(request)
        except MalformedToolCall:
            self.breaker.record_success()  # the model answered: its service is up
            raise
        except Exception as exc:
            if is_retryable(exc):
                self.breaker.record_failure()
            else:
                self.breaker.record_success()  # a rejected request says nothing of the service
            raise
        self.breaker.record_success()
        return response


def _worth_retrying(error: BaseException) -> bool:
    return is_retryable(error) and not isinstance(error, ModelUnavailable)
