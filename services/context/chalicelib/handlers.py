"""Event handlers of the context service, by event type.

This service consumes conversation events from the topic (context.fifo, one message group per
conversation, so each conversation's events are applied in order) and hands each to the
sequencer (chalicelib/sequencer.py), which writes history and session and emits turns.

An event type without a handler here is parked in the DLQ with the reason (never retried), so an
event this service cannot handle yet is visible and redrivable instead of lost. The handlers
import their code on first use: app.py imports this module at cold start.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from chalicelib.wiring import runtime

if TYPE_CHECKING:
    from parley.batch import EventHandler
    from parley.events import Event

APPLIED_TYPES = (
    "message.received",
    "media.processed",
    "turn.completed",
    "message.status",
    "handoff.requested",
    "handoff.accepted",
    "handoff.resolved",
    "agent.message",
)


def apply_event(event: Event) -> None:
    """Any conversation event: applied in order by the sequencer."""
    runtime.sequencer.apply(event)


def sweep_sessions(now: datetime | None = None) -> dict[str, int]:
    """The every-minute sweep (chalicelib/sweeper.py); what it did, by action."""
    from chalicelib.sweeper import sweep

    return sweep(now or datetime.now(UTC), runtime.sweeper).as_dict()


HANDLERS: dict[str, EventHandler] = dict.fromkeys(APPLIED_TYPES, apply_event)
