"""Event handlers of the ingestion service, by event type.

This service consumes Sender jobs (reply.requested), the hand-off events that pause and resume
the bot's replies, and customer.erased.

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


def begin_outbound_batch(context: object) -> None:
    """A batch of sender jobs starts: its jobs share the invocation's remaining time."""
    from chalicelib.outbound import build_sender

    remaining = getattr(context, "get_remaining_time_in_millis", None)
    build_sender(runtime).begin_invocation(remaining() / 1000 if callable(remaining) else None)


def erase_customer(event: Event) -> None:
    """customer.erased: delete the customer's contact and outbound tracking items."""
    from chalicelib.store import WaMessagesStore
    from parley.events import CustomerErasedEvent

    if isinstance(event, CustomerErasedEvent):
        WaMessagesStore(runtime.settings.wa_messages_table).erase_customer(event.payload.wa_id)


def pause_bot(event: Event) -> None:
    """handoff.requested / handoff.accepted: the bot's replies stop (checked at send time)."""
    _set_bot_paused(event, paused=True)


def resume_bot(event: Event) -> None:
    """handoff.resolved: the bot answers again."""
    _set_bot_paused(event, paused=False)


def _set_bot_paused(event: Event, *, paused: bool) -> None:
    from chalicelib.store import WaMessagesStore
    from parley.events import split_conversation_key

    phone_number_id, wa_id = split_conversation_key(event.conversation)
    store = WaMessagesStore(runtime.settings.wa_messages_table)
    store.set_bot_paused(phone_number_id, wa_id, paused, event.occurred_at.timestamp())


HANDLERS: dict[str, EventHandler] = {
    "reply.requested": send_reply,
    "handoff.requested": pause_bot,
    "handoff.accepted": pause_bot,
    "handoff.resolved": resume_bot,
    "customer.erased": erase_customer,
}
