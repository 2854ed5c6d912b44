"""The receiver of Parley's signed CRM webhook, as a business would write one (`POST /_crm/cases`).

It checks `X-Parley-Signature` (`sha256=` HMAC-SHA256 of the raw body with the local CRM
signing secret; 401 otherwise), applies each `X-Parley-Event-Id` once (a repeat gets the first
answer again, with `created: false`), upserts contacts by `wa_id` and cases by `handoff_id`,
never reopens a closed case, and deletes a customer's contact and cases on `customer.erase`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable

from flask import Blueprint, Response, jsonify, request

from .store import CrmSimState, Json, Target, fault_check, state

TARGET: Target = "webhook"
bp = Blueprint("crm_webhook", __name__)
CLOSED = ("resolved", "expired")


def fault_answer(status: int, message: str) -> tuple[Response, int]:
    return jsonify(error=message), status


@bp.before_request
def _gate() -> tuple[Response, int] | None:
    return fault_check(TARGET, fault_answer)


@bp.post("/_crm/cases")
def receive() -> tuple[Response, int]:
    sim = state()
    raw = request.get_data()
    expected = (
        "sha256=" + hmac.new(sim.config.signing_secret.encode(), raw, hashlib.sha256).hexdigest()
    )
    if not hmac.compare_digest(expected, request.headers.get("X-Parley-Signature", "")):
        with sim.lock:
            sim.webhook_refused += 1
        return jsonify(error="invalid signature"), 401
    try:
        event = json.loads(raw)
        event_id, kind, data = str(event["event_id"]), str(event["type"]), dict(event["data"])
    except (ValueError, KeyError, TypeError):
        return jsonify(error="expected {event_id, type, data}"), 400
    if request.headers.get("X-Parley-Event-Id", event_id) != event_id:
        return jsonify(error="X-Parley-Event-Id differs from the body's event_id"), 400
    handler = HANDLERS.get(kind)
    if handler is None:
        return jsonify(error=f"unknown type {kind!r}"), 400
    with sim.lock:
        seen = sim.webhook_events.get(event_id)
        if seen is not None:
            sim.webhook_duplicates += 1
            return jsonify({**seen, "created": False} if "created" in seen else seen), 200
        answer, status = handler(sim, data)
        if status < 300:
            sim.webhook_events[event_id] = answer
    return jsonify(answer), status


def _contact(sim: CrmSimState, data: Json) -> tuple[Json, int]:
    wa_id = str(data.get("wa_id") or "")
    if not wa_id:
        return {"error": "wa_id is required"}, 400
    record = sim.webhook_contacts.get(wa_id)
    created = record is None
    if record is None:
        record = sim.webhook_contacts[wa_id] = {"id": f"WC-{sim.next_id('webhook-contact')}"}
    record.update(data)
    return {"id": record["id"], "created": created}, 200


def _case(sim: CrmSimState, data: Json) -> tuple[Json, int]:
    handoff_id = str(data.get("handoff_id") or "")
    if not handoff_id:
        return {"error": "handoff_id is required"}, 400
    record = sim.webhook_cases.get(handoff_id)
    created = record is None
    if record is None:
        record = sim.webhook_cases[handoff_id] = {"id": f"WK-{sim.next_id('webhook-case')}"}
        record.update(data)
    elif record.get("status") not in CLOSED:
        status = record.get("status") if data.get("status") == "new" else data.get("status")
        record.update(data, status=status)
    url = f"{request.host_url}_crm/cases/{record['id']}"
    return {"id": record["id"], "created": created, "url": url}, 200


def _update(sim: CrmSimState, data: Json) -> tuple[Json, int]:
    record = sim.webhook_cases.get(str(data.get("handoff_id") or ""))
    if record is None:
        return {"error": "no such case"}, 404
    record.update(data)
    url = f"{request.host_url}_crm/cases/{record['id']}"
    return {"id": record["id"], "contact_id": record.get("contact_id"), "url": url}, 200


def _erase(sim: CrmSimState, data: Json) -> tuple[Json, int]:
    wa_id = str(data.get("wa_id") or "")
    contact = sim.webhook_contacts.pop(wa_id, None)
    contact_id = contact["id"] if contact else None
    handoff_ids = set(data.get("handoff_ids") or ())
    doomed = [
        key
        for key, case in sim.webhook_cases.items()
        if key in handoff_ids or (contact_id and case.get("contact_id") == contact_id)
    ]
    cases = [sim.webhook_cases.pop(key)["id"] for key in doomed]
    return {"contact_ids": [contact_id] if contact_id else [], "case_ids": cases}, 200


HANDLERS: dict[str, Callable[[CrmSimState, Json], tuple[Json, int]]] = {
    "contact.upsert": _contact,
    "case.upsert": _case,
    "case.update": _update,
    "customer.erase": _erase,
}
