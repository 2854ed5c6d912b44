"""Event handlers of the ingestion service, by event type.

This service consumes Sender jobs (reply.requested) and customer.erased.

An event type without a handler here is parked in the DLQ with the reason (never retried), so an
event this service cannot handle yet is visible and redrivable instead of lost. The handlers import
their code on first use: app.py imports this module at cold start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.wiring import runtime

if TYPE_CHECKING:
    from parley.batch import EventHandler
    from parley.events import Event


def send_reply(event: Event) -> None:
    """reply.requested: the sender (chalicelib/outbound)."""
    from chalicelib.outbound import as_reply_event, build_sender

    build_sender(runtime).handle(as_reply_event(event))


def erase_customer(event: Event) -> None:
    """customer.erased: delete the customer's contact and outbound tracking items."""
    from chalicelib.store import WaMessagesStore
    from parley.events import CustomerErasedEvent

    if isinstance(event, CustomerErasedEvent):
        WaMessagesStore(runtime.settings.wa_messages_table).erase_customer(event.payload.wa_id)


HANDLERS: dict[str, EventHandler] = {
    "reply.requested": send_reply,
    "customer.erased": erase_customer,
}
