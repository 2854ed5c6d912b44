"""schemathesis over the ingestion API's own OpenAPI document, on the local emulators.

The Meta and Twilio webhooks are signed as their senders sign them, so generated bodies reach the
parser and the normaliser, not only the signature check."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from urllib.parse import parse_qsl

from chalice.test import Client
from inbound_support import sign
from twilio.request_validator import RequestValidator

from infra.local.api_fuzz import fuzz_api
from infra.local.provisioner import DEV_SECRETS_PATH
from infra.local.service_contract import API_KEY, Service

TWILIO_TOKEN = json.loads(DEV_SECRETS_PATH.read_text())["twilio"]["auth_token"]


def sign_meta(method: str, path: str, body: bytes, headers: Mapping[str, str]) -> dict[str, str]:
    return {"X-Hub-Signature-256": sign(body)}


def sign_twilio(method: str, path: str, body: bytes, headers: Mapping[str, str]) -> dict[str, str]:
    """Twilio signs the public URL it called plus every form field (each value of a repeat)."""
    form: dict[str, list[str]] = {}
    for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        form.setdefault(name, []).append(value)

    class Params(dict[str, list[str]]):
        def getlist(self, name: str) -> list[str]:
            return self[name]

    url = os.environ["TWILIO_WEBHOOK_URL"]
    return {
        "X-Twilio-Signature": RequestValidator(TWILIO_TOKEN).compute_signature(url, Params(form))
    }


def test_ingestion_api_keeps_its_openapi_document(client: Client, service: Service) -> None:
    report = fuzz_api(
        client,
        headers=API_KEY,
        signers={"POST /webhooks/meta": sign_meta, "POST /webhooks/twilio": sign_twilio},
    )
    assert not report.failures, "\n\n".join(report.failures)
    # Signed as their senders sign: generated bodies get past the signature to the parser.
    assert report.answered("POST /webhooks/meta", 200) > 0, report.statuses
    assert report.answered("POST /webhooks/twilio", 200) > 0, report.statuses
    assert report.answered("GET /health/details", 200) > 0, report.statuses
