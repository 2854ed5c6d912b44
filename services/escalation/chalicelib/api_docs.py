"""What `GET /openapi.json` says of the escalation routes (parley.openapi builds the document)."""

from __future__ import annotations

from typing import Any

from chalicelib.agent_api import _AGENT_ID, NoteBody, ReplyBody, ResolveBody, TransferBody
from parley.openapi import RouteDoc

_AGENT = {"x-agent-id": {"type": "string", "pattern": _AGENT_ID.pattern}}
_HANDOFF = {"handoff_id": {"type": "string", "minLength": 1}}
_SUMMARY: dict[str, Any] = {
    "type": "object",
    "required": ["handoff_id", "conversation", "state", "priority", "waiting_seconds"],
    "properties": {
        "handoff_id": {"type": "string"},
        "conversation": {"type": "string"},
        "state": {"type": "string"},
        "priority": {"enum": ["normal", "high", "urgent"]},
        "waiting_seconds": {"type": "integer"},
    },
}


def _agent_route(summary: str, **fields: Any) -> RouteDoc:
    """A route of the agent API: the API key and the calling agent's id."""
    return RouteDoc(summary, auth=True, headers=_AGENT, **fields)


ROUTE_DOCS: dict[str, RouteDoc] = {
    "GET /console": RouteDoc(
        "The agents' web console (a page; it calls the agent API)",
        response={"type": "string"},
        response_type="text/html",
        answers_errors=False,
    ),
    "GET /agent/queue": _agent_route(
        "Open hand-offs: waiting (default), the caller's, or all",
        query={"view": {"enum": ["waiting", "mine", "all"]}},
        response={
            "type": "object",
            "required": ["view", "handoffs"],
            "properties": {"view": {"type": "string"}, "handoffs": {"type": "array"}},
        },
        errors=(400,),
    ),
    "GET /agent/handoffs/{handoff_id}": _agent_route(
        "One hand-off with its conversation", path=_HANDOFF, response=_SUMMARY, errors=(404,)
    ),
    "POST /agent/handoffs/{handoff_id}/claim": _agent_route(
        "Take the hand-off", path=_HANDOFF, response=_SUMMARY, errors=(404, 409)
    ),
    "POST /agent/handoffs/{handoff_id}/reply": _agent_route(
        "Send the customer a text (inside the 24-hour window) or an approved template",
        path=_HANDOFF,
        body=ReplyBody,
        status=202,
        response={
            "type": "object",
            "required": ["message_id", "status"],
            "properties": {"message_id": {"type": "string"}, "status": {"const": "queued"}},
        },
        errors=(400, 404, 409),
    ),
    "POST /agent/handoffs/{handoff_id}/notes": _agent_route(
        "Add an internal note",
        path=_HANDOFF,
        body=NoteBody,
        status=201,
        response={"type": "object", "required": ["notes"]},
        errors=(400, 404, 409),
    ),
    "POST /agent/handoffs/{handoff_id}/transfer": _agent_route(
        "Hand the conversation to another agent or team",
        path=_HANDOFF,
        body=TransferBody,
        response=_SUMMARY,
        errors=(400, 404, 409),
    ),
    "POST /agent/handoffs/{handoff_id}/resolve": _agent_route(
        "Close the hand-off; the bot answers again",
        path=_HANDOFF,
        body=ResolveBody,
        response=_SUMMARY,
        errors=(400, 404, 409),
    ),
    "GET /agent/emails": _agent_route(
        "Local stage only: the e-mails the emulator's SES accepted",
        response={
            "type": "object",
            "required": ["emails"],
            "properties": {"emails": {"type": "array"}},
        },
    ),
}
