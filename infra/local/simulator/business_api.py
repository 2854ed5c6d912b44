"""A fake of the business's own API, for the `get_application_status` tool of the demo agents:
GET /_business/applications/<id> answers a realistic status for the demo application ids."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

bp = Blueprint("business_api", __name__)

APPLICATIONS: dict[str, dict[str, object]] = {
    "NB-2027-0001": {
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
    found = APPLICATIONS.get(application_id.upper())
    if found is None:
        return jsonify(error="application not found", application_id=application_id), 404
    return jsonify(application_id=application_id.upper(), **found), 200
