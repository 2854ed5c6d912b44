"""JSON logging (Powertools Logger) with PII redaction applied to every record.

Conversation keys contain the customer's phone number, so logs carry `conversation_ref`, a short
hash of the key, instead of the key itself.
"""

from __future__ import annotations

import hashlib
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
        "event_id",
        "event_type",
        "exception_name",
    }
)


def conversation_ref(conversation_key: str) -> str:
    """A stable, non-reversible reference to a conversation for logs and metrics."""
    return hashlib.sha256(conversation_key.encode()).hexdigest()[:16]


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
