"""Fake CRMs for the escalation service: Salesforce REST (the calls simple-salesforce makes),
HubSpot CRM v3/v4, and the receiver of Parley's signed CRM webhook at `/_crm/cases`.

Controls: `GET /_crm/state` (every record, request counts; for tests and the console),
`POST /_crm/faults` (`{"target", "status", "fail_next", "down", "retry_after"}`: answer the next
N calls, or every call while down, with an error), `DELETE /_crm/faults`, `POST /_crm/reset`,
`GET /_crm/cases/<id>` (a webhook case).

simple-salesforce always speaks HTTPS to the instance, so its tests serve this app over TLS.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, jsonify, request
from pydantic import ValidationError

from . import hubspot, salesforce, webhook
from .store import CrmFault, CrmSimConfig, CrmSimState, state

__all__ = ["CrmFault", "CrmSimConfig", "CrmSimState", "register"]

bp = Blueprint("crm_control", __name__)


def register(app: Flask, config: CrmSimConfig | None = None) -> None:
    """Serve the fake CRMs and their controls from `app`."""
    app.extensions["sim_crm"] = CrmSimState(config or CrmSimConfig())
    for module in (salesforce, hubspot, webhook):
        app.register_blueprint(module.bp)
    app.register_blueprint(bp)


@bp.get("/_crm/state")
def crm_state() -> Response:
    return jsonify(state().snapshot())


@bp.post("/_crm/faults")
def add_fault() -> tuple[Response, int]:
    try:
        fault = CrmFault.model_validate(request.get_json(silent=True) or {})
    except ValidationError as exc:
        return jsonify(error="invalid fault", details=exc.errors(include_url=False)), 400
    with state().lock:
        state().faults.append(fault)
    return jsonify(fault.model_dump()), 201


@bp.delete("/_crm/faults")
def clear_faults() -> Response:
    with state().lock:
        state().faults.clear()
    return jsonify(ok=True)


@bp.post("/_crm/reset")
def reset() -> Response:
    state().reset()
    return jsonify(ok=True)


@bp.get("/_crm/cases/<case_id>")
def webhook_case(case_id: str) -> tuple[Response, int]:
    with state().lock:
        found = [c for c in state().webhook_cases.values() if c["id"] == case_id]
    if not found:
        return jsonify(error="case not found"), 404
    return jsonify(found[0]), 200
