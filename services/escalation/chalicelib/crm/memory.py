"""`InMemoryCrm` (a fake for tests, kept honest by the contract tests that run the same suite on
it and on the real adapters) and `NullCrm` (provider `none`: a business without a CRM)."""

from __future__ import annotations

import threading
from typing import Literal

from parley.crm import (
    CrmCase,
    CrmCaseNotFound,
    CrmCaseUpdate,
    CrmContact,
    CrmErasure,
    CrmError,
    CrmLink,
)


class InMemoryCrm:
    """Contacts by wa_id, cases by handoff_id. `fail_next(error, times)` makes the next calls
    raise `error` (e.g. `CrmUnavailable`), to test retries without a network."""

    provider: Literal["memory"] = "memory"

    def __init__(self) -> None:
        self.contacts: dict[str, dict[str, object]] = {}
        self.cases: dict[str, dict[str, object]] = {}
        self.calls = 0
        self._faults: list[CrmError] = []
        self._lock = threading.Lock()

    def fail_next(self, error: CrmError, times: int = 1) -> None:
        with self._lock:
            self._faults.extend([error] * times)

    def upsert_contact(self, contact: CrmContact) -> str:
        self._enter()
        with self._lock:
            record = self.contacts.setdefault(contact.wa_id, {"id": f"C{len(self.contacts) + 1}"})
            record.update(contact.model_dump(exclude_none=True))
            return str(record["id"])

    def upsert_case(self, case: CrmCase, contact_id: str | None) -> CrmLink:
        self._enter()
        with self._lock:
            record = self.cases.get(case.handoff_id)
            created = record is None
            if record is None:
                record = {"id": f"K{len(self.cases) + 1}", "status": case.status}
                self.cases[case.handoff_id] = record
            elif record["status"] not in ("resolved", "expired") and case.status != "new":
                record["status"] = case.status
            fields = case.model_dump(exclude={"status"})
            if record["status"] in ("resolved", "expired"):
                fields = {}
            record.update(fields, contact_id=contact_id or record.get("contact_id"))
            return CrmLink(
                provider="memory",
                contact_id=contact_id,
                case_id=str(record["id"]),
                created=created,
            )

    def update_case(self, update: CrmCaseUpdate) -> CrmLink:
        self._enter()
        with self._lock:
            record = self.cases.get(update.handoff_id)
            if record is None:
                raise CrmCaseNotFound(f"no case {update.handoff_id}")
            record.update(status=update.status, resolution=update.resolution_text())
            contact = record.get("contact_id")
            return CrmLink(
                provider="memory",
                contact_id=str(contact) if contact else None,
                case_id=str(record["id"]),
                created=False,
            )

    def erase_customer(self, wa_id: str, handoff_ids: tuple[str, ...] = ()) -> CrmErasure:
        self._enter()
        with self._lock:
            contact = self.contacts.pop(wa_id, None)
            contact_id = contact["id"] if contact else None
            keys = [
                key
                for key, case in self.cases.items()
                if key in handoff_ids or (contact_id and case.get("contact_id") == contact_id)
            ]
            cases = tuple(str(self.cases.pop(key)["id"]) for key in keys)
            return CrmErasure(
                provider="memory",
                contact_ids=(str(contact_id),) if contact_id else (),
                case_ids=cases,
            )

    def _enter(self) -> None:
        with self._lock:
            self.calls += 1
            fault = self._faults.pop(0) if self._faults else None
        if fault is not None:
            raise fault


class NullCrm:
    """No CRM configured for the business: nothing is sent, nothing fails."""

    provider: Literal["none"] = "none"

    def upsert_contact(self, contact: CrmContact) -> str:
        return contact.wa_id

    def upsert_case(self, case: CrmCase, contact_id: str | None) -> CrmLink:
        return CrmLink(provider="none", contact_id=contact_id)

    def update_case(self, update: CrmCaseUpdate) -> CrmLink:
        return CrmLink(provider="none")

    def erase_customer(self, wa_id: str, handoff_ids: tuple[str, ...] = ()) -> CrmErasure:
        return CrmErasure(provider="none", note="no CRM is configured for this business")
