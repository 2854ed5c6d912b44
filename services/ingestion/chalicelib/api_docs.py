"""What `GET /openapi.json` says of the ingestion routes (parley.openapi builds the document)."""

from __future__ import annotations

from chalicelib.channels.twilio_models import TwilioForm
from parley.openapi import RouteDoc
from parley.whatsapp.webhook import Notification

_OUTCOME = {
    "type": "object",
    "required": ["status"],
    "properties": {"status": {"enum": ["processed", "ignored"]}, "reason": {"type": "string"}},
}

ROUTE_DOCS: dict[str, RouteDoc] = {
    "GET /webhooks/meta": RouteDoc(
        "Meta's subscription handshake: echoes hub.challenge when hub.verify_token matches",
        query={
            "hub.mode": {"type": "string"},
            "hub.verify_token": {"type": "string"},
            "hub.challenge": {"type": "string"},
        },
        response={"type": "string"},
        response_type="text/plain",
        errors=(403,),
    ),
    "POST /webhooks/meta": RouteDoc(
        "A Meta Cloud API notification, signed with the app secret over the raw body",
        body=Notification,
        headers={"X-Hub-Signature-256": {"type": "string", "pattern": "^sha256=[0-9a-f]{64}$"}},
        response=_OUTCOME,
        errors=(400, 401, 413),
    ),
    "POST /webhooks/twilio": RouteDoc(
        "A Twilio WhatsApp message or status callback, signed by Twilio over URL and fields",
        body=TwilioForm,
        body_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": {"type": "string", "minLength": 1}},
        response={"type": "string"},
        response_type="text/xml",
        errors=(400, 401, 413),
    ),
}
