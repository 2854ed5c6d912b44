"""Identifiers that end up in a URL path: validated, and every path segment escaped.

An id taken from a webhook or an event is untrusted: `123/../456` as a phone_number_id must never
become `POST /456/messages`. Ids with a known shape are checked against it; anything else placed
in a path goes through `path_segment`, which escapes it and refuses dot segments.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from parley.errors import InvalidInput

_PHONE_NUMBER_ID = re.compile(r"[0-9]{1,20}")
_DOT_SEGMENTS = frozenset({".", ".."})


def is_phone_number_id(value: str) -> bool:
    """Meta's phone_number_id (and a WhatsApp id, wa_id): digits only."""
    return _PHONE_NUMBER_ID.fullmatch(value) is not None


def phone_number_id(value: str) -> str:
    """`value` when it is a Meta phone_number_id; InvalidInput otherwise."""
    if not is_phone_number_id(value):
        raise InvalidInput(f"phone_number_id must be digits only, got {value[:40]!r}")
    return value


def path_segment(value: str) -> str:
    """`value` escaped as one URL path segment (`/`, `?`, `#`, `%` included); empty and dot
    segments, which a server would resolve to another path, are refused."""
    if not value or value in _DOT_SEGMENTS:
        raise InvalidInput(f"{value!r} cannot be a URL path segment")
    return quote(value, safe="")


def url_path(*segments: str) -> str:
    """Segments joined into a relative path, each escaped by `path_segment`."""
    return "/".join(path_segment(segment) for segment in segments)
