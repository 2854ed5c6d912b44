"""JSON logging (Powertools Logger) with PII redaction applied to every record.

Conversation keys contain the customer's phone number, so logs carry `conversation_ref`, a short
keyed hash (HMAC-SHA256) of the key, instead of the key itself; message ids (wamids encode the
phone number too) are logged as `message_ref`. The key is the deployment's log salt, a generated
secret (`LOG_SALT_SECRET_ID`, read once per container): without it a phone number could be found
again by hashing every number. With no salt configured (unit tests) a random one per process is
used: references then stay irreversible but are comparable within the process only.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from functools import cache
from typing import TYPE_CHECKING, Any

from parley.redaction import redact_value

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

_STRUCTURAL_KEYS = frozenset(
    {
        "level",
        "location",
        "timestamp",
        "service",
        "sampling_rate",
        "xray_trace_id",
        "cold_start",
        "function_name",
        "function_memory_size",
        "function_arn",
        "function_request_id",
        "conversation_ref",
        "message_ref",
        "event_id",
        "event_type",
        "exception_name",
    }
)


_SALT_LOCK = threading.Lock()
_SALT: list[bytes] = []


def log_salt() -> bytes:
    """The deployment's log salt (cached for the container's life)."""
    if _SALT:
        return _SALT[0]
    with _SALT_LOCK:
        if not _SALT:
            _SALT.append(_read_salt())
        return _SALT[0]


def _read_salt() -> bytes:
    secret_id = os.environ.get("LOG_SALT_SECRET_ID")
    if not secret_id:
        return secrets.token_bytes(32)
    from parley.secrets import secret_json

    try:
        return str(secret_json(secret_id)["salt"]).encode()
    except Exception:  # never break logging: irreversible refs, comparable in this container only
        return secrets.token_bytes(32)


def reset_log_salt() -> None:
    """Read the salt again on next use (tests switch deployments)."""
    with _SALT_LOCK:
        _SALT.clear()


def conversation_ref(conversation_key: str) -> str:
    """A stable, non-reversible reference to a conversation for logs, metrics and cache keys."""
    return _keyed(b"conversation:", conversation_key)


def message_ref(message_id: str) -> str:
    """A non-reversible reference to a WhatsApp message id (a wamid encodes the phone number)."""
    return _keyed(b"message:", message_id)


def _keyed(kind: bytes, value: str) -> str:
    return hmac.new(log_salt(), kind + value.encode(), hashlib.sha256).hexdigest()[:16]


def redact_record(record: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value if key in _STRUCTURAL_KEYS else redact_value(value, key)
        for key, value in record.items()
    }


@cache
def get_logger(service: str) -> Logger:
    """The service's logger; built on first use so importing app.py stays cheap."""
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

    class RedactingFormatter(LambdaPowertoolsFormatter):
        def serialize(self, log: Any) -> str:
            return super().serialize(redact_record(log))

    return Logger(service=service, logger_formatter=RedactingFormatter())
