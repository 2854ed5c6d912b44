"""The agent API behind the console: the queue, one hand-off with its conversation, and what an
agent does (claim, reply, note, transfer, resolve). Bodies are pydantic models; errors are
`parley.errors` answered as JSON by app.py.

Who the agent is: in AWS the IAM caller (API Gateway's IAM authorizer); locally the `x-agent-id`
header next to the API key.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from chalicelib.context_client import ContextClient
from chalicelib.handoffs.desk import HandoffDesk
from chalicelib.handoffs.models import Handoff
from parley.errors import Conflict, InvalidInput, NotFound, Unauthorized
from parley.payloads import TemplateMessage

AGENT_HEADER = "x-agent-id"
AGENT_NAME_HEADER = "x-agent-name"
WINDOW_SECONDS = 24 * 3600
_AGENT_ID = re.compile(r"^[A-Za-z0-9._@+-]{1,64}$")
View = Literal["waiting", "mine", "all"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReplyBody(_Body):
    text: str | None = Field(default=None, min_length=1, max_length=4096)
    template: str | None = Field(default=None, min_length=1, max_length=512)
    template_language: str = "en_US"
    message_id: str | None = Field(default=None, min_length=8, max_length=64)

    @model_validator(mode="after")
    def _one_of(self) -> ReplyBody:
        if (self.text is None) == (self.template is None):
            raise ValueError("give either text or template")
        return self


class NoteBody(_Body):
    text: str = Field(min_length=1, max_length=4000)


class TransferBody(_Body):
    to_agent: str | None = Field(default=None, pattern=_AGENT_ID.pattern)
    to_team: str | None = Field(default=None, min_length=1, max_length=64)


class ResolveBody(_Body):
    outcome: str = Field(default="resolved", min_length=1, max_length=200)


def parse_body(model: type[BaseModel], body: Any) -> Any:
    try:
        return model.model_validate(body or {})
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in error.errors()
        )
        raise InvalidInput(f"invalid body: {problems}") from error


def agent_from(headers: Mapping[str, str], context: Mapping[str, Any] | None) -> tuple[str, str]:
    """(agent id, display name) of the caller."""
    identity = (context or {}).get("identity") or {}
    arn = identity.get("userArn")
    if arn:
        agent = str(arn).rsplit("/", 1)[-1]
        return agent, agent
    agent = headers.get(AGENT_HEADER) or ""
    if not _AGENT_ID.match(agent):
        raise Unauthorized(f"missing or invalid {AGENT_HEADER} header")
    return agent, (headers.get(AGENT_NAME_HEADER) or agent)[:64]


def waiting_seconds(handoff: Handoff, now: datetime) -> int:
    return int(handoff.waited_seconds(now))


def summary_of(handoff: Handoff, now: datetime) -> dict[str, Any]:
    """What the queue shows for one hand-off (before claiming: reason, signals, CRM)."""
    return {
        "handoff_id": handoff.handoff_id,
        "conversation": handoff.conversation,
        "customer": handoff.wa_id,
        "state": handoff.state,
        "reason": handoff.reason,
        "topic": handoff.topic,
        "priority": handoff.priority,
        "team": handoff.team,
        "language": handoff.language,
        "agent_id": handoff.agent_id,
        "requested_at": handoff.requested_at.isoformat(),
        "waiting_seconds": waiting_seconds(handoff, now),
        "sla_due_at": handoff.sla_due_at.isoformat(),
        "signals": [s.model_dump() for s in handoff.signals],
        "crm": handoff.crm.model_dump(mode="json") if handoff.crm else None,
    }


@dataclass
class AgentApi:
    desk: HandoffDesk
    context: ContextClient | None
    templates: list[TemplateMessage]
    clock: Callable[[], datetime]

    def queue(self, view: str | None, agent_id: str) -> dict[str, Any]:
        chosen = view or "waiting"
        if chosen not in ("waiting", "mine", "all"):
            raise InvalidInput("view must be waiting, mine or all")
        now = self.clock()
        open_ = self.desk.store.open_handoffs()
        if chosen == "waiting":
            listed = [h for h in open_ if h.is_waiting]
        elif chosen == "mine":
            listed = [h for h in open_ if h.state == "accepted" and h.agent_id == agent_id]
        else:
            listed = open_
        rank = {"urgent": 0, "high": 1, "normal": 2}
        listed.sort(key=lambda h: (rank[h.priority], h.requested_at))
        return {"view": chosen, "handoffs": [summary_of(h, now) for h in listed]}

    def detail(self, handoff_id: str) -> dict[str, Any]:
        handoff = self._get(handoff_id)
        now = self.clock()
        transcript: list[dict[str, Any]] = []
        session: dict[str, Any] | None = None
        if self.context is not None:
            transcript = self.context.transcript(handoff.conversation)
            session = self.context.session(handoff.conversation)
        window_open = _window_open(session, now)
        return {
            **summary_of(handoff, now),
            "agent_name": handoff.agent_name,
            "summary": handoff.summary,
            "outcome": handoff.outcome,
            "notes": [n.model_dump(mode="json") for n in handoff.notes],
            "history": [t.model_dump(mode="json") for t in handoff.history],
            "transcript": transcript,
            "window_open": window_open,
            "templates": [t.model_dump() for t in self.templates] if not window_open else [],
        }

    def claim(self, handoff_id: str, agent: tuple[str, str]) -> dict[str, Any]:
        handoff = self.desk.claim(handoff_id, agent[0], agent[1])
        return summary_of(handoff, self.clock())

    def reply(self, handoff_id: str, agent: tuple[str, str], body: Any) -> dict[str, Any]:
        reply: ReplyBody = parse_body(ReplyBody, body)
        handoff = self._get(handoff_id)
        session = self.context.session(handoff.conversation) if self.context else None
        template = None
        if reply.template is not None:
            template = self._template(reply.template, reply.template_language)
        elif not _window_open(session, self.clock()):
            raise Conflict(
                "outside WhatsApp's 24-hour window only an approved template can be sent"
            )
        message_id = reply.message_id or f"agent-{uuid.uuid4().hex}"
        self.desk.reply(handoff_id, agent[0], message_id, text=reply.text, template=template)
        return {"message_id": message_id, "status": "queued"}

    def note(self, handoff_id: str, agent: tuple[str, str], body: Any) -> dict[str, Any]:
        note: NoteBody = parse_body(NoteBody, body)
        handoff = self.desk.note(handoff_id, agent[0], note.text)
        return {"notes": [n.model_dump(mode="json") for n in handoff.notes]}

    def transfer(self, handoff_id: str, agent: tuple[str, str], body: Any) -> dict[str, Any]:
        move: TransferBody = parse_body(TransferBody, body)
        handoff = self.desk.transfer(
            handoff_id, agent[0], to_agent=move.to_agent, to_team=move.to_team
        )
        return summary_of(handoff, self.clock())

    def resolve(self, handoff_id: str, agent: tuple[str, str], body: Any) -> dict[str, Any]:
        done: ResolveBody = parse_body(ResolveBody, body)
        handoff = self.desk.resolve(handoff_id, agent[0], done.outcome)
        return summary_of(handoff, self.clock())

    def _template(self, name: str, language: str) -> TemplateMessage:
        for template in self.templates:
            if template.name == name:
                return template.model_copy(update={"language": language or template.language})
        raise InvalidInput(f"{name!r} is not an approved template")

    def _get(self, handoff_id: str) -> Handoff:
        handoff = self.desk.store.get(handoff_id)
        if handoff is None:
            raise NotFound(f"no hand-off {handoff_id}")
        return handoff


def _window_open(session: Mapping[str, Any] | None, now: datetime) -> bool:
    """Inside WhatsApp's 24-hour customer service window (the customer's last message)."""
    last = (session or {}).get("last_inbound_at")
    if not last:
        return False
    at = datetime.fromisoformat(str(last).replace("Z", "+00:00"))
    return (now - at).total_seconds() < WINDOW_SECONDS
