"""What the context service stores, and the interfaces of its stores.

`conversations` table: one item per message or reply, `pk = <conversation key>`,
`sk = m#<ISO time>#<message id>` (so history sorts by when it was said, whatever order events
arrive in), `gsi1pk = wa#<wa_id>` for export and erasure, TTL `expires_at`.
`sessions` table: one item per conversation, `pk = <conversation key>`, `sk = session`,
`gsi1pk = wa#<wa_id>`, `gsi2pk = open` + `gsi2sk = <last activity ISO>` while the session is open
(the sweeper's index). Redis keeps a write-through copy of active sessions and their last messages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from parley.payloads import MediaAnalysis, MessageKind, Role, Source

Mode = Literal["bot", "pending_human", "human"]


class StoredMessage(BaseModel):
    """One line of a conversation's history."""

    model_config = ConfigDict(frozen=True)

    conversation: str
    message_id: str
    role: Role
    kind: MessageKind | Literal["reply"] = "text"
    text: str | None = None
    at: datetime
    media: MediaAnalysis | None = None
    media_status: Literal["pending", "ok", "unavailable", "rejected"] | None = None
    delivery_status: str | None = None
    intent: str | None = None
    agent: str | None = None
    sources: list[Source] = Field(default_factory=list)
    turn_id: str | None = None


class TurnInFlight(BaseModel):
    turn_id: str
    message_ids: list[str]
    deadline: datetime
    attempt: int = 1


class Session(BaseModel):
    """The sequencer's state for one conversation."""

    conversation: str
    wa_id: str
    mode: Mode = "bot"
    unanswered: list[str] = Field(default_factory=list)  # customer message ids, in order
    pending_media: dict[str, datetime] = Field(default_factory=dict)  # message id -> received at
    turn: TurnInFlight | None = None
    summary: str | None = None
    summarized_until: str | None = None  # sort key of the last message the summary covers
    language: str | None = None
    profile_name: str | None = None
    last_inbound_at: datetime | None = None
    last_activity_at: datetime | None = None
    message_count: int = 0
    turn_count: int = 0
    low_confidence_streak: int = 0
    # The customer wrote over the inbound rate limit: no turn before this time (the sweep starts
    # it after), so what they sent is answered once, together.
    hold_until: datetime | None = None
    handoff_id: str | None = None
    closed: bool = False
    version: int = 0  # optimistic concurrency on the table


class HistoryStore(Protocol):
    def append(self, message: StoredMessage) -> bool:
        """Store a message once; False when it was already stored."""
        ...

    def update(
        self,
        conversation: str,
        message_id: str,
        *,
        sort_key: str | None = None,
        **fields: object,
    ) -> None: ...

    def recent(self, conversation: str, limit: int) -> list[StoredMessage]:
        """The last `limit` messages, oldest first."""
        ...

    def page(
        self, conversation: str, limit: int, before: str | None
    ) -> tuple[list[StoredMessage], str | None]:
        """A page of history, newest first, and the cursor for the next page."""
        ...

    def for_customer(self, wa_id: str) -> list[StoredMessage]: ...

    def erase_customer(self, wa_id: str) -> int: ...


class SessionStore(Protocol):
    def get(self, conversation: str) -> Session | None: ...

    def save(self, session: Session) -> None:
        """Write if nobody wrote since it was read (version check); raises Conflict otherwise."""
        ...

    def open_sessions(self, idle_before: datetime | None = None) -> list[Session]: ...

    def for_customer(self, wa_id: str) -> list[Session]: ...

    def erase_customer(self, wa_id: str) -> int: ...
