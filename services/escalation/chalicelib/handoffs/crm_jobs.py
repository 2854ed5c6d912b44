"""Hand-offs to CRM jobs: queued on the escalation queue under the conversation's CRM group
(`crm:<conversation>`), so a CRM that is down holds back only CRM work, never the hand-off."""

from __future__ import annotations

from typing import Any, Literal

from chalicelib.crm import CloseCaseJob, EraseCustomerJob, OpenCaseJob, crm_group
from chalicelib.handoffs.desk import stable_id
from chalicelib.handoffs.models import Handoff
from parley.crm import CrmCase, CrmCaseUpdate, CrmContact, Priority
from parley.events import CrmSyncEvent, split_conversation_key
from parley.payloads import CrmSync

PRODUCER = "escalation"
CRM_PRIORITY: dict[str, Priority] = {"normal": "medium", "high": "high", "urgent": "urgent"}
SELF_HARM_DESCRIPTION = "Sensitive conversation: details in the Parley console only."


def describe(handoff: Handoff) -> str:
    """The case description: reason, signals and summary; never the words of a self-harm
    conversation (the CRM is outside the console's access rules)."""
    if not handoff.quote_allowed:
        return SELF_HARM_DESCRIPTION
    lines = [f"Reason: {handoff.reason}" + (f" ({handoff.topic})" if handoff.topic else "")]
    lines += [
        f"Signal: {s.kind}" + (f" - {s.evidence}" if s.evidence else "") for s in handoff.signals
    ]
    if handoff.summary:
        lines.append(f"Summary: {handoff.summary}")
    return "\n".join(lines)


def open_job(handoff: Handoff) -> OpenCaseJob:
    phone_number_id, wa_id = split_conversation_key(handoff.conversation)
    return OpenCaseJob(
        conversation=handoff.conversation,
        phone_number_id=phone_number_id,
        contact=CrmContact(wa_id=wa_id, phone_number_id=phone_number_id, language=handoff.language),
        case=CrmCase(
            handoff_id=handoff.handoff_id,
            conversation=handoff.conversation,
            subject=f"WhatsApp: {handoff.reason.replace('_', ' ')}",
            description=describe(handoff),
            reason=handoff.reason,
            priority=CRM_PRIORITY[handoff.priority],
            opened_at=handoff.requested_at,
        ),
    )


def close_job(handoff: Handoff) -> CloseCaseJob:
    phone_number_id, _ = split_conversation_key(handoff.conversation)
    return CloseCaseJob(
        conversation=handoff.conversation,
        phone_number_id=phone_number_id,
        update=CrmCaseUpdate(
            handoff_id=handoff.handoff_id,
            status="resolved" if handoff.state == "resolved" else "expired",
            outcome=handoff.outcome or handoff.state,
            summary=(handoff.summary or "") if handoff.quote_allowed else "",
            closed_at=handoff.ended_at,
        ),
    )


def erase_job(conversation: str, wa_id: str, handoff_ids: tuple[str, ...]) -> EraseCustomerJob:
    phone_number_id, _ = split_conversation_key(conversation)
    if not phone_number_id.isdigit():
        phone_number_id = "0"
    return EraseCustomerJob(
        conversation=conversation,
        phone_number_id=phone_number_id,
        wa_id=wa_id,
        handoff_ids=handoff_ids,
    )


class CrmJobQueue:
    """`CrmJobs`: what the desk calls; the escalation consumer runs the jobs (`crm.sync`)."""

    def __init__(self, sender: Any, logger: Any) -> None:
        self._sender = sender
        self._logger = logger

    def enqueue(self, handoff: Handoff, action: Literal["open", "resolve", "erase"]) -> None:
        job = open_job(handoff) if action == "open" else close_job(handoff)
        self.send(handoff.conversation, handoff.handoff_id, job, action)

    def send(
        self,
        conversation: str,
        handoff_id: str | None,
        job: OpenCaseJob | CloseCaseJob | EraseCustomerJob,
        action: str,
    ) -> None:
        event = CrmSyncEvent(
            event_id=stable_id("crm", action, handoff_id or conversation),
            conversation=conversation,
            producer=PRODUCER,
            payload=CrmSync(handoff_id=handoff_id, job=job.model_dump(mode="json")),
        )
        self._sender.send(event, group=crm_group(conversation))
