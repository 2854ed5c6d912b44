"""Test/operator controls: recorded requests, webhook deliveries, reset and fault injection."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import ValidationError

from .statuses import Scheduler
from .store import FaultSpec, State

bp = Blueprint("control", __name__)


def _state() -> State:
    state: State = current_app.extensions["sim_state"]
    return state


@bp.get("/_sim/requests")
def list_requests() -> Response:
    found = _state().find_requests(request.args.get("to"), request.args.get("kind"))
    return jsonify(requests=found, count=len(found))


@bp.get("/_sim/webhooks")
def list_webhooks() -> Response:
    with _state().lock:
        found = list(_state().webhooks)
    label = request.args.get("label")
    if label:
        found = [w for w in found if str(w["label"]).startswith(label)]
    return jsonify(webhooks=found, count=len(found))


@bp.post("/_sim/reset")
def reset() -> Response:
    scheduler: Scheduler = current_app.extensions["sim_scheduler"]
    scheduler.clear()
    _state().reset()
    return jsonify(ok=True)


@bp.get("/_sim/faults")
def list_faults() -> Response:
    return jsonify(faults=_state().list_faults())


@bp.post("/_sim/faults")
def add_fault() -> tuple[Response, int]:
    try:
        spec = FaultSpec.model_validate(request.get_json(silent=True) or {})
    except ValidationError as exc:
        return jsonify(error="invalid fault", details=exc.errors(include_url=False)), 400
    if spec.code is None and spec.http_status is None:
        return jsonify(error="a fault needs 'code' and/or 'http_status'"), 400
    if spec.recipient is not None:
        spec.recipient = spec.recipient.lstrip("+")
    return jsonify(_state().add_fault(spec).as_json()), 201


@bp.delete("/_sim/faults")
def clear_faults() -> Response:
    return jsonify(deleted=_state().delete_faults())


@bp.delete("/_sim/faults/<fault_id>")
def delete_fault(fault_id: str) -> tuple[Response, int]:
    deleted = _state().delete_faults(fault_id)
    return jsonify(deleted=deleted), 200 if deleted else 404
