"""Event handlers of the media service, by event type.

This service consumes media jobs (message.received with media, sent by ingestion) and
customer.erased (its media objects are deleted).

An event type without a handler here is parked in the DLQ with the reason (never retried). The
handlers import their code on first use: app.py imports this module at cold start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.wiring import runtime

if TYPE_CHECKING:
    from parley.batch import EventHandler
    from parley.events import Event


def process_media(event: Event) -> None:
    from parley.events import MessageReceivedEvent

    if isinstance(event, MessageReceivedEvent):
        runtime.processor.handle(event)


def erase_customer(event: Event) -> None:
    from parley.events import CustomerErasedEvent

    if isinstance(event, CustomerErasedEvent):
        runtime.store.delete_customer(event.payload.wa_id)


HANDLERS: dict[str, EventHandler] = {
    "message.received": process_media,
    "customer.erased": erase_customer,
}
