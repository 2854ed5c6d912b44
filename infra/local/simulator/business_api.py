"""A fake of the business's own API, for the `get_application_status` tool of the demo agents:
GET /_business/applications/<id> answers a realistic status for the demo application ids, but only
to the applicant: the caller names the customer's WhatsApp id in `X-Customer-Wa-Id` (the sender of
the message, as the channel verified it). No caller: 403. An unknown id, or another applicant's:
404, the same answer for both so ids cannot be probed."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

bp = Blueprint("business_api", __name__)

CUSTOMER_HEADER = "X-Customer-Wa-Id"

# Each application belongs to the phone number the applicant gave (its WhatsApp id): the
# simulator's default customer owns the first two, a Spanish number the third.
APPLICATIONS: dict[str, dict[str, object]] = {
    "NB-2027-0001": {
        "wa_id": "15551234567",
        "applicant": "Demo Applicant A",
        "program": "B.S. in Nursing",
        "term": "Fall 2027",
        "stage": "under_review",
        "complete": True,
        "missing_documents": [],
        "updated_at": "2026-11-20",
        "next_step": "Decision released by March 20, 2027 in the Northbridge Apply portal.",
    },
    "NB-2027-0002": {
        "wa_id": "15551234567",
        "applicant": "Demo Applicant B",
        "program": "M.S. in Data Science",
        "term": "Fall 2027",
        "stage": "incomplete",
        "complete": False,
        "missing_documents": ["official transcript", "second recommendation letter"],
        "updated_at": "2026-11-18",
        "next_step": "Upload the missing documents in My Checklist.",
    },
    "NB-2027-0003": {
        "wa_id": "34612345678",
        "applicant": "Demo Applicant C",
        "program": "B.A. in Psychology",
        "term": "Spring 2027",
        "stage": "decision_released",
        "complete": True,
        "missing_documents": [],
        "updated_at": "2026-12-01",
        "next_step": "Log in to the Northbridge Apply portal to read the decision.",
    },
}


@bp.get("/_business/applications/<application_id>")
def application_status(application_id: str) -> tuple[Response, int]:
    caller = (request.headers.get(CUSTOMER_HEADER) or "").strip().lstrip("+")
    if not caller.isdigit():
        return jsonify(error="the customer is not identified"), 403
    found = APPLICATIONS.get(application_id.upper())
    if found is None or found["wa_id"] != caller:
        return jsonify(error="application not found", application_id=application_id), 404
    status = {k: v for k, v in found.items() if k != "wa_id"}
    return jsonify(application_id=application_id.upper(), **status), 200
