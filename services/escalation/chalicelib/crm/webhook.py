"""`WebhookCrm`: every CRM operation as a signed JSON POST to the business's own endpoint.

The body is `{"event_id", "type", "data"}` with `type` one of `contact.upsert`, `case.upsert`,
`case.update`, `customer.erase`. Headers: `X-Parley-Signature: sha256=<hex HMAC-SHA256 of the raw
body with the signing secret>` and `X-Parley-Event-Id` (also in the body). The event id is derived
from the type and the data, so a replayed operation carries the same id: the receiver applies an
event id once (and may answer 409 for one it has seen; that counts as delivered), and upserts
contacts by `wa_id` and cases by `handoff_id`. A receiver may answer `{"id", "url", "created"}`
(and, for `customer.erase`, `{"contact_ids", "case_ids"}`); without them Parley's own ids stand in.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.crm.base import Answer, CredentialSource, credential, http_session, send
from parley.crm import (
    CrmCase,
    CrmCaseNotFound,
    CrmCaseUpdate,
    CrmContact,
    CrmErasure,
    CrmLink,
)

if TYPE_CHECKING:
    import requests

SIGNATURE_HEADER = "X-Parley-Signature"
EVENT_ID_HEADER = "X-Parley-Event-Id"


class WebhookSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    webhook_url: str = Field(pattern=r"^https?://[^\s]+$")


def sign(body: bytes, secret: str) -> str:
    """The `X-Parley-Signature` value of `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, signature: str | None, secret: str) -> bool:
    """Whether `signature` is the signature of `body` (constant-time); for receivers."""
    return signature is not None and hmac.compare_digest(sign(body, secret), signature)


def event_id(kind: str, data: dict[str, Any]) -> str:
    canonical = json.dumps([kind, data], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


class WebhookCrm:
    """The `Crm` role as signed webhooks."""

    provider: Literal["webhook"] = "webhook"

    def __init__(
        self,
        settings: WebhookSettings,
        signing_secret: CredentialSource,
        *,
        session: requests.Session | None = None,
    ) -> None:
        self.settings = settings
        self._secret = signing_secret
        self._session = session

    def upsert_contact(self, contact: CrmContact) -> str:
        answer = self._post("contact.upsert", contact.model_dump(mode="json"))
        return str(answer.field("id") or contact.wa_id)

    def upsert_case(self, case: CrmCase, contact_id: str | None) -> CrmLink:
        data = {**case.model_dump(mode="json"), "contact_id": contact_id}
        answer = self._post("case.upsert", data)
        return CrmLink(
            provider="webhook",
            contact_id=contact_id,
            case_id=str(answer.field("id") or case.handoff_id),
            url=answer.field("url"),
            created=answer.field("created"),
        )

    def update_case(self, update: CrmCaseUpdate) -> CrmLink:
        answer = self._post("case.update", update.model_dump(mode="json"), expect=(404,))
        if answer.status == 404:
            raise CrmCaseNotFound(f"the CRM webhook has no case {update.handoff_id} yet")
        return CrmLink(
            provider="webhook",
            contact_id=answer.field("contact_id"),
            case_id=str(answer.field("id") or update.handoff_id),
            url=answer.field("url"),
            created=False,
        )

    def erase_customer(self, wa_id: str, handoff_ids: tuple[str, ...] = ()) -> CrmErasure:
        answer = self._post("customer.erase", {"wa_id": wa_id, "handoff_ids": list(handoff_ids)})
        return CrmErasure(
            provider="webhook",
            contact_ids=tuple(str(i) for i in answer.field("contact_ids") or ()),
            case_ids=tuple(str(i) for i in answer.field("case_ids") or ()),
        )

    def _post(self, kind: str, data: dict[str, Any], expect: tuple[int, ...] = ()) -> Answer:
        secret = credential(self._secret, "CRM signing_secret")  # before any request is sent
        identifier = event_id(kind, data)
        body = json.dumps({"event_id": identifier, "type": kind, "data": data}).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(body, secret),
            EVENT_ID_HEADER: identifier,
        }
        if self._session is None:
            self._session = http_session()
        answer = send(
            self._session,
            "webhook",
            kind,
            "POST",
            self.settings.webhook_url,
            data=body,
            headers=headers,
            expect=(409, *expect),
        )
        if answer.status == 409:  # the receiver has applied this event id already
            return Answer(200, answer.body if isinstance(answer.body, dict) else {}, answer.headers)
        return answer
