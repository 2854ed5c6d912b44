"""`SalesforceCrm`: contacts (or leads) and cases through simple-salesforce's REST client.

Records are keyed by External ID fields, never by `Phone` (which cannot be an upsert key):
the Contact or Lead by `WhatsApp_Id__c` holding the customer's WhatsApp id, the Case by
`Parley_Handoff_Id__c` holding the hand-off id. `PATCH /sobjects/<object>/<field>/<value>`
creates or updates, so replays leave one record. The resolution (outcome and transcript summary)
goes to `Parley_Resolution__c` (long text area). All field names are settings.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.crm.base import credential, http_session, segment
from parley.crm import (
    CrmCase,
    CrmCaseNotFound,
    CrmCaseUpdate,
    CrmContact,
    CrmErasure,
    CrmError,
    CrmLink,
    CrmRejected,
    CrmUnavailable,
    http_error,
)
from parley.errors import SecretNotSet

if TYPE_CHECKING:
    import requests
    from simple_salesforce import Salesforce

T = TypeVar("T")
_API_NAME = r"^[A-Za-z][A-Za-z0-9_]{0,79}$"
# Salesforce error codes that mean "later", whatever the HTTP status (REQUEST_LIMIT_EXCEEDED
# comes as 403 when the org's daily API quota is spent).
_TRANSIENT_CODES: dict[str, float | None] = {
    "UNABLE_TO_LOCK_ROW": None,
    "SERVER_UNAVAILABLE": None,
    "REQUEST_LIMIT_EXCEEDED": 300.0,  # left to the queue: the quota frees up slowly
}
_PRIORITY = {"low": "Low", "medium": "Medium", "high": "High", "urgent": "High"}


class SalesforceSettings(BaseModel):
    """The non-secret part of a Salesforce CRM configuration."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    instance_url: str | None = None  # with session_id: https://<my-domain>.my.salesforce.com
    domain: str = "login"  # with username/password or client credentials: login, test, <x>.my
    api_version: str = Field(default="59.0", pattern=r"^[0-9]{2}\.[0-9]$")
    contact_object: Literal["Contact", "Lead"] = "Contact"
    contact_external_id_field: str = Field(default="WhatsApp_Id__c", pattern=_API_NAME)
    case_external_id_field: str = Field(default="Parley_Handoff_Id__c", pattern=_API_NAME)
    resolution_field: str = Field(default="Parley_Resolution__c", pattern=_API_NAME)
    lead_company: str = "WhatsApp"  # Lead.Company is required
    statuses: dict[str, str] = {
        "new": "New",
        "working": "Working",
        "resolved": "Closed",
        "expired": "Closed",
    }
    console_url: str | None = None  # defaults to instance_url


class SalesforceCredentials(BaseModel):
    """One of: session_id (with instance_url); username + password + security_token; or
    consumer_key + consumer_secret (client credentials flow on `<domain>.salesforce.com`)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    session_id: str | None = None
    username: str | None = None
    password: str | None = None
    security_token: str | None = None
    consumer_key: str | None = None
    consumer_secret: str | None = None

    def __repr__(self) -> str:  # never show a secret in a log or a traceback
        return "SalesforceCredentials(...)"


class SalesforceCrm:
    """The `Crm` role on Salesforce. `session` is the requests session simple-salesforce uses
    (timeouts, TLS trust); the client logs in on first use, not when built."""

    provider: Literal["salesforce"] = "salesforce"

    def __init__(
        self,
        settings: SalesforceSettings,
        credentials: SalesforceCredentials | Callable[[], SalesforceCredentials],
        *,
        session: requests.Session | None = None,
    ) -> None:
        self.settings = settings
        self._credentials = credentials
        self._session = session
        self._client: Salesforce | None = None
        self._lock = threading.Lock()

    # -- the Crm role -------------------------------------------------------------------------

    def upsert_contact(self, contact: CrmContact) -> str:
        s = self.settings
        data = _contact_fields(contact, s)
        sobject = s.contact_object
        record_id, _ = self._upsert(sobject, s.contact_external_id_field, contact.wa_id, data)
        return record_id

    def upsert_case(self, case: CrmCase, contact_id: str | None) -> CrmLink:
        s = self.settings
        existing = self._find("Case", s.case_external_id_field, case.handoff_id)
        if existing is not None and existing.get("IsClosed"):
            return self._link(existing["Id"], existing.get("ContactId") or contact_id, False)
        data: dict[str, Any] = {
            "Subject": case.subject,
            "Description": case.description,
            "Priority": _PRIORITY[case.priority],
            "Origin": case.origin,
        }
        if existing is None or case.status != "new":  # a replayed "new" never moves a case back
            data["Status"] = s.statuses.get(case.status, "New")
        if contact_id and s.contact_object == "Contact":
            data["ContactId"] = contact_id
        record_id, created = self._upsert("Case", s.case_external_id_field, case.handoff_id, data)
        return self._link(record_id, contact_id, created)

    def update_case(self, update: CrmCaseUpdate) -> CrmLink:
        s = self.settings
        existing = self._find("Case", s.case_external_id_field, update.handoff_id)
        if existing is None:
            raise CrmCaseNotFound(f"salesforce has no Case {update.handoff_id} yet")
        data = {
            "Status": s.statuses.get(update.status, "Closed"),
            s.resolution_field: update.resolution_text(),
        }
        case = self._sobject("Case")
        self._call("update Case", lambda: case.update(existing["Id"], data))
        return self._link(existing["Id"], existing.get("ContactId"), False)

    def erase_customer(self, wa_id: str, handoff_ids: tuple[str, ...] = ()) -> CrmErasure:
        s = self.settings
        contact = self._find(s.contact_object, s.contact_external_id_field, wa_id)
        case_ids: list[str] = []
        for handoff_id in handoff_ids:
            found = self._find("Case", s.case_external_id_field, handoff_id)
            if found is not None:
                case_ids.append(found["Id"])
        if contact is not None and s.contact_object == "Contact":
            case_ids += self._cases_of(contact["Id"])
        unique = list(dict.fromkeys(case_ids))
        # Cases first: Salesforce refuses to delete a contact that cases still point to.
        cases = tuple(i for i in unique if self._delete("Case", i))
        contacts: tuple[str, ...] = ()
        if contact is not None and self._delete(s.contact_object, contact["Id"]):
            contacts = (str(contact["Id"]),)
        return CrmErasure(provider="salesforce", contact_ids=contacts, case_ids=cases)

    # -- simple-salesforce calls ----------------------------------------------------------------

    def _upsert(self, sobject: str, field: str, key: str, data: dict[str, Any]) -> tuple[str, bool]:
        api = self._sobject(sobject)
        path = f"{field}/{segment(key)}"
        response = self._call(
            f"upsert {sobject}", lambda: api.upsert(path, data, raw_response=True)
        )
        body = _json(response)
        if isinstance(body, dict) and body.get("id"):
            return str(body["id"]), bool(body.get("created", response.status_code == 201))
        # API versions before 46.0 answer an update with 204 and no body: read the id.
        found = self._find(sobject, field, key)
        if found is None:
            raise CrmUnavailable(f"salesforce upsert {sobject}: record not readable after upsert")
        return str(found["Id"]), response.status_code == 201

    def _find(self, sobject: str, field: str, key: str) -> dict[str, Any] | None:
        api = self._sobject(sobject)
        record = self._call(f"get {sobject}", lambda: _absent(api.get_by_custom_id, field, key))
        return dict(record) if record is not None else None

    def _cases_of(self, contact_id: str) -> list[str]:
        from simple_salesforce import format_soql

        client = self._sf()
        soql = format_soql("SELECT Id FROM Case WHERE ContactId = {}", contact_id)
        result = self._call("query Case", lambda: client.query_all(soql))
        return [str(r["Id"]) for r in result.get("records", [])]

    def _delete(self, sobject: str, record_id: str) -> bool:
        api = self._sobject(sobject)
        deleted = self._call(f"delete {sobject}", lambda: _absent(api.delete, record_id))
        return deleted is not None

    def _sobject(self, name: str) -> Any:
        return getattr(self._sf(), name)

    def _link(self, case_id: str, contact_id: str | None, created: bool) -> CrmLink:
        base = self.settings.console_url or self.settings.instance_url
        url = f"{base.rstrip('/')}/lightning/r/Case/{segment(case_id)}/view" if base else None
        return CrmLink(
            provider="salesforce",
            contact_id=contact_id,
            case_id=case_id,
            url=url,
            created=created,
        )

    def _sf(self) -> Salesforce:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._call("login", self._login)
        return self._client

    def _login(self) -> Salesforce:
        from simple_salesforce import Salesforce

        session = self._session or http_session()
        return Salesforce(
            version=self.settings.api_version, session=session, **self._auth_arguments()
        )

    def _auth_arguments(self) -> dict[str, Any]:
        c = self._credentials() if callable(self._credentials) else self._credentials
        s = self.settings
        if c.session_id is not None:
            if not s.instance_url:
                raise SecretNotSet("CRM instance_url is not set (missing, needed with session_id)")
            token = credential(c.session_id, "CRM session_id")
            return {"instance_url": s.instance_url, "session_id": token}
        if c.username is not None:
            return {
                "username": c.username,
                "password": credential(c.password, "CRM password"),
                "security_token": credential(c.security_token, "CRM security_token"),
                "domain": s.domain,
            }
        if c.consumer_key is not None:
            return {
                "consumer_key": credential(c.consumer_key, "CRM consumer_key"),
                "consumer_secret": credential(c.consumer_secret, "CRM consumer_secret"),
                "domain": s.domain,
            }
        raise SecretNotSet("CRM session_id is not set (missing; or username or consumer_key)")

    def _call(self, operation: str, call: Callable[[], T]) -> T:
        """`call()`, with simple-salesforce's and requests' errors turned into CrmErrors."""
        import requests
        from simple_salesforce import SalesforceAuthenticationFailed, SalesforceError

        try:
            return call()
        except SalesforceAuthenticationFailed as error:
            raise CrmRejected(f"salesforce {operation}: login refused: {error}") from error
        except SalesforceError as error:
            if error.status == 401:
                self._client = None  # log in again next time (a rotated secret, a new session)
            raise _salesforce_error(operation, error) from error
        except requests.RequestException as error:
            kind = "timed out" if isinstance(error, requests.Timeout) else "connection failed"
            raise CrmUnavailable(f"salesforce {operation}: {kind}") from error


def _contact_fields(contact: CrmContact, s: SalesforceSettings) -> dict[str, Any]:
    first, last = _split_name(contact.name, contact.phone or contact.wa_id)
    data: dict[str, Any] = {"LastName": last}
    if first:
        data["FirstName"] = first
    if contact.phone:
        data["MobilePhone"] = contact.phone
    if s.contact_object == "Lead":
        data["Company"] = s.lead_company
        data["LeadSource"] = "WhatsApp"
    return data


def _split_name(name: str | None, fallback: str) -> tuple[str | None, str]:
    """(FirstName, LastName): LastName is required, so a nameless customer is their number."""
    parts = (name or "").split()
    if not parts:
        return None, f"WhatsApp {fallback}"
    if len(parts) == 1:
        return None, parts[0][:80]
    return " ".join(parts[:-1])[:40], parts[-1][:80]


def _absent(call: Callable[..., Any], *args: Any) -> Any:
    """`call(*args)`, or None when Salesforce answers 404 (the record is not there)."""
    from simple_salesforce import SalesforceResourceNotFound

    try:
        return call(*args)
    except SalesforceResourceNotFound:
        return None


def _json(response: Any) -> Any:
    try:
        return response.json() if response.content else None
    except ValueError:
        return None


def _salesforce_error(operation: str, error: Any) -> CrmError:
    content = error.content
    first = content[0] if isinstance(content, list) and content else {}
    code = str(first.get("errorCode", "")) if isinstance(first, dict) else ""
    message = str(first.get("message", "")) if isinstance(first, dict) else str(content)[:200]
    reason = f"{code}: {message}" if code else message
    if code in _TRANSIENT_CODES:
        return CrmUnavailable(
            f"salesforce {operation}: {reason}",
            status=error.status,
            retry_after=_TRANSIENT_CODES[code],
        )
    status = error.status if isinstance(error.status, int) else 502
    return http_error("salesforce", operation, status, reason)
