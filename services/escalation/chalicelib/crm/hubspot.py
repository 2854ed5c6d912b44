"""`HubSpotCrm`: contacts and tickets through the CRM v3 REST API (a private app's token).

HubSpot's search index lags new records by seconds, so nothing here searches: the contact is
keyed by the unique custom property `whatsapp_id` and the ticket by the unique custom property
`parley_handoff_id`, both read and written with `?idProperty=`. An upsert is
`PATCH /crm/v3/objects/<type>/<key>?idProperty=<property>`; on 404 `POST` creates the record,
and a 409 (another invocation created it meanwhile) falls back to the `PATCH`. The ticket is
associated with the contact (`PUT /crm/v4/.../associations/default/...`, idempotent).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.crm.base import Answer, CredentialSource, credential, http_session, segment, send
from parley.crm import (
    CrmCase,
    CrmCaseNotFound,
    CrmCaseUpdate,
    CrmContact,
    CrmErasure,
    CrmLink,
    CrmUnavailable,
)

if TYPE_CHECKING:
    import requests

_PROPERTY = r"^[a-z][a-z0-9_]{0,99}$"
_NF = (404,)  # "not found" is an answer, not an error, where a record may not exist yet
_PRIORITY = {"low": "LOW", "medium": "MEDIUM", "high": "HIGH", "urgent": "URGENT"}


class HubSpotSettings(BaseModel):
    """The non-secret part of a HubSpot CRM configuration."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    base_url: str = "https://api.hubapi.com"
    contact_id_property: str = Field(default="whatsapp_id", pattern=_PROPERTY)
    ticket_id_property: str = Field(default="parley_handoff_id", pattern=_PROPERTY)
    resolution_property: str = Field(default="parley_resolution", pattern=_PROPERTY)
    pipeline: str = "0"  # the default support pipeline
    # Pipeline stage ids by Parley status (defaults: the default pipeline's New, Waiting on us,
    # Closed).
    stages: dict[str, str] = {"new": "1", "working": "3", "resolved": "4", "expired": "4"}
    closed_stages: tuple[str, ...] = ("4",)
    portal_id: str | None = Field(default=None, pattern=r"^[0-9]{1,15}$")  # for console links
    console_url: str = "https://app.hubspot.com"


class HubSpotCrm:
    """The `Crm` role on HubSpot."""

    provider: Literal["hubspot"] = "hubspot"

    def __init__(
        self,
        settings: HubSpotSettings,
        access_token: CredentialSource,
        *,
        session: requests.Session | None = None,
    ) -> None:
        self.settings = settings
        self._token = access_token
        self._session = session
        self._root = settings.base_url.rstrip("/")

    # -- the Crm role -------------------------------------------------------------------------

    def upsert_contact(self, contact: CrmContact) -> str:
        s = self.settings
        properties: dict[str, Any] = {"phone": contact.phone, "mobilephone": contact.phone}
        if contact.name:
            first, _, last = contact.name.rpartition(" ")
            properties.update(firstname=first or last, lastname=last if first else "")
        if contact.language:
            properties["hs_language"] = contact.language.lower().replace("_", "-")
        properties = {k: v for k, v in properties.items() if v is not None}
        contact_id, _ = self._upsert("contacts", s.contact_id_property, contact.wa_id, properties)
        return contact_id

    def upsert_case(self, case: CrmCase, contact_id: str | None) -> CrmLink:
        s = self.settings
        existing = self._read("tickets", s.ticket_id_property, case.handoff_id, "hs_pipeline_stage")
        properties: dict[str, Any] = {
            "subject": case.subject,
            "content": case.description,
            "hs_ticket_priority": _PRIORITY[case.priority],
        }
        if existing is None:
            properties.update(hs_pipeline=s.pipeline, hs_pipeline_stage=s.stages[case.status])
            ticket_id, created = self._upsert(
                "tickets", s.ticket_id_property, case.handoff_id, properties
            )
        else:
            ticket_id, created = str(existing["id"]), False
            stage = (existing.get("properties") or {}).get("hs_pipeline_stage")
            if stage not in s.closed_stages:  # a closed ticket is never reopened by a replay
                if case.status != "new":
                    properties["hs_pipeline_stage"] = s.stages[case.status]
                self._patch("tickets", ticket_id, properties)
        if contact_id:
            self._associate(ticket_id, contact_id)
        return self._link(ticket_id, contact_id, created)

    def update_case(self, update: CrmCaseUpdate) -> CrmLink:
        s = self.settings
        properties = {
            "hs_pipeline_stage": s.stages[update.status],
            s.resolution_property: update.resolution_text(),
        }
        answer = self._call(
            "update ticket",
            "PATCH",
            f"/crm/v3/objects/tickets/{segment(update.handoff_id)}",
            params={"idProperty": s.ticket_id_property},
            json={"properties": properties},
            expect=(404,),
        )
        if answer.status == 404:
            raise CrmCaseNotFound(f"hubspot has no ticket {update.handoff_id} yet")
        return self._link(str(answer.field("id")), None, False)

    def erase_customer(self, wa_id: str, handoff_ids: tuple[str, ...] = ()) -> CrmErasure:
        s = self.settings
        contact = self._read("contacts", s.contact_id_property, wa_id)
        ticket_ids: list[str] = []
        for handoff_id in handoff_ids:
            found = self._read("tickets", s.ticket_id_property, handoff_id)
            if found is not None:
                ticket_ids.append(str(found["id"]))
        if contact is not None:
            ticket_ids += self._associated_tickets(str(contact["id"]))
        deleted = tuple(t for t in dict.fromkeys(ticket_ids) if self._delete_ticket(t))
        contacts: tuple[str, ...] = ()
        if contact is not None:
            # GDPR delete: permanent, and HubSpot blocks the address from being re-created.
            answer = self._call(
                "gdpr-delete contact",
                "POST",
                "/crm/v3/objects/contacts/gdpr-delete",
                json={"objectId": wa_id, "idProperty": s.contact_id_property},
                expect=(404,),
            )
            contacts = (str(contact["id"]),) if answer.status != 404 else ()
        return CrmErasure(
            provider="hubspot",
            contact_ids=contacts,
            case_ids=deleted,
            note="tickets are archived (HubSpot keeps them 90 days in its recycle bin)"
            if deleted
            else None,
        )

    # -- REST calls ---------------------------------------------------------------------------

    def _upsert(
        self, kind: str, id_property: str, key: str, properties: dict[str, Any]
    ) -> tuple[str, bool]:
        """(id, created): PATCH by the unique property; 404 → POST; 409 on POST → PATCH."""
        path = f"/crm/v3/objects/{kind}/{segment(key)}"
        params = {"idProperty": id_property}
        body = {"properties": properties}
        answer = self._call(
            f"update {kind}", "PATCH", path, params=params, json=body, expect=(404,)
        )
        if answer.status != 404:
            return str(answer.field("id")), False
        create = {"properties": {**properties, id_property: key}}
        answer = self._call(
            f"create {kind}", "POST", f"/crm/v3/objects/{kind}", json=create, expect=(409,)
        )
        if answer.status != 409:
            return str(answer.field("id")), True
        answer = self._call(
            f"update {kind}", "PATCH", path, params=params, json=body, expect=(404,)
        )
        if answer.status == 404:
            raise CrmUnavailable(f"hubspot {kind}: conflict on create, then not found; retry")
        return str(answer.field("id")), False

    def _read(self, kind: str, id_property: str, key: str, *properties: str) -> Any:
        params: dict[str, str] = {"idProperty": id_property}
        if properties:
            params["properties"] = ",".join(properties)
        answer = self._call(
            f"read {kind}",
            "GET",
            f"/crm/v3/objects/{kind}/{segment(key)}",
            params=params,
            expect=(404,),
        )
        return None if answer.status == 404 else answer.body

    def _patch(self, kind: str, object_id: str, properties: dict[str, Any]) -> None:
        path = f"/crm/v3/objects/{kind}/{segment(object_id)}"
        self._call(f"update {kind}", "PATCH", path, json={"properties": properties})

    def _associate(self, ticket_id: str, contact_id: str) -> None:
        path = (
            f"/crm/v4/objects/tickets/{segment(ticket_id)}/associations/default/contacts/"
            f"{segment(contact_id)}"
        )
        self._call("associate ticket", "PUT", path)

    def _associated_tickets(self, contact_id: str) -> list[str]:
        path = f"/crm/v4/objects/contacts/{segment(contact_id)}/associations/tickets"
        answer = self._call("list tickets", "GET", path, params={"limit": "500"})
        results = answer.field("results") or []
        return [str(r["toObjectId"]) for r in results if isinstance(r, dict)]

    def _delete_ticket(self, ticket_id: str) -> bool:
        path = f"/crm/v3/objects/tickets/{segment(ticket_id)}"
        return self._call("delete ticket", "DELETE", path, expect=(404,)).status != 404

    def _link(self, ticket_id: str, contact_id: str | None, created: bool) -> CrmLink:
        s = self.settings
        url = None
        if s.portal_id:
            url = f"{s.console_url.rstrip('/')}/contacts/{s.portal_id}/record/0-5/{ticket_id}"
        return CrmLink(
            provider="hubspot", contact_id=contact_id, case_id=ticket_id, url=url, created=created
        )

    def _call(self, operation: str, method: str, path: str, **kwargs: Any) -> Answer:
        token = credential(self._token, "CRM access_token")  # before any request is sent
        if self._session is None:
            self._session = http_session()
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        return send(
            self._session,
            "hubspot",
            operation,
            method,
            self._root + path,
            headers=headers,
            **kwargs,
        )
