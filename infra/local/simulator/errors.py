"""Meta Graph API error bodies (reference §3) and the exception the routes raise."""

from __future__ import annotations

import secrets
from typing import Any

ERROR_DOCS = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"

# code -> (title, details, HTTP status of a synchronous error)
CATALOG: dict[int, tuple[str, str, int]] = {
    0: ("AuthException", "We were unable to authenticate the app user.", 401),
    1: ("API Unknown", "An unknown error occurred.", 500),
    2: ("API Service", "Service temporarily unavailable.", 503),
    4: ("API Too Many Calls", "The app has reached its API call rate limit.", 429),
    100: ("Invalid parameter", "Invalid parameter.", 400),
    190: ("Invalid OAuth access token - Cannot parse access token", "", 401),
    368: ("Temporarily blocked for policies violations", "Account temporarily blocked.", 400),
    80007: ("Rate limit issues", "The WhatsApp Business Account reached its rate limit.", 429),
    130429: (
        "Rate limit hit",
        "Message failed to send because there were too many messages sent from this phone "
        "number in a short period of time.",
        429,
    ),
    130472: ("User's number is part of an experiment", "Message not sent (experiment).", 400),
    131000: ("Something went wrong", "Message failed to send due to an unknown error.", 500),
    131008: ("Required parameter is missing", "A required parameter is missing.", 400),
    131009: ("Parameter value is not valid", "A parameter value is not valid.", 400),
    131016: ("Service unavailable", "A service is temporarily unavailable.", 503),
    131026: (
        "Message undeliverable",
        "Message failed to send because the recipient is not a WhatsApp user, uses an old "
        "WhatsApp version or has not accepted the latest terms.",
        400,
    ),
    131030: ("Recipient phone number not in allowed list", "Recipient not in allowed list.", 400),
    131031: ("Account has been locked", "The business account is locked.", 400),
    131047: (
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer "
        "last replied to this number.",
        400,
    ),
    131048: ("Spam rate limit hit", "Too many previous messages were blocked or flagged.", 400),
    131049: (
        "This message was not delivered to maintain healthy ecosystem engagement.",
        "Per-user marketing limit reached.",
        400,
    ),
    131051: ("Unsupported message type", "Message type is not currently supported.", 400),
    131052: ("Media download error", "Unable to download the media sent by the user.", 400),
    131053: ("Media upload error", "Unable to upload the media used in the message.", 400),
    131056: (
        "(Business Account, Consumer Account) pair rate limit hit",
        "Too many messages sent from this phone number to the same recipient in a short time.",
        429,
    ),
    131057: ("Account in maintenance mode", "Business account is in maintenance mode.", 503),
    132000: ("Number of parameters does not match the expected number of params", "", 400),
    132001: ("Template name does not exist in the translation", "Template does not exist.", 400),
}
MESSAGE_CODES_WITH_PREFIX = frozenset(CATALOG) - {190}


def fbtrace_id() -> str:
    return "A" + secrets.token_urlsafe(16)[:22]


def title_of(code: int) -> str:
    return CATALOG.get(code, (f"Error {code}", "", 400))[0]


def http_status_of(code: int) -> int:
    return CATALOG.get(code, ("", "", 400))[2]


def error_body(code: int, details: str | None = None) -> dict[str, Any]:
    """The synchronous error body Meta answers with."""
    title, default_details, _ = CATALOG.get(code, (f"Error {code}", "", 400))
    message = f"(#{code}) {title}" if code in MESSAGE_CODES_WITH_PREFIX else title
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
    if code != 190:
        error["error_data"] = {
            "messaging_product": "whatsapp",
            "details": details or default_details or title,
        }
    if http_status_of(code) >= 500 or code in (130429, 131056, 80007, 4):
        error["is_transient"] = True
    error["fbtrace_id"] = fbtrace_id()
    return {"error": error}


def async_error(code: int, details: str | None = None) -> dict[str, Any]:
    """An error object as found in `statuses[].errors` of a `failed` status webhook."""
    title, default_details, _ = CATALOG.get(code, (f"Error {code}", "", 400))
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details or default_details or title},
        "href": ERROR_DOCS,
    }


class GraphError(Exception):
    """Raised by validation and routes; rendered as Meta's error body."""

    def __init__(self, code: int, details: str | None = None, status: int | None = None) -> None:
        super().__init__(details or title_of(code))
        self.code = code
        self.details = details
        self.status = status if status is not None else http_status_of(code)

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.details)
