"""PII redaction. Two uses:

- one way, for logs and the CRM: `redact_text` puts `[PHONE]`, `[EMAIL]`, `[CARD]`, `[ID_DOC]` or
  `[IBAN]` where personal data was;
- both ways, for the model: a `PiiVault` (one per turn) puts numbered placeholders (`[PHONE_1]`)
  in what the model reads and puts the real values back where the model's tool calls use them.

What is personal data is `parley.pii`'s business; application ids, dates, times, amounts and years
pass intact.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from parley.pii import (
    DEFAULT_REGIONS,
    KINDS,
    Kind,
    Span,
    canonical,
    find,
    luhn_valid,
    regions_for,
)

__all__ = [
    "PiiVault",
    "luhn_valid",
    "redact_except",
    "redact_text",
    "redact_value",
    "regions_for",
]

PLACEHOLDER = re.compile(rf"\[(?:{'|'.join(KINDS)})_\d{{1,4}}\]")

_SENSITIVE_KEYS = frozenset(
    {"text", "body", "caption", "wa_id", "from", "to", "phone", "email", "profile_name", "name"}
)


def _replace(text: str, spans: Sequence[Span], label: Any) -> str:
    parts: list[str] = []
    at = 0
    for span in spans:
        parts += [text[at : span.start], label(span)]
        at = span.end
    return "".join(parts) + text[at:]


def redact_text(text: str, regions: Sequence[str] = DEFAULT_REGIONS) -> str:
    """Replace personal data in free text with its kind, like `[EMAIL]` (one way: logs, CRM)."""
    return _replace(text, find(text, regions), lambda span: f"[{span.kind}]")


def redact_except(
    text: str, allowed: Iterable[str], regions: Sequence[str] = DEFAULT_REGIONS
) -> str:
    """`redact_text`, leaving the values that also appear in the `allowed` texts (contacts the
    business publishes, what the customer wrote themselves)."""
    keep = {
        (s.kind, canonical(s.kind, s.value, regions)) for t in allowed for s in find(t, regions)
    }
    spans = [
        s for s in find(text, regions) if (s.kind, canonical(s.kind, s.value, regions)) not in keep
    ]
    return _replace(text, spans, lambda span: f"[{span.kind}]")


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


@dataclass
class _Entry:
    placeholder: str
    value: str
    personal: bool


class PiiVault:
    """The personal data of one turn, behind numbered placeholders.

    `redact` hides what it finds (one value, however spelled, keeps one placeholder); `restore`
    puts the values back. `personal=False` marks published data (the business's own documents):
    it is hidden from the model all the same, but does not make the turn personal.
    """

    def __init__(self, regions: Sequence[str] = DEFAULT_REGIONS) -> None:
        self.regions = tuple(regions)
        self._by_value: dict[tuple[Kind, str], _Entry] = {}
        self._by_placeholder: dict[str, _Entry] = {}
        self._counts: dict[Kind, int] = {}

    @classmethod
    def for_sender(cls, wa_id: str | None) -> PiiVault:
        """A vault that also reads numbers written without a country code as the sender's."""
        return cls(regions_for(wa_id))

    def redact(self, text: str | None, *, personal: bool = True) -> str:
        if not text:
            return ""
        return _replace(text, find(text, self.regions), lambda s: self._hold(s, personal))

    def redact_data(self, value: Any, *, personal: bool = True) -> Any:
        """`redact` over every string of JSON-like data (dicts, lists)."""
        if isinstance(value, str):
            return self.redact(value, personal=personal)
        if isinstance(value, Mapping):
            return {k: self.redact_data(v, personal=personal) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.redact_data(v, personal=personal) for v in value]
        return value

    def restore(self, text: str) -> str:
        """The text with every placeholder of this vault replaced by its value."""

        def value(match: re.Match[str]) -> str:
            entry = self._by_placeholder.get(match.group(0))
            return entry.value if entry else match.group(0)

        return PLACEHOLDER.sub(value, text)

    def restore_data(self, value: Any) -> Any:
        """`restore` over every string of JSON-like data."""
        if isinstance(value, str):
            return self.restore(value)
        if isinstance(value, Mapping):
            return {k: self.restore_data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.restore_data(v) for v in value]
        return value

    @property
    def personal(self) -> bool:
        """Whether the vault holds any of the customer's own data."""
        return any(entry.personal for entry in self._by_value.values())

    def personal_values(self) -> list[str]:
        return [entry.value for entry in self._by_value.values() if entry.personal]

    def _hold(self, span: Span, personal: bool) -> str:
        key = (span.kind, canonical(span.kind, span.value, self.regions))
        entry = self._by_value.get(key)
        if entry is None:
            self._counts[span.kind] = self._counts.get(span.kind, 0) + 1
            placeholder = f"[{span.kind}_{self._counts[span.kind]}]"
            entry = _Entry(placeholder, span.value, personal)
            self._by_value[key] = entry
            self._by_placeholder[placeholder] = entry
        entry.personal = entry.personal or personal
        return entry.placeholder

    def __len__(self) -> int:
        return len(self._by_value)
