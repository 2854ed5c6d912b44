"""Meta's WhatsApp error codes and what a sender does about each (reference §3).

Three answers: RETRY (with backoff and jitter: throttling, transient failures), TEMPLATE (the 24 h
customer service window is closed: send an approved template instead) and PERMANENT (retrying the
same request cannot help: park it with the reason). Decisions use Meta's `code`, never message text.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from parley.errors import WhatsAppApiError


class MetaErrorAction(StrEnum):
    RETRY = "retry"
    TEMPLATE = "template"
    PERMANENT = "permanent"


REENGAGEMENT_REQUIRED = 131047  # more than 24 h since the customer last wrote

# Worth retrying as-is after a pause: throttling, "something went wrong", service unavailable,
# account maintenance / throughput upgrade, pair rate limit (after pacing).
RETRY_CODES: frozenset[int] = frozenset(
    {1, 2, 4, 80007, 130429, 131000, 131016, 131056, 131057, 133016}
)
TEMPLATE_CODES: frozenset[int] = frozenset({REENGAGEMENT_REQUIRED})
# Named here so the table reads as a whole; any code not in the two sets above is permanent unless
# the HTTP status says the failure was on Meta's side (5xx).
PERMANENT_CODES: frozenset[int] = frozenset(
    {0, 3, 10, 100, 190, 368, 130472, 131008, 131009, 131026, 131030, 131031}
    | {131048, 131049, 131051, 131052, 131053, 131064, 137000}
)
TEMPLATE_ERRORS = range(132000, 133000)  # 132xxx: template problems (name, params, paused, ...)


def action_for(meta_code: int | None, http_status: int | None = None) -> MetaErrorAction:
    """What to do about an error answered with `meta_code` (None: no Meta body) and HTTP status
    (None: no answer at all, i.e. a network error or timeout)."""
    if meta_code in TEMPLATE_CODES:
        return MetaErrorAction.TEMPLATE
    if meta_code in RETRY_CODES:
        return MetaErrorAction.RETRY
    if meta_code in PERMANENT_CODES or meta_code in TEMPLATE_ERRORS:
        return MetaErrorAction.PERMANENT
    if http_status is None or http_status >= 500 or http_status == 429:
        return MetaErrorAction.RETRY
    return MetaErrorAction.PERMANENT


def action_of(error: BaseException) -> MetaErrorAction:
    """The action for an error raised by any WhatsApp channel: 131047 means "send a template";
    otherwise the error's own `retryable` (set from this table by the channel) decides."""
    if not isinstance(error, WhatsAppApiError):
        return MetaErrorAction.PERMANENT
    if error.meta_code in TEMPLATE_CODES:
        return MetaErrorAction.TEMPLATE
    return MetaErrorAction.RETRY if error.retryable else MetaErrorAction.PERMANENT


def api_error(
    meta_code: int | None,
    *,
    http_status: int | None,
    message: str,
    details: str | None = None,
    extra: dict[str, Any] | None = None,
) -> WhatsAppApiError:
    """The WhatsAppApiError for one failed call, retryable as the table says. The message names the
    code and Meta's details, so a parked job shows why it failed."""
    action = action_for(meta_code, http_status)
    label = f"WhatsApp error {meta_code}" if meta_code is not None else "WhatsApp API failure"
    if http_status is not None:
        label += f" (HTTP {http_status})"
    text = f"{label}: {message}"
    if details and details not in message:
        text += f" - {details}"
    detail: dict[str, object] = {"meta_code": meta_code, "http_status": http_status}
    if details:
        detail["details"] = details
    detail["action"] = str(action)
    detail.update(extra or {})
    return WhatsAppApiError(
        text, meta_code=meta_code, retryable=action is MetaErrorAction.RETRY, detail=detail
    )


def from_graph_body(http_status: int, body: Any) -> WhatsAppApiError:
    """The error for a non-2xx Graph API answer (`{"error": {...}}`, or anything else)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return api_error(None, http_status=http_status, message="unexpected answer")
    code = error.get("code")
    data = error.get("error_data")
    details = data.get("details") if isinstance(data, dict) else None
    return api_error(
        code if isinstance(code, int) else None,
        http_status=http_status,
        message=str(error.get("message") or error.get("type") or "error"),
        details=str(details) if details else None,
        extra={"fbtrace_id": error["fbtrace_id"]} if error.get("fbtrace_id") else None,
    )
