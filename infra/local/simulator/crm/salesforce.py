"""Fake Salesforce REST API: the sObject, sObject-by-External-ID and query resources.

`PATCH .../sobjects/<object>/<external id field>/<value>` upserts (201 `{"id", "success",
"errors", "created": true}` when created, 200 with `"created": false` when updated, as API 46.0+
answer); GET and DELETE by external id or by record Id; `GET .../query?q=SELECT Id FROM <object>
WHERE <field> = '<value>'`. Like Salesforce: errors are `[{"message", "errorCode", "fields"}]`,
unknown fields are refused, LastName (and a Lead's Company) is required, external id values are
unique, a contact that cases point to cannot be deleted, and the bearer token must be the session.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, jsonify, request

from .store import Json, Target, fault_check, state

TARGET: Target = "salesforce"
bp = Blueprint("crm_salesforce", __name__)
BASE = "/services/data/v<version>"

FIELDS: dict[str, set[str]] = {
    "Contact": {"FirstName", "LastName", "MobilePhone", "Phone", "Email", "Description"},
    "Lead": {"FirstName", "LastName", "MobilePhone", "Phone", "Company", "LeadSource", "Status"},
    "Case": {
        "Subject",
        "Description",
        "Priority",
        "Status",
        "Origin",
        "ContactId",
        "Reason",
        "SuppliedName",
        "SuppliedPhone",
        "Parley_Resolution__c",
    },
}
EXTERNAL_IDS = {
    "Contact": "WhatsApp_Id__c",
    "Lead": "WhatsApp_Id__c",
    "Case": "Parley_Handoff_Id__c",
}
REQUIRED = {"Contact": ("LastName",), "Lead": ("LastName", "Company"), "Case": ()}
PREFIX = {"Contact": "003", "Lead": "00Q", "Case": "500"}
_QUERY = re.compile(r"^SELECT\s+Id\s+FROM\s+(\w+)\s+WHERE\s+(\w+)\s*=\s*'([^'\\]*)'$", re.I)


def error(status: int, code: str, message: str) -> tuple[Response, int]:
    return jsonify([{"message": message, "errorCode": code, "fields": []}]), status


def fault_answer(status: int, message: str) -> tuple[Response, int]:
    return error(status, "SERVER_UNAVAILABLE" if status >= 500 else "REQUEST_REFUSED", message)


@bp.before_request
def _gate() -> tuple[Response, int] | None:
    found = fault_check(TARGET, fault_answer)
    if found is not None:
        return found
    if request.headers.get("Authorization") != f"Bearer {state().config.salesforce_session_id}":
        return error(401, "INVALID_SESSION_ID", "Session expired or invalid")
    return None


@bp.route(f"{BASE}/sobjects/<sobject>/<field>/<value>", methods=["GET", "PATCH", "DELETE"])
def by_external_id(version: str, sobject: str, field: str, value: str) -> Any:
    if sobject not in FIELDS:
        return error(404, "NOT_FOUND", "The requested resource does not exist")
    if EXTERNAL_IDS[sobject] != field:
        return error(
            404,
            "NOT_FOUND",
            f"Provided external ID field does not exist or is not accessible: {field}",
        )
    with state().lock:
        records = state().salesforce[sobject]
        found = [r for r in records.values() if r.get(field) == value]
        if len(found) > 1:
            return jsonify(
                [f"/services/data/v{version}/sobjects/{sobject}/{r['Id']}" for r in found]
            ), 300
        if request.method == "PATCH":
            return _upsert(version, sobject, field, value, found[0] if found else None)
        if not found:
            return error(404, "NOT_FOUND", "The requested resource does not exist")
        if request.method == "GET":
            return jsonify(_view(version, sobject, found[0])), 200
        return _delete(sobject, found[0]["Id"])


@bp.route(f"{BASE}/sobjects/<sobject>/<record_id>", methods=["GET", "PATCH", "DELETE"])
def by_id(version: str, sobject: str, record_id: str) -> Any:
    if sobject not in FIELDS:
        return error(404, "NOT_FOUND", "The requested resource does not exist")
    with state().lock:
        record = state().salesforce[sobject].get(record_id)
        if record is None:
            return error(404, "NOT_FOUND", "The requested resource does not exist")
        if request.method == "GET":
            return jsonify(_view(version, sobject, record)), 200
        if request.method == "DELETE":
            return _delete(sobject, record_id)
        data: Any = request.get_json(silent=True)
        refused = _validate(sobject, data, None)
        if refused is not None:
            return refused
        record.update(data)
        return "", 204


@bp.get(f"{BASE}/query/")
def query(version: str) -> tuple[Response, int]:
    match = _QUERY.match((request.args.get("q") or "").strip())
    if match is None:
        return error(400, "MALFORMED_QUERY", "only SELECT Id FROM x WHERE y = 'z' is faked")
    sobject, field, value = match.groups()
    if sobject not in FIELDS:
        return error(400, "INVALID_TYPE", f"sObject type '{sobject}' is not supported.")
    with state().lock:
        found = [r for r in state().salesforce[sobject].values() if r.get(field) == value]
    records = [{"attributes": _attributes(version, sobject, r["Id"]), "Id": r["Id"]} for r in found]
    return jsonify(totalSize=len(records), done=True, records=records), 200


def _upsert(
    version: str, sobject: str, field: str, value: str, existing: Json | None
) -> tuple[Response, int]:
    data: Any = request.get_json(silent=True)
    refused = _validate(sobject, data, existing)
    if refused is not None:
        return refused
    if existing is not None:
        existing.update(data)
        return jsonify(id=existing["Id"], success=True, errors=[], created=False), 200
    number = state().next_id(sobject)
    record_id = f"{PREFIX[sobject]}{number:012d}AAA"
    state().salesforce[sobject][record_id] = {"Id": record_id, field: value, **data}
    return jsonify(id=record_id, success=True, errors=[], created=True), 201


def _validate(sobject: str, data: Any, existing: Json | None) -> tuple[Response, int] | None:
    if not isinstance(data, dict):
        return error(400, "JSON_PARSER_ERROR", "The request body is not a JSON object")
    for name in data:
        if name not in FIELDS[sobject]:
            return error(
                400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {sobject}"
            )
    if existing is None:
        for name in REQUIRED[sobject]:
            if not data.get(name):
                return error(
                    400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{name}]"
                )
    contact_id = data.get("ContactId")
    if contact_id and contact_id not in state().salesforce["Contact"]:
        return error(400, "INVALID_CROSS_REFERENCE_KEY", "Contact ID: id value of incorrect type")
    return None


def _delete(sobject: str, record_id: str) -> tuple[Response | str, int]:
    if sobject == "Contact":
        cases = [
            c["Id"] for c in state().salesforce["Case"].values() if c.get("ContactId") == record_id
        ]
        if cases:
            message = f"Your attempt to delete this contact could not be completed: cases {cases}"
            return error(400, "DELETE_FAILED", message)
    del state().salesforce[sobject][record_id]
    return "", 204


def _view(version: str, sobject: str, record: Json) -> Json:
    view: Json = {"attributes": _attributes(version, sobject, record["Id"])}
    view.update(
        {name: record.get(name) for name in ["Id", EXTERNAL_IDS[sobject], *FIELDS[sobject]]}
    )
    if sobject == "Case":
        view["IsClosed"] = record.get("Status") == "Closed"
    return view


def _attributes(version: str, sobject: str, record_id: str) -> Json:
    return {"type": sobject, "url": f"/services/data/v{version}/sobjects/{sobject}/{record_id}"}
