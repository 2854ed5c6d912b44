"""Parley escalation service: hand-offs to people: signals, notifications, CRM, agents, SLA.

Wiring only; the logic is in chalicelib/ and the shared parley library. The agent API's modules
are imported on a route's first call, so importing app.py stays cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from chalice import Chalice, Rate, Response
from chalice.app import CloudWatchEvent, Request, SQSEvent

from chalicelib import handlers
from chalicelib.wiring import runtime
from parley.http import add_health_routes, answers_errors, authenticate, route_authorizer
from parley.openapi import add_openapi_route
from parley.resources import configured_name

if TYPE_CHECKING:
    from chalicelib.agent_api import AgentApi

app = Chalice(app_name="parley-escalation")
handles_errors = answers_errors("escalation")
add_health_routes(app, runtime, "escalation")
add_openapi_route(app, "escalation", "chalicelib.api_docs")
# IAM in AWS; locally (chalice local, tests, make run) the x-api-key header instead.
AUTHORIZER = route_authorizer()


def _request() -> Request:
    request = app.current_request
    assert request is not None  # Chalice sets it for every route
    return request


def _api() -> tuple[AgentApi, tuple[str, str]]:
    """The agent API and the calling agent, once the caller is authenticated."""
    from chalicelib.agent_api import agent_from

    authenticate(app, runtime)
    request = _request()
    return runtime.agent_api, agent_from(request.headers, request.context)


@app.route("/console", methods=["GET"])
def console() -> Response:
    """The agents' web console (it calls the routes below with the agent's credentials)."""
    from chalicelib.console import page

    return Response(body=page(), headers={"Content-Type": "text/html; charset=utf-8"})


@app.route("/agent/queue", methods=["GET"], authorizer=AUTHORIZER)
@handles_errors
def agent_queue() -> Response:
    api, agent = _api()
    params: Mapping[str, str] = _request().query_params or {}
    view = params.get("view")
    return Response(body=api.queue(view, agent[0]))


@app.route("/agent/handoffs/{handoff_id}", methods=["GET"], authorizer=AUTHORIZER)
@handles_errors
def agent_handoff(handoff_id: str) -> Response:
    api, _ = _api()
    return Response(body=api.detail(handoff_id))


@app.route("/agent/handoffs/{handoff_id}/claim", methods=["POST"], authorizer=AUTHORIZER)
@handles_errors
def agent_claim(handoff_id: str) -> Response:
    api, agent = _api()
    return Response(body=api.claim(handoff_id, agent))


@app.route("/agent/handoffs/{handoff_id}/reply", methods=["POST"], authorizer=AUTHORIZER)
@handles_errors
def agent_reply(handoff_id: str) -> Response:
    api, agent = _api()
    return Response(body=api.reply(handoff_id, agent, _request().json_body), status_code=202)


@app.route("/agent/handoffs/{handoff_id}/notes", methods=["POST"], authorizer=AUTHORIZER)
@handles_errors
def agent_note(handoff_id: str) -> Response:
    api, agent = _api()
    return Response(body=api.note(handoff_id, agent, _request().json_body), status_code=201)


@app.route("/agent/handoffs/{handoff_id}/transfer", methods=["POST"], authorizer=AUTHORIZER)
@handles_errors
def agent_transfer(handoff_id: str) -> Response:
    api, agent = _api()
    return Response(body=api.transfer(handoff_id, agent, _request().json_body))


@app.route("/agent/handoffs/{handoff_id}/resolve", methods=["POST"], authorizer=AUTHORIZER)
@handles_errors
def agent_resolve(handoff_id: str) -> Response:
    api, agent = _api()
    return Response(body=api.resolve(handoff_id, agent, _request().json_body))


@app.route("/agent/emails", methods=["GET"], authorizer=AUTHORIZER)
@handles_errors
def agent_emails() -> Response:
    """Local stage only: the e-mails the emulator's SES has accepted (AWS: the inboxes)."""
    from chalicelib.console import local_emails

    _api()
    return Response(body={"emails": local_emails()})


@app.on_sqs_message(queue=configured_name("ESCALATION_QUEUE", "queue", "escalation"), batch_size=10)
def handle_escalation_events(event: SQSEvent) -> dict[str, object]:
    return runtime.consume(event.to_dict(), handlers.HANDLERS, event.context)


@app.schedule(Rate(1, unit=Rate.MINUTES), name="watch_handoff_sla")
def watch_handoff_sla(event: CloudWatchEvent) -> dict[str, int]:
    """Unclaimed hand-offs: reminders, supervisors, and past the maximum wait back to the bot."""
    return handlers.watch_handoff_sla()
