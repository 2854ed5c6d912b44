"""PII redaction for logs and model requests: phone numbers, e-mails, card numbers, national ids."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_CARD_CANDIDATE = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
_SSN = re.compile(r"(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)")
_DNI = re.compile(r"(?<![A-Za-z0-9])\d{8}-?[A-HJ-NP-TV-Z](?![A-Za-z0-9])")
_NIE = re.compile(r"(?<![A-Za-z0-9])[XYZ]-?\d{7}-?[A-HJ-NP-TV-Z](?![A-Za-z0-9])")
_PHONE = re.compile(r"(?<![\w.])\+?\d[\d ().-]{7,16}\d(?![\w])")

_SENSITIVE_KEYS = frozenset(
    {"text", "body", "caption", "wa_id", "from", "to", "phone", "email", "profile_name", "name"}
)


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "[CARD]" if 13 <= len(digits) <= 19 and luhn_valid(digits) else match.group(0)


def redact_text(text: str) -> str:
    """Replace PII in free text with placeholders like `[EMAIL]`."""
    text = _EMAIL.sub("[EMAIL]", text)
    text = _CARD_CANDIDATE.sub(_card, text)
    text = _SSN.sub("[NATIONAL_ID]", text)
    text = _NIE.sub("[NATIONAL_ID]", text)
    text = _DNI.sub("[NATIONAL_ID]", text)
    return _PHONE.sub("[PHONE]", text)


def redact_value(value: Any, key: str | None = None) -> Any:
    """Redact a log field: sensitive keys are masked whole, strings elsewhere are scrubbed."""
    if key is not None and key.lower() in _SENSITIVE_KEYS and isinstance(value, str) and value:
        return "[REDACTED]"
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: redact_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value
