"""The CRM role: what the escalation service records in a business's CRM, and how it can fail.

A hand-off opens (or finds) one contact for the customer and one case for the hand-off; resolving
the hand-off updates that case; erasing a customer deletes what the CRM lets us delete. Adapters
(Salesforce, HubSpot, a signed generic webhook) implement `Crm`; they key every record on an id
that Parley owns (the customer's WhatsApp id, the hand-off id), so replaying an operation any
number of times leaves one contact and one case.

Errors: `CrmUnavailable` (timeouts, connection failures, 5xx, 408, 429, a busy or rate-limited
CRM) is retryable and may carry `retry_after`; `CrmRejected` (a 4xx that retrying cannot fix:
validation, credentials, a missing field) is permanent; `CrmCaseNotFound` (an update for a case
the CRM does not have yet) is retryable later, from the queue. A credential that is not really
set raises `parley.errors.SecretNotSet` before anything is sent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Annotated, Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from parley.errors import DependencyError, PermanentDependencyError
from parley.redaction import redact_text

Provider = Literal["salesforce", "hubspot", "webhook", "none", "memory"]
Priority = Literal["low", "medium", "high", "urgent"]
CaseStatus = Literal["new", "working"]
ClosedStatus = Literal["resolved", "expired"]

# Limits of the strictest CRM (Salesforce: Subject 255, Description 32,000 characters). Longer
# text is cut rather than refused: a long transcript must not park a hand-off's case.
SUBJECT_MAX = 255
TEXT_MAX = 32_000
_DIGITS = r"^[0-9]{1,20}$"
# Ids Parley owns travel in CRM URL paths (`.../Case/Parley_Handoff_Id__c/<id>`): no `/`, `?`,
# `#`, `%` or spaces, whatever the caller passes.
_KEY = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,79}$"


def _clip(limit: int) -> BeforeValidator:
    def clip(value: Any) -> Any:
        return value[:limit] if isinstance(value, str) else value

    return BeforeValidator(clip)


def _scrub(value: Any) -> Any:
    return redact_text(value) if isinstance(value, str) else value


# Free text bound for the CRM loses personal data first (one way: `[PHONE]`, `[EMAIL]`, ...); the
# contact's own phone travels in its own field. (Before-validators run last-listed first.)
_REDACTED = BeforeValidator(_scrub)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CrmContact(_Model):
    """The customer, keyed by WhatsApp id. `phone` defaults to `+<wa_id>`."""

    wa_id: str = Field(pattern=_DIGITS)
    phone_number_id: str = Field(pattern=_DIGITS)  # the business number the customer wrote to
    name: Annotated[str | None, _clip(SUBJECT_MAX)] = None
    phone: str | None = Field(default=None, pattern=r"^\+[1-9][0-9]{6,14}$")  # E.164
    language: str | None = Field(default=None, pattern=r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")

    @model_validator(mode="after")
    def _default_phone(self) -> CrmContact:
        if self.phone is None and 7 <= len(self.wa_id) <= 15 and self.wa_id[0] != "0":
            object.__setattr__(self, "phone", f"+{self.wa_id}")
        return self


class CrmCase(_Model):
    """One hand-off as a CRM case, keyed by `handoff_id`. `description` (reason, summary, last
    messages) is redacted here, whatever the caller passes."""

    handoff_id: str = Field(pattern=_KEY)
    conversation: str = Field(min_length=1, max_length=200)  # conversation key or reference
    subject: Annotated[str, _clip(SUBJECT_MAX)] = Field(min_length=1)
    description: Annotated[str, _clip(TEXT_MAX), _REDACTED] = ""
    reason: str = Field(default="customer_request", max_length=80)
    priority: Priority = "medium"
    # Applied while the case is open; an upsert never reopens a closed case.
    status: CaseStatus = "new"
    origin: str = Field(default="WhatsApp", max_length=40)
    opened_at: datetime | None = None


class CrmCaseUpdate(_Model):
    """The end of a hand-off: the case is closed with the outcome and a transcript summary."""

    handoff_id: str = Field(pattern=_KEY)
    status: ClosedStatus = "resolved"
    outcome: str = Field(min_length=1, max_length=200)
    summary: Annotated[str, _clip(TEXT_MAX), _REDACTED] = ""
    closed_at: datetime | None = None

    def resolution_text(self) -> str:
        """Outcome and summary as one text, for the CRM field that holds the resolution."""
        text = f"Outcome: {self.outcome} ({self.status})"
        if self.summary:
            text += f"\n\n{self.summary}"
        return text[:TEXT_MAX]


class CrmLink(_Model):
    """Where the hand-off lives in the CRM; stored with the hand-off, shown in the console."""

    provider: Provider
    contact_id: str | None = None
    case_id: str | None = None
    url: str | None = None  # the case in the CRM's own console, when the adapter knows it
    created: bool | None = None  # the case was created (not found) by this call, when known


class CrmErasure(_Model):
    """What `erase_customer` deleted (ids in the CRM)."""

    provider: Provider
    contact_ids: tuple[str, ...] = ()
    case_ids: tuple[str, ...] = ()
    note: str | None = None  # what could not be deleted, and why


@runtime_checkable
class Crm(Protocol):
    """A business's CRM. Every method is idempotent; none retries (see the service's sync)."""

    provider: Provider

    def upsert_contact(self, contact: CrmContact) -> str:
        """Create or update the customer's contact; its id in the CRM."""
        ...

    def upsert_case(self, case: CrmCase, contact_id: str | None) -> CrmLink:
        """Create or update the hand-off's case, linked to the contact."""
        ...

    def update_case(self, update: CrmCaseUpdate) -> CrmLink:
        """Close the hand-off's case; `CrmCaseNotFound` when the CRM does not have it (yet)."""
        ...

    def erase_customer(self, wa_id: str, handoff_ids: tuple[str, ...] = ()) -> CrmErasure:
        """Delete the customer's contact and cases (those of `handoff_ids`, and those the CRM
        links to the contact); missing records are not an error."""
        ...


class CrmError(DependencyError):
    """A CRM failed; see the subclasses for retry or park."""

    code = "crm_error"


class CrmUnavailable(CrmError):
    """The CRM is down, slow, busy or rate-limited: retry (after `retry_after` seconds, when the
    CRM said so)."""

    code = "crm_unavailable"
    http_status = 503
    retryable = True

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        status: int | None = None,
        detail: dict[str, object] | None = None,
    ) -> None:
        super().__init__(message, detail={**(detail or {}), "status": status})
        self.retry_after = retry_after
        self.status = status


class CrmRejected(CrmError, PermanentDependencyError):
    """The CRM refused the request (validation, unknown field, credentials): retrying the same
    request cannot succeed; it is parked with this reason until someone fixes the cause."""

    code = "crm_rejected"
    retryable = False

    def __init__(
        self, message: str, *, status: int | None = None, detail: dict[str, object] | None = None
    ) -> None:
        super().__init__(message, detail={**(detail or {}), "status": status})
        self.status = status


class CrmCaseNotFound(CrmError):
    """The case to update is not in the CRM (its creation may still be queued or parked): retry
    later from the queue, after the job that opens it."""

    code = "crm_case_not_found"
    http_status = 409
    retryable = True


RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


def http_error(
    provider: str, operation: str, status: int, reason: str, retry_after: str | None = None
) -> CrmError:
    """The error for a CRM's HTTP answer `status` (not 2xx): unavailable or rejected."""
    message = f"{provider} {operation}: HTTP {status}: {reason[:300]}"
    if status in RETRYABLE_STATUSES or status >= 500:
        return CrmUnavailable(message, status=status, retry_after=parse_retry_after(retry_after))
    return CrmRejected(message, status=status)


def parse_retry_after(value: str | None) -> float | None:
    """`Retry-After` in seconds (delta-seconds form, or an HTTP date), or None."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    now = datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
