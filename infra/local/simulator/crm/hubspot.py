"""Fake HubSpot CRM API: contacts and tickets (v3 objects, read and written by id or by a unique
property with `?idProperty=`), GDPR delete, and ticket↔contact associations (v4).

Like HubSpot: unique property values are enforced (409 `CONFLICT` on a duplicate create), unknown
properties are refused (400 `VALIDATION_ERROR`), a ticket needs `subject` and
`hs_pipeline_stage`, a missing object is 404 `OBJECT_NOT_FOUND`, and the bearer token must be the
private app's token.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request

from .store import Json, Target, fault_check, state

TARGET: Target = "hubspot"
bp = Blueprint("crm_hubspot", __name__)

PROPERTIES: dict[str, set[str]] = {
    "contacts": {"phone", "mobilephone", "firstname", "lastname", "email", "hs_language"},
    "tickets": {
        "subject",
        "content",
        "hs_pipeline",
        "hs_pipeline_stage",
        "hs_ticket_priority",
        "parley_resolution",
    },
}
UNIQUE = {"contacts": "whatsapp_id", "tickets": "parley_handoff_id"}
REQUIRED = {"contacts": (), "tickets": ("subject", "hs_pipeline_stage")}
FIRST_ID = {"contacts": 1000, "tickets": 2000}
STAGES = {"1", "2", "3", "4"}
PRIORITIES = {"LOW", "MEDIUM", "HIGH", "URGENT"}


def error(status: int, category: str, message: str) -> tuple[Response, int]:
    body = {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
    }
    return jsonify(body), status


def fault_answer(status: int, message: str) -> tuple[Response, int]:
    return error(status, "RATE_LIMITS" if status == 429 else "INTERNAL_ERROR", message)


def not_found() -> tuple[Response, int]:
    return error(404, "OBJECT_NOT_FOUND", "Object not found.  objectId are usually numeric.")


@bp.before_request
def _gate() -> tuple[Response, int] | None:
    found = fault_check(TARGET, fault_answer)
    if found is not None:
        return found
    if request.headers.get("Authorization") != f"Bearer {state().config.hubspot_token}":
        return error(401, "INVALID_AUTHENTICATION", "Authentication credentials not found.")
    return None


@bp.post("/crm/v3/objects/<kind>")
def create(kind: str) -> tuple[Response, int]:
    if kind not in PROPERTIES:
        return not_found()
    properties = _properties()
    with state().lock:
        refused = _validate(kind, properties, None)
        if refused is not None:
            return refused
        object_id = str(FIRST_ID[kind] + state().next_id(kind))
        now = _now()
        record = {
            "id": object_id,
            "properties": {**properties, "hs_object_id": object_id, "createdate": now},
            "createdAt": now,
            "updatedAt": now,
            "archived": False,
        }
        state().hubspot[kind][object_id] = record
        return jsonify(record), 201


@bp.route("/crm/v3/objects/<kind>/<key>", methods=["GET", "PATCH", "DELETE"])
def one(kind: str, key: str) -> tuple[Response | str, int]:
    if kind not in PROPERTIES:
        return not_found()
    id_property = request.args.get("idProperty")
    if id_property not in (None, "hs_object_id", UNIQUE[kind]):
        return error(400, "VALIDATION_ERROR", f"{id_property} is not a unique property")
    with state().lock:
        record = _find(kind, key, id_property)
        if record is None:
            return not_found()
        if request.method == "GET":
            return jsonify(record), 200
        if request.method == "DELETE":
            _remove(kind, record["id"])
            return "", 204
        properties = _properties()
        refused = _validate(kind, properties, record)
        if refused is not None:
            return refused
        record["properties"].update(properties)
        record["updatedAt"] = _now()
        return jsonify(record), 200


@bp.post("/crm/v3/objects/contacts/gdpr-delete")
def gdpr_delete() -> tuple[Response | str, int]:
    body = request.get_json(silent=True) or {}
    with state().lock:
        record = _find("contacts", str(body.get("objectId", "")), body.get("idProperty"))
        if record is None:
            return not_found()
        _remove("contacts", record["id"])
    return "", 204


@bp.put("/crm/v4/objects/<kind>/<object_id>/associations/default/<to_kind>/<to_id>")
def associate(kind: str, object_id: str, to_kind: str, to_id: str) -> tuple[Response, int]:
    pair = _pair(kind, object_id, to_kind, to_id)
    if pair is None:
        return error(400, "VALIDATION_ERROR", f"cannot associate {kind} with {to_kind}")
    with state().lock:
        if pair[0] not in state().hubspot["tickets"] or pair[1] not in state().hubspot["contacts"]:
            return not_found()
        state().associations.add(pair)
    result = {"fromObjectTypeId": kind, "fromObjectId": object_id, "toObjectId": to_id}
    return jsonify(status="COMPLETE", results=[result]), 200


@bp.get("/crm/v4/objects/<kind>/<object_id>/associations/<to_kind>")
def associations(kind: str, object_id: str, to_kind: str) -> tuple[Response, int]:
    if _pair(kind, object_id, to_kind, "") is None:
        return error(400, "VALIDATION_ERROR", f"no associations between {kind} and {to_kind}")
    side = 0 if kind == "tickets" else 1
    with state().lock:
        others = [p[1 - side] for p in sorted(state().associations) if p[side] == object_id]
    type_id = 16 if kind == "tickets" else 15
    results = [
        {
            "toObjectId": int(other),
            "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": None}],
        }
        for other in others
    ]
    return jsonify(results=results), 200


def _pair(kind: str, object_id: str, to_kind: str, to_id: str) -> tuple[str, str] | None:
    if (kind, to_kind) == ("tickets", "contacts"):
        return object_id, to_id
    if (kind, to_kind) == ("contacts", "tickets"):
        return to_id, object_id
    return None


def _find(kind: str, key: str, id_property: str | None) -> Json | None:
    records = state().hubspot[kind]
    if id_property in (None, "hs_object_id"):
        return records.get(key)
    for record in records.values():
        if record["properties"].get(id_property) == key:
            return record
    return None


def _remove(kind: str, object_id: str) -> None:
    del state().hubspot[kind][object_id]
    side = 0 if kind == "tickets" else 1
    state().associations = {p for p in state().associations if p[side] != object_id}


def _properties() -> Any:
    body = request.get_json(silent=True)
    return body.get("properties") if isinstance(body, dict) else None


def _validate(kind: str, properties: Any, existing: Json | None) -> tuple[Response, int] | None:
    if not isinstance(properties, dict):
        return error(400, "VALIDATION_ERROR", "Invalid input JSON: `properties` is required")
    unique = UNIQUE[kind]
    unknown = sorted(set(properties) - PROPERTIES[kind] - {unique})
    if unknown:
        return error(
            400, "VALIDATION_ERROR", f"Property values were not valid: {unknown} do not exist"
        )
    if existing is None:
        missing = [name for name in REQUIRED[kind] if not properties.get(name)]
        if missing:
            return error(400, "VALIDATION_ERROR", f"Required properties are missing: {missing}")
    if properties.get("hs_pipeline_stage") not in (None, *STAGES):
        return error(400, "VALIDATION_ERROR", "hs_pipeline_stage is not a stage of the pipeline")
    if properties.get("hs_ticket_priority") not in (None, *PRIORITIES):
        return error(400, "VALIDATION_ERROR", "hs_ticket_priority is not an allowed option")
    value = properties.get(unique)
    if value is not None:
        clash = _find(kind, str(value), unique)
        if clash is not None and clash is not existing:
            message = f"A {kind[:-1]} with {unique} '{value}' already exists (id {clash['id']})"
            return error(409, "CONFLICT", message)
    return None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
