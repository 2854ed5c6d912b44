"""What the context HTTP API accepts and answers (pydantic at the boundary).

Path and query values are checked here and refused with `InvalidInput` (400) naming the problem:
a conversation key is `<phone_number_id>:<wa_id>`, both digits; a wa_id is digits; `limit` is
1-100; `before` is a cursor this API handed out for the same conversation.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Literal
from urllib.parse import unquote

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib.models import Session, StoredMessage
from parley.errors import InvalidInput

_WA_ID = re.compile(r"\d{1,20}")
_CONVERSATION = re.compile(r"(\d{1,32}):(\d{1,20})")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def conversation_key(raw: str) -> str:
    """A valid conversation key from a path segment (API Gateway may leave `:` as `%3A`)."""
    key = unquote(raw)
    if not _CONVERSATION.fullmatch(key):
        raise InvalidInput(
            "conversation key must be '<phone_number_id>:<wa_id>', both digits",
            detail={"key": key[:80]},
        )
    return key


def wa_id(raw: str) -> str:
    value = unquote(raw)
    if not _WA_ID.fullmatch(value):
        raise InvalidInput("wa_id must be 1-20 digits", detail={"wa_id": value[:80]})
    return value


class PageParams(BaseModel):
    """Query parameters of `GET /conversations/{key}`; unknown parameters are refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    before: str | None = Field(default=None, min_length=1, max_length=2048)

    @classmethod
    def parse(cls, query: Mapping[str, str] | None) -> PageParams:
        try:
            return cls.model_validate(dict(query or {}))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'query'}: {err['msg']}"
                for err in exc.errors()
            )
            raise InvalidInput(f"invalid query parameters: {problems}") from exc


def encode_cursor(conversation: str, store_cursor: str) -> str:
    """An opaque cursor bound to its conversation (the store's own cursor inside)."""
    raw = json.dumps({"c": conversation, "k": store_cursor}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(conversation: str, cursor: str) -> str:
    """The store cursor inside `cursor`; InvalidInput when it is malformed or foreign."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("malformed 'before' cursor") from exc
    if not isinstance(data, dict) or not isinstance(data.get("k"), str) or not data["k"]:
        raise InvalidInput("malformed 'before' cursor")
    if data.get("c") != conversation:
        raise InvalidInput("'before' cursor belongs to another conversation")
    return str(data["k"])


class TranscriptPage(BaseModel):
    """One page of a conversation, newest first; `next_before` fetches the older page."""

    conversation: str
    messages: list[StoredMessage]
    next_before: str | None = None


class CustomerExport(BaseModel):
    """Everything context holds about one customer, across business numbers.

    The Redis cache holds only copies of these sessions and messages, so it adds nothing here.
    """

    wa_id: str
    exported_at: datetime
    conversations: list[str]
    sessions: list[Session]
    messages: list[StoredMessage]


class ErasureReport(BaseModel):
    """What `DELETE /customers/{wa_id}` removed, and the `customer.erased` event it published."""

    wa_id: str
    status: Literal["erased"] = "erased"
    conversations: list[str]
    messages_erased: int
    sessions_erased: int
    cache_keys_erased: int
    event_id: str
    event_conversation: str
