"""Event handlers of the escalation service, by event type.

- `message.received`: does the customer need a person? (publishes `handoff.requested`)
- `handoff.requested`: open the hand-off (or join the open one): customer told, people
  notified, CRM case queued
- `session.closed`: an open hand-off ends with the session
- `customer.erased`: the customer's hand-offs, recent messages and CRM records go
- `crm.sync`: a CRM job (own FIFO group), its link stored with the hand-off

An event type without a handler here is parked in the DLQ with the reason (never retried). The
handlers import their code on first use: app.py imports this module at cold start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.wiring import runtime

if TYPE_CHECKING:
    from parley.batch import EventHandler
    from parley.events import Event


def detect(event: Event) -> None:
    from parley.events import MessageReceivedEvent

    if isinstance(event, MessageReceivedEvent):
        runtime.intake.on_message(event)


def open_handoff(event: Event) -> None:
    from parley.events import HandoffRequestedEvent

    if isinstance(event, HandoffRequestedEvent):
        runtime.desk.open(event)


def end_with_session(event: Event) -> None:
    runtime.desk.end_for_session(event.conversation, key=f"session:{event.event_id}")
    runtime.recent.forget(event.conversation)


def erase_customer(event: Event) -> None:
    from chalicelib.handoffs.crm_jobs import erase_job
    from parley.events import CustomerErasedEvent

    if not isinstance(event, CustomerErasedEvent):
        return
    wa_id = event.payload.wa_id
    handoff_ids = tuple(runtime.store.for_customer(wa_id))
    # The CRM job first: it names the hand-offs the erasure below deletes.
    runtime.crm_jobs.send(
        event.conversation, None, erase_job(event.conversation, wa_id, handoff_ids), "erase"
    )
    runtime.store.erase_customer(wa_id)
    runtime.recent.forget(event.conversation)


def sync_crm(event: Event) -> None:
    from chalicelib.crm import parse_job
    from parley.crm import CrmLink
    from parley.events import CrmSyncEvent

    if not isinstance(event, CrmSyncEvent):
        return
    result = runtime.crm_sync.run(parse_job(event.payload.job))
    if isinstance(result, CrmLink) and event.payload.handoff_id:
        _store_link(event.payload.handoff_id, result)


def _store_link(handoff_id: str, link: Any) -> None:
    from chalicelib.handoffs.models import CrmRef
    from parley.errors import Conflict

    for _ in range(3):  # an agent may be saving the same hand-off
        handoff = runtime.store.get(handoff_id)
        if handoff is None:
            return  # erased meanwhile
        handoff.crm = CrmRef(
            provider=link.provider,
            contact_id=link.contact_id,
            case_id=link.case_id,
            url=link.url,
            synced_at=runtime.clock(),
        )
        try:
            runtime.store.save(handoff)
            return
        except Conflict:
            continue
    raise Conflict(f"hand-off {handoff_id} kept changing while its CRM link was stored")


def watch_handoff_sla() -> dict[str, int]:
    """The SLA watchdog (every minute)."""
    report = runtime.desk.watch()
    return {
        "reminded": len(report.reminded),
        "supervisors": len(report.supervisors),
        "expired": len(report.expired),
    }


HANDLERS: dict[str, EventHandler] = {
    "message.received": detect,
    "handoff.requested": open_handoff,
    "session.closed": end_with_session,
    "customer.erased": erase_customer,
    "crm.sync": sync_crm,
}
