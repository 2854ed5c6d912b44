"""What `GET /openapi.json` says of the context routes (parley.openapi builds the document)."""

from __future__ import annotations

from chalicelib.api_models import CustomerExport, ErasureReport, PageParams, TranscriptPage
from chalicelib.models import Session
from parley.openapi import RouteDoc

_KEY = {
    "key": {
        "type": "string",
        "pattern": r"^\d{1,32}:\d{1,20}$",
        "description": "<phone_number_id>:<wa_id>",
    }
}
_WA_ID = {
    "wa_id": {"type": "string", "pattern": r"^\d{1,20}$", "description": "the customer's digits"}
}

ROUTE_DOCS: dict[str, RouteDoc] = {
    "GET /conversations/{key}": RouteDoc(
        "One page of a conversation's transcript, newest first",
        auth=True,
        path=_KEY,
        query=PageParams,
        response=TranscriptPage,
        errors=(400, 404),
    ),
    "GET /sessions/{key}": RouteDoc(
        "A conversation's session", auth=True, path=_KEY, response=Session, errors=(400, 404)
    ),
    "GET /customers/{wa_id}/export": RouteDoc(
        "Everything held about one customer (data subject access)",
        auth=True,
        path=_WA_ID,
        response=CustomerExport,
        errors=(400,),
    ),
    "DELETE /customers/{wa_id}": RouteDoc(
        "Erase a customer's history and sessions; publishes customer.erased",
        auth=True,
        path=_WA_ID,
        response=ErasureReport,
        status=202,
        errors=(400,),
    ),
}
