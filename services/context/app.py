"""Parley context service: the sequencer and single writer of conversation history and sessions.

Wiring only; the logic is in chalicelib/ and the shared parley library. The HTTP API's modules
(pydantic models, stores) are imported on a route's first call, so importing app.py stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Chalice, Rate, Response
from chalice.app import CloudWatchEvent, Request, SQSEvent

from chalicelib import handlers
from chalicelib.wiring import runtime
from parley.http import add_health_routes, answers_errors, authenticate, route_authorizer
from parley.openapi import add_openapi_route
from parley.resources import configured_name

if TYPE_CHECKING:
    from chalicelib.api import ContextApi

app = Chalice(app_name="parley-context")
handles_errors = answers_errors("context")
add_health_routes(app, runtime, "context")
add_openapi_route(app, "context", "chalicelib.api_docs")
# IAM in AWS; locally (chalice local, tests) the x-api-key header instead, checked in _api().
AUTHORIZER = route_authorizer()


def _api() -> ContextApi:
    """The API for the current request, once its caller is authenticated."""
    from chalicelib import api

    authenticate(app, runtime)
    return api.build_api(runtime)


def _request() -> Request:
    request = app.current_request
    assert request is not None  # Chalice sets it for every route
    return request


@app.route("/conversations/{key}", methods=["GET"], authorizer=AUTHORIZER)
@handles_errors
def get_conversation(key: str) -> Response:
    return Response(body=_api().transcript(key, _request().query_params))


@app.route("/sessions/{key}", methods=["GET"], authorizer=AUTHORIZER)
@handles_errors
def get_session(key: str) -> Response:
    return Response(body=_api().session(key))


@app.route("/customers/{wa_id}/export", methods=["GET"], authorizer=AUTHORIZER)
@handles_errors
def export_customer(wa_id: str) -> Response:
    return Response(body=_api().export(wa_id))


@app.route("/customers/{wa_id}", methods=["DELETE"], authorizer=AUTHORIZER)
@handles_errors
def erase_customer(wa_id: str) -> Response:
    from chalicelib.api import requester

    report = _api().erase(wa_id, requester(_request().context))
    return Response(body=report, status_code=202)


@app.on_sqs_message(queue=configured_name("CONTEXT_QUEUE", "queue", "context"), batch_size=10)
def apply_context_events(event: SQSEvent) -> dict[str, object]:
    return runtime.consume(event.to_dict(), handlers.HANDLERS, event.context)


@app.schedule(Rate(1, unit=Rate.MINUTES), name="sweep_sessions")
def sweep_sessions(event: CloudWatchEvent) -> dict[str, int]:
    """Turns past their deadline re-requested or handed off; idle sessions closed."""
    return handlers.sweep_sessions()
