"""The hand-off desk: what happens to a hand-off from the request to its end.

It opens a hand-off for each `handoff.requested` (one open per conversation: a later request
joins the open one, raising its priority), tells the customer what happens next in their
language, notifies people, queues the CRM sync, and carries out what agents do (claim, reply,
note, transfer, resolve) and what the SLA watchdog finds. Every change publishes the event the
context service needs (`handoff.accepted`, `handoff.resolved`, `agent.message`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from chalicelib.handoffs.models import Handoff, Note, SignalRecord, Transition, handoff_id_for
from chalicelib.notify import AgentNotifier
from parley.errors import Conflict, InvalidInput, NotFound
from parley.events import (
    AgentMessageEvent,
    Event,
    HandoffAcceptedEvent,
    HandoffRequestedEvent,
    HandoffResolvedEvent,
    ReplyRequestedEvent,
    split_conversation_key,
)
from parley.payloads import (
    AgentMessage,
    HandoffAccepted,
    HandoffResolved,
    ReplyRequested,
    TemplateMessage,
)

PRODUCER = "escalation"
DESK_NAMESPACE = uuid.UUID("0c6f2f7e-3a5b-4e8c-9d2a-7b1e5f3c9a40")
CrmAction = Literal["open", "resolve", "erase"]


def stable_id(*parts: str) -> str:
    return uuid.uuid5(DESK_NAMESPACE, ":".join(parts)).hex


class HandoffStore(Protocol):
    def create(self, handoff: Handoff) -> tuple[Handoff, bool]: ...
    def get(self, handoff_id: str) -> Handoff | None: ...
    def open_for(self, conversation: str) -> Handoff | None: ...
    def save(self, handoff: Handoff) -> None: ...
    def open_handoffs(self) -> list[Handoff]: ...
    def erase_customer(self, wa_id: str) -> int: ...


class EventPublisher(Protocol):
    def publish(self, event: Any) -> str: ...


class EventSender(Protocol):
    def send(self, event: Any) -> str: ...


class CrmJobs(Protocol):
    def enqueue(self, handoff: Handoff, action: CrmAction) -> None: ...


class DeskPolicy(Protocol):
    """What the desk needs from the business's escalation policy."""

    def team_for(self, reason: str, topic: str | None) -> str: ...
    def sla_seconds(self, priority: str) -> int: ...
    def max_wait_seconds(self, priority: str) -> int: ...
    def holding_text(self, language: str, priority: str, now: datetime) -> str: ...
    def crisis_text(self, language: str, wa_id: str) -> str: ...
    def expired_text(self, language: str) -> str: ...
    def resumed_text(self, language: str) -> str: ...


@dataclass(frozen=True)
class WatchReport:
    reminded: list[str] = field(default_factory=list)
    supervisors: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)


@dataclass
class HandoffDesk:
    store: HandoffStore
    events: EventPublisher
    outbound: EventSender
    notifier: AgentNotifier
    crm: CrmJobs
    policy: DeskPolicy
    clock: Callable[[], datetime]
    logger: Any
    last_messages: Callable[[str], Sequence[str]] = lambda conversation: ()

    # --- requests --------------------------------------------------------------------------

    def open(self, event: HandoffRequestedEvent) -> Handoff:
        """A `handoff.requested`: a new hand-off, or the conversation's open one joined."""
        p = event.payload
        now = self.clock()
        _, wa_id = split_conversation_key(event.conversation)
        priority = p.priority
        draft = Handoff(
            handoff_id=handoff_id_for(event.event_id),
            conversation=event.conversation,
            wa_id=wa_id,
            reason=p.reason,
            detail=p.detail,
            topic=p.topic,
            priority=priority,
            team=self.policy.team_for(p.reason, p.topic),
            language=(p.language or "en")[:2],
            signals=[
                SignalRecord(kind=s.kind, evidence=s.evidence, score=s.score) for s in p.signals
            ],
            summary=None if p.reason == "self_harm" else p.summary,
            quote_allowed=p.reason != "self_harm",
            survey_allowed=p.reason != "self_harm",
            requested_at=now,
            sla_due_at=now + timedelta(seconds=self.policy.sla_seconds(priority)),
            max_wait_at=now + timedelta(seconds=self.policy.max_wait_seconds(priority)),
        )
        draft.history.append(
            Transition(key=event.event_id, state="requested", at=now, by=event.producer)
        )
        handoff, created = self.store.create(draft)
        if created or (handoff.handoff_id == draft.handoff_id and handoff.state == "requested"):
            # New, or a retry of a request whose first attempt failed before people were
            # notified: finish starting it (the holding message keeps its id, so it goes once).
            self._started(handoff, event.event_id)
        else:
            self._joined(handoff, draft, event.event_id)
        return handoff

    def _started(self, handoff: Handoff, key: str) -> None:
        self._tell_customer_first(handoff, key)
        self.notifier.notify(handoff, self._quotes(handoff), "agents")
        handoff.notified_count += 1
        handoff.move("notified", key=f"{key}:notified", by="system", at=self.clock())
        self._save(handoff)
        self.crm.enqueue(handoff, "open")
        self.logger.info("hand-off opened", extra=self._log(handoff))

    def _joined(self, handoff: Handoff, draft: Handoff, key: str) -> None:
        """A second request while one is open: one hand-off, the higher priority, more signals;
        a self-harm request still gets its crisis reply at once."""
        if handoff.has_applied(f"{key}:joined") or handoff.handoff_id == draft.handoff_id:
            return
        before = handoff.priority
        handoff.raise_priority(draft.priority)
        handoff.signals.extend(draft.signals)
        if draft.reason == "self_harm":
            handoff.quote_allowed = handoff.survey_allowed = False
            handoff.summary = None
            self._reply(handoff, self.policy.crisis_text(handoff.language, handoff.wa_id), key)
        handoff.history.append(
            handoff.history[-1].model_copy(update={"key": f"{key}:joined", "note": draft.reason})
        )
        self._save(handoff)
        if handoff.priority != before:
            self.notifier.notify(handoff, self._quotes(handoff), "agents")

    def _tell_customer_first(self, handoff: Handoff, key: str) -> None:
        if handoff.reason == "self_harm":
            text = self.policy.crisis_text(handoff.language, handoff.wa_id)
        else:
            text = self.policy.holding_text(handoff.language, handoff.priority, self.clock())
        self._reply(handoff, text, key)

    # --- agents ----------------------------------------------------------------------------

    def claim(self, handoff_id: str, agent_id: str, agent_name: str | None = None) -> Handoff:
        """Exclusive: of two concurrent claims exactly one wins (Conflict for the other)."""
        handoff = self._get(handoff_id)
        if handoff.state == "accepted" and handoff.agent_id == agent_id:
            return handoff  # a repeated click
        if not handoff.is_waiting:
            who = f" by {handoff.agent_id}" if handoff.agent_id else ""
            raise Conflict(f"hand-off {handoff_id} is already {handoff.state}{who}")
        now = self.clock()
        handoff.move("accepted", key=f"claim:{agent_id}:{handoff.version}", by=agent_id, at=now)
        handoff.agent_id, handoff.agent_name, handoff.claimed_at = agent_id, agent_name, now
        try:
            self._save(handoff)
        except Conflict:  # another claim won the race: name the winner
            latest = self._get(handoff_id)
            if latest.state == "accepted" and latest.agent_id == agent_id:
                return latest
            who = f" by {latest.agent_id}" if latest.agent_id else ""
            raise Conflict(f"hand-off {handoff_id} is already {latest.state}{who}") from None
        self._publish(
            HandoffAcceptedEvent(
                event_id=stable_id("accepted", handoff_id, agent_id),
                conversation=handoff.conversation,
                producer=PRODUCER,
                payload=HandoffAccepted(
                    handoff_id=handoff_id, agent_id=agent_id, agent_name=agent_name
                ),
            )
        )
        return handoff

    def reply(
        self,
        handoff_id: str,
        agent_id: str,
        message_id: str,
        *,
        text: str | None = None,
        template: TemplateMessage | None = None,
    ) -> Handoff:
        """An agent's message to the customer; replying to an unclaimed hand-off claims it."""
        handoff = self._get(handoff_id)
        if handoff.is_waiting:
            handoff = self.claim(handoff_id, agent_id)
        self._require_agent(handoff, agent_id)
        if not text and template is None:
            raise InvalidInput("a reply needs text or a template")
        reply = ReplyRequested(
            request_id=message_id,
            to=handoff.wa_id,
            kind="template" if template is not None else "text",
            text=text,
            template=template,
            origin="agent",
        )
        self.outbound.send(self._reply_event(handoff, reply))
        self._publish(
            AgentMessageEvent(
                event_id=stable_id("agent.message", message_id),
                conversation=handoff.conversation,
                producer=PRODUCER,
                payload=AgentMessage(
                    handoff_id=handoff_id,
                    agent_id=agent_id,
                    message_id=message_id,
                    text=text or f"[template {template.name if template else ''}]",
                ),
            )
        )
        return handoff

    def note(self, handoff_id: str, agent_id: str, text: str) -> Handoff:
        """A private note for agents; never sent to the customer."""
        handoff = self._get(handoff_id)
        handoff.notes.append(
            Note(note_id=uuid.uuid4().hex, agent_id=agent_id, text=text, at=self.clock())
        )
        self._save(handoff)
        return handoff

    def transfer(
        self, handoff_id: str, agent_id: str, *, to_agent: str | None, to_team: str | None
    ) -> Handoff:
        """To another agent (stays accepted) or back to a team's queue (waiting again)."""
        handoff = self._get(handoff_id)
        self._require_agent(handoff, agent_id)
        now = self.clock()
        key = f"transfer:{handoff.version}"
        if to_agent:
            handoff.move("accepted", key=key, by=agent_id, at=now, note=f"to {to_agent}")
            handoff.agent_id, handoff.agent_name, handoff.claimed_at = to_agent, None, now
        elif to_team:
            handoff.state = "notified"  # back in the queue; only this path re-opens the wait
            handoff.history.append(
                handoff.history[-1].model_copy(
                    update={"key": key, "state": "notified", "at": now, "by": agent_id}
                )
            )
            handoff.team, handoff.agent_id, handoff.claimed_at = to_team, None, None
            handoff.sla_due_at = now + timedelta(seconds=self.policy.sla_seconds(handoff.priority))
            handoff.max_wait_at = now + timedelta(
                seconds=self.policy.max_wait_seconds(handoff.priority)
            )
            self.notifier.notify(handoff, self._quotes(handoff), "agents")
        else:
            raise InvalidInput("transfer needs to_agent or to_team")
        self._save(handoff)
        return handoff

    def resolve(self, handoff_id: str, agent_id: str, outcome: str) -> Handoff:
        """The agent is done: the conversation goes back to the bot."""
        handoff = self._get(handoff_id)
        if handoff.state == "resolved":
            return handoff
        self._require_agent(handoff, agent_id, allow_waiting=True)
        return self._end(handoff, "resolved", outcome, by=agent_id, tell=None)

    # --- the watchdog and the session ------------------------------------------------------

    def watch(self) -> WatchReport:
        """Unclaimed past the SLA: remind the team and tell the supervisors (once). Past the
        maximum wait: tell the customer honestly and give the conversation back to the bot."""
        report = WatchReport()
        now = self.clock()
        for listed in self.store.open_handoffs():
            if not listed.is_waiting:
                continue
            try:
                self._watch_one(listed.handoff_id, now, report)
            except Conflict:
                continue  # claimed or changed meanwhile: the next run sees it again
        return report

    def _watch_one(self, handoff_id: str, now: datetime, report: WatchReport) -> None:
        handoff = self.store.get(handoff_id)
        if handoff is None or not handoff.is_waiting:
            return
        if now >= handoff.max_wait_at:
            text = self.policy.expired_text(handoff.language)
            self._end(handoff, "expired", "nobody_claimed", by="watchdog", tell=text)
            report.expired.append(handoff_id)
        elif now >= handoff.sla_due_at and handoff.escalated_to_supervisors_at is None:
            quotes = self._quotes(handoff)
            self.notifier.notify(handoff, quotes, "agents")
            self.notifier.notify(handoff, quotes, "supervisors")
            handoff.notified_count += 1
            handoff.escalated_to_supervisors_at = now
            self._save(handoff)
            report.reminded.append(handoff_id)
            report.supervisors.append(handoff_id)

    def end_for_session(self, conversation: str, key: str) -> Handoff | None:
        """The session closed: an open hand-off ends with it (abandoned)."""
        handoff = self.store.open_for(conversation)
        if handoff is None:
            return None
        return self._end(handoff, "abandoned", "session_closed", by="system", tell=None, key=key)

    # --- helpers ---------------------------------------------------------------------------

    def _end(
        self,
        handoff: Handoff,
        state: Literal["resolved", "expired", "abandoned"],
        outcome: str,
        *,
        by: str,
        tell: str | None,
        key: str | None = None,
    ) -> Handoff:
        now = self.clock()
        if not handoff.move(state, key=key or f"{state}:{handoff.handoff_id}", by=by, at=now):
            return handoff
        handoff.outcome = outcome
        self._save(handoff)
        if tell:
            self._reply(handoff, tell, f"{state}:{handoff.handoff_id}")
        self._publish(
            HandoffResolvedEvent(
                event_id=stable_id("resolved", handoff.handoff_id),
                conversation=handoff.conversation,
                producer=PRODUCER,
                payload=HandoffResolved(
                    handoff_id=handoff.handoff_id,
                    resolution=outcome,
                    agent_id=handoff.agent_id,
                    outcome=state,
                    survey=handoff.survey_allowed and state == "resolved",
                ),
            )
        )
        self.crm.enqueue(handoff, "resolve")
        self.logger.info("hand-off ended", extra={**self._log(handoff), "outcome": outcome})
        return handoff

    def _get(self, handoff_id: str) -> Handoff:
        handoff = self.store.get(handoff_id)
        if handoff is None:
            raise NotFound(f"no hand-off {handoff_id}")
        return handoff

    def _require_agent(self, handoff: Handoff, agent_id: str, allow_waiting: bool = False) -> None:
        if handoff.is_waiting and allow_waiting:
            return
        if handoff.state != "accepted":
            raise Conflict(f"hand-off {handoff.handoff_id} is {handoff.state}")
        if handoff.agent_id != agent_id:
            raise Conflict(f"hand-off {handoff.handoff_id} belongs to {handoff.agent_id}")

    def _save(self, handoff: Handoff) -> None:
        self.store.save(handoff)

    def _quotes(self, handoff: Handoff) -> Sequence[str]:
        return self.last_messages(handoff.conversation) if handoff.quote_allowed else ()

    def _reply(self, handoff: Handoff, text: str, key: str) -> None:
        reply = ReplyRequested(
            request_id=stable_id("reply", handoff.handoff_id, key),
            to=handoff.wa_id,
            kind="text",
            text=text,
            origin="system",
        )
        self.outbound.send(self._reply_event(handoff, reply))

    @staticmethod
    def _reply_event(handoff: Handoff, reply: ReplyRequested) -> ReplyRequestedEvent:
        return ReplyRequestedEvent(
            event_id=reply.request_id,
            conversation=handoff.conversation,
            producer=PRODUCER,
            payload=reply,
        )

    def _publish(self, event: Event) -> None:
        self.events.publish(event)

    @staticmethod
    def _log(handoff: Handoff) -> dict[str, object]:
        from parley.logs import conversation_ref

        return {
            "handoff_id": handoff.handoff_id,
            "conversation_ref": conversation_ref(handoff.conversation),
            "reason": handoff.reason,
            "priority": handoff.priority,
            "team": handoff.team,
        }
