"""Event handlers of the context service, by event type.

This service consumes conversation events from the topic, applied in order per conversation.

An event type without a handler here is parked in the DLQ with the reason (never retried), so an
event this service cannot handle yet is visible and redrivable instead of lost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from parley.batch import EventHandler

HANDLERS: dict[str, EventHandler] = {}
