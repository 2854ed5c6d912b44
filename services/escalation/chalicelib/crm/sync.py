"""CRM jobs, retried with backoff inside one invocation and requeued when the CRM stays down.

The contract with the hand-off code:

- A CRM operation is a job (`OpenCaseJob`, `CloseCaseJob`, `EraseCustomerJob`) sent to the
  escalation queue with `MessageGroupId = crm_group(conversation)` — its own FIFO group, never the
  conversation's, so a CRM outage holds back CRM jobs only: the hand-off itself (state, agents'
  notifications, customer messages) proceeds without waiting for the CRM. Jobs of one
  conversation stay in order (open before close), and every job is idempotent (replay-safe).
- The handler calls `CrmSync.run(job)` and stores the returned `CrmLink` with the hand-off.
- Inside the call, `CrmUnavailable` is retried with exponential backoff and full jitter
  (`RetryPolicy`: a few attempts within a time budget well under the Lambda timeout; a
  `Retry-After` longer than `max_retry_after` is not waited for in process). Still failing, the
  retryable `CrmUnavailable` is raised: the batch handler leaves the job on the queue, SQS
  delivers it again after the visibility timeout, and after maxReceiveCount it is parked in the
  DLQ with the reason (`make redrive QUEUE=escalation` sends it back when the CRM is up).
- After a job spends its budget the CRM's breaker opens for `breaker_seconds`: the next jobs
  fail fast (retryable) instead of each spending its own budget, so a batch stays in time.
- `CrmRejected` and `SecretNotSet` (permanent) are raised at once and parked with the reason.
  `CrmCaseNotFound` (closing a case the CRM does not have yet) is retryable from the queue.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from parley.crm import (
    Crm,
    CrmCase,
    CrmCaseUpdate,
    CrmContact,
    CrmErasure,
    CrmLink,
    CrmUnavailable,
)

T = TypeVar("T")
CrmFor = Callable[[str | None], Crm]  # phone_number_id → that business's adapter


class _Job(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    conversation: str = Field(min_length=1, max_length=120)  # `<phone_number_id>:<wa_id>`
    phone_number_id: str = Field(pattern=r"^[0-9]{1,20}$")


class OpenCaseJob(_Job):
    """Upsert the customer's contact, then the hand-off's case linked to it."""

    kind: Literal["crm.open_case"] = "crm.open_case"
    contact: CrmContact
    case: CrmCase


class CloseCaseJob(_Job):
    """Close the hand-off's case with the outcome and the transcript summary."""

    kind: Literal["crm.close_case"] = "crm.close_case"
    update: CrmCaseUpdate


class EraseCustomerJob(_Job):
    """`customer.erased`: delete the customer's contact and cases."""

    kind: Literal["crm.erase_customer"] = "crm.erase_customer"
    wa_id: str = Field(pattern=r"^[0-9]{1,20}$")
    handoff_ids: tuple[str, ...] = ()


CrmJob = Annotated[OpenCaseJob | CloseCaseJob | EraseCustomerJob, Field(discriminator="kind")]
_JOB: TypeAdapter[OpenCaseJob | CloseCaseJob | EraseCustomerJob] = TypeAdapter(CrmJob)


def parse_job(data: Any) -> OpenCaseJob | CloseCaseJob | EraseCustomerJob:
    """A job from its JSON (dict or text); pydantic's ValidationError when malformed."""
    if isinstance(data, str | bytes):
        return _JOB.validate_json(data)
    return _JOB.validate_python(data)


def crm_group(conversation: str) -> str:
    """The FIFO message group of a conversation's CRM jobs (not the conversation's own)."""
    return f"crm:{conversation}"


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    backoff_base: float = 0.5  # seconds; the n-th wait is random in [0, base * 2^n]
    backoff_max: float = 4.0
    budget_seconds: float = 12.0  # per job, across its calls (the Lambda timeout is 30 s)
    max_retry_after: float = 5.0  # a longer Retry-After is left to the queue
    breaker_seconds: float = 30.0


class CrmSync:
    """Runs CRM jobs with retries, per-CRM breakers and the errors described above. Build one
    per container (`sleep` and `clock` are injectable for tests)."""

    def __init__(
        self,
        crm_for: CrmFor,
        policy: RetryPolicy | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        logger: Any = None,
    ) -> None:
        self._crm_for = crm_for
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._logger = logger
        self._open_until: dict[int, float] = {}
        self._lock = threading.Lock()

    def run(self, job: OpenCaseJob | CloseCaseJob | EraseCustomerJob) -> CrmLink | CrmErasure:
        if isinstance(job, OpenCaseJob):
            return self.open_case(job.contact, job.case)
        if isinstance(job, CloseCaseJob):
            return self.close_case(job.phone_number_id, job.update)
        return self.erase_customer(job.phone_number_id, job.wa_id, job.handoff_ids)

    def open_case(self, contact: CrmContact, case: CrmCase) -> CrmLink:
        crm = self._crm_for(contact.phone_number_id)
        deadline = self._clock() + self.policy.budget_seconds
        contact_id = self._call(
            crm, "upsert_contact", deadline, lambda: crm.upsert_contact(contact)
        )
        return self._call(crm, "upsert_case", deadline, lambda: crm.upsert_case(case, contact_id))

    def close_case(self, phone_number_id: str, update: CrmCaseUpdate) -> CrmLink:
        crm = self._crm_for(phone_number_id)
        deadline = self._clock() + self.policy.budget_seconds
        return self._call(crm, "update_case", deadline, lambda: crm.update_case(update))

    def erase_customer(
        self, phone_number_id: str, wa_id: str, handoff_ids: tuple[str, ...] = ()
    ) -> CrmErasure:
        crm = self._crm_for(phone_number_id)
        deadline = self._clock() + self.policy.budget_seconds
        return self._call(
            crm, "erase_customer", deadline, lambda: crm.erase_customer(wa_id, handoff_ids)
        )

    def _call(self, crm: Crm, operation: str, deadline: float, call: Callable[[], T]) -> T:
        from tenacity import Retrying, retry_if_exception_type

        self._check_breaker(crm, operation)
        retrying = Retrying(
            retry=retry_if_exception_type(CrmUnavailable),
            stop=self._stop(deadline),
            wait=self._wait,
            sleep=self._sleep,
            before_sleep=lambda state: self._log_retry(crm, operation, state),
            reraise=True,
        )
        try:
            result = retrying(call)
        except CrmUnavailable:
            self._trip(crm)
            raise
        with self._lock:
            self._open_until.pop(id(crm), None)
        return result

    def _check_breaker(self, crm: Crm, operation: str) -> None:
        with self._lock:
            until = self._open_until.get(id(crm), 0.0)
        left = until - self._clock()
        if left > 0:
            raise CrmUnavailable(
                f"{crm.provider} {operation}: not tried, the CRM failed moments ago",
                retry_after=left,
                detail={"circuit": "open"},
            )

    def _trip(self, crm: Crm) -> None:
        with self._lock:
            self._open_until[id(crm)] = self._clock() + self.policy.breaker_seconds

    def _wait(self, state: Any) -> float:
        from tenacity import wait_random_exponential

        base = wait_random_exponential(
            multiplier=self.policy.backoff_base, max=self.policy.backoff_max
        )(state)
        return max(base, _retry_after(state) or 0.0)

    def _stop(self, deadline: float) -> Callable[[Any], bool]:
        policy = self.policy

        def stop(state: Any) -> bool:
            if state.attempt_number >= policy.attempts:
                return True
            if (_retry_after(state) or 0.0) > policy.max_retry_after:
                return True
            return bool(self._clock() + (state.upcoming_sleep or 0.0) > deadline)

        return stop

    def _log_retry(self, crm: Crm, operation: str, state: Any) -> None:
        error = state.outcome.exception() if state.outcome else None
        self._log().warning(
            "CRM call failed, retrying",
            extra={
                "crm": crm.provider,
                "operation": operation,
                "attempt": state.attempt_number,
                "status": getattr(error, "status", None),
                "reason": str(error)[:300],
                "sleep_s": round(state.upcoming_sleep or 0.0, 3),
            },
        )

    def _log(self) -> Any:
        if self._logger is None:
            from parley.logs import get_logger

            self._logger = get_logger("escalation")
        return self._logger


def _retry_after(state: Any) -> float | None:
    error = state.outcome.exception() if state.outcome else None
    return getattr(error, "retry_after", None)
