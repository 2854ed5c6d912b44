"""The hand-off record and its state machine.

`requested -> notified -> accepted -> resolved`, and from any open state `expired` (nobody
claimed it within the maximum wait) or `abandoned` (the session closed, the customer was erased).
`accepted -> accepted` is a transfer to another agent. One open hand-off per conversation; every
transition is recorded with who and when, and applying the same transition twice (same `key`)
changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from parley.errors import Conflict

State = Literal["requested", "notified", "accepted", "resolved", "expired", "abandoned"]
Priority = Literal["normal", "high", "urgent"]

OPEN_STATES: frozenset[str] = frozenset({"requested", "notified", "accepted"})
WAITING_STATES: frozenset[str] = frozenset({"requested", "notified"})
TRANSITIONS: dict[str, frozenset[str]] = {
    "requested": frozenset({"notified", "accepted", "resolved", "expired", "abandoned"}),
    "notified": frozenset({"notified", "accepted", "resolved", "expired", "abandoned"}),
    "accepted": frozenset({"accepted", "resolved", "abandoned"}),
    "resolved": frozenset(),
    "expired": frozenset(),
    "abandoned": frozenset(),
}
PRIORITY_RANK: dict[str, int] = {"normal": 0, "high": 1, "urgent": 2}
HANDOFF_NAMESPACE = uuid.UUID("8b4f3d52-1f0e-4a57-9c1e-6d2f5a7b9e01")


def handoff_id_for(event_id: str) -> str:
    """The same requesting event always names the same hand-off (replays create nothing new)."""
    return "ho_" + uuid.uuid5(HANDOFF_NAMESPACE, event_id).hex[:20]


def utcnow() -> datetime:
    return datetime.now(UTC)


class Transition(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str  # what caused it (event id, request id): the same key twice is one transition
    state: State
    at: datetime
    by: str  # "system", "watchdog", an agent id
    note: str | None = None


class SignalRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str
    evidence: str | None = None
    score: float | None = None


class Note(BaseModel):
    """A private note: seen by agents only, never sent to the customer."""

    model_config = ConfigDict(frozen=True)

    note_id: str
    agent_id: str
    text: str
    at: datetime


class CrmRef(BaseModel):
    provider: str
    contact_id: str | None = None
    case_id: str | None = None
    url: str | None = None
    synced_at: datetime | None = None
    error: str | None = None


class Handoff(BaseModel):
    """One hand-off of a conversation to people, from the request to its end."""

    handoff_id: str
    conversation: str
    wa_id: str
    state: State = "requested"
    reason: str
    detail: str | None = None
    topic: str | None = None
    priority: Priority = "normal"
    team: str = "default"  # the policy's team for the hand-off; "default" reaches its default list
    language: str = "en"
    signals: list[SignalRecord] = Field(default_factory=list)
    summary: str | None = None
    quote_allowed: bool = True  # False for self-harm: notifications never quote the customer
    survey_allowed: bool = True
    requested_at: datetime
    sla_due_at: datetime
    max_wait_at: datetime
    escalated_to_supervisors_at: datetime | None = None
    notified_count: int = 0
    agent_id: str | None = None
    agent_name: str | None = None
    claimed_at: datetime | None = None
    ended_at: datetime | None = None
    outcome: str | None = None
    notes: list[Note] = Field(default_factory=list)
    crm: CrmRef | None = None
    history: list[Transition] = Field(default_factory=list)
    version: int = 0

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def is_waiting(self) -> bool:
        return self.state in WAITING_STATES

    def has_applied(self, key: str) -> bool:
        return any(t.key == key for t in self.history)

    def move(
        self, state: State, *, key: str, by: str, at: datetime, note: str | None = None
    ) -> bool:
        """Apply a transition; False when `key` was applied already (a replay), Conflict when
        the state machine does not allow it."""
        if self.has_applied(key):
            return False
        if state not in TRANSITIONS[self.state]:
            raise Conflict(f"hand-off {self.handoff_id} is {self.state}, it cannot become {state}")
        self.state = state
        self.history.append(Transition(key=key, state=state, at=at, by=by, note=note))
        if state not in OPEN_STATES:
            self.ended_at = at
        return True

    def raise_priority(self, priority: Priority) -> None:
        if PRIORITY_RANK[priority] > PRIORITY_RANK[self.priority]:
            self.priority = priority

    def waited_seconds(self, now: datetime) -> float:
        end = self.claimed_at or self.ended_at or now
        return max(0.0, (end - self.requested_at).total_seconds())
