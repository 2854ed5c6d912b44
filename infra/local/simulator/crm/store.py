"""State of the fake CRMs: records, the webhook receiver's dedupe, request counts and faults."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from flask import Response, current_app
from pydantic import BaseModel, Field

Json = dict[str, Any]
Target = Literal["salesforce", "hubspot", "webhook"]
TARGETS: tuple[Target, ...] = ("salesforce", "hubspot", "webhook")
_SECRETS_FILE = Path(__file__).resolve().parents[2] / "dev_secrets.json"


def _dev_crm_secret(name: str) -> str:
    data: Json = json.loads(_SECRETS_FILE.read_text(encoding="utf-8"))
    return str(data["crm"][name])


@dataclass
class CrmSimConfig:
    """Credentials the fakes accept. The webhook receiver checks signatures with the local CRM
    secret's `signing_secret` (`dev_secrets.json`), as the escalation service signs with it."""

    signing_secret: str = field(default_factory=lambda: _dev_crm_secret("signing_secret"))
    salesforce_session_id: str = "00Dlocal!local-salesforce-session-id"
    hubspot_token: str = "pat-local-hubspot-private-app-token"


class CrmFault(BaseModel):
    """Body of `POST /_crm/faults`: the next `fail_next` calls to `target` (or every call while
    `down`, until `DELETE /_crm/faults`) are answered `status`, with `Retry-After` if set."""

    target: Literal["salesforce", "hubspot", "webhook", "all"] = "all"
    status: int = Field(default=503, ge=400, le=599)
    fail_next: int = Field(default=1, ge=0)
    down: bool = False
    retry_after: int | None = Field(default=None, ge=0)


class CrmSimState:
    def __init__(self, config: CrmSimConfig) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.salesforce: dict[str, dict[str, Json]] = {"Contact": {}, "Lead": {}, "Case": {}}
            self.hubspot: dict[str, dict[str, Json]] = {"contacts": {}, "tickets": {}}
            self.associations: set[tuple[str, str]] = set()  # (ticket id, contact id)
            self.webhook_contacts: dict[str, Json] = {}  # by wa_id
            self.webhook_cases: dict[str, Json] = {}  # by handoff_id
            self.webhook_events: dict[str, Json] = {}  # event id → the answer given
            self.webhook_duplicates = 0
            self.webhook_refused = 0
            self.requests: Counter[str] = Counter()
            self.faulted: Counter[str] = Counter()
            self.faults: list[CrmFault] = []
            self._ids: Counter[str] = Counter()

    def next_id(self, kind: str) -> int:
        with self.lock:
            self._ids[kind] += 1
            return self._ids[kind]

    def take_fault(self, target: Target) -> CrmFault | None:
        """Count a call to `target`; the fault that answers it, if any."""
        with self.lock:
            self.requests[target] += 1
            for fault in self.faults:
                if fault.target not in ("all", target):
                    continue
                if fault.down:
                    self.faulted[target] += 1
                    return fault
                if fault.fail_next > 0:
                    fault.fail_next -= 1
                    self.faulted[target] += 1
                    return fault
        return None

    def snapshot(self) -> Json:
        with self.lock:
            return {
                "salesforce": {k: list(v.values()) for k, v in self.salesforce.items()},
                "hubspot": {
                    **{k: list(v.values()) for k, v in self.hubspot.items()},
                    "associations": [
                        {"ticket": t, "contact": c} for t, c in sorted(self.associations)
                    ],
                },
                "webhook": {
                    "contacts": list(self.webhook_contacts.values()),
                    "cases": list(self.webhook_cases.values()),
                    "events": len(self.webhook_events),
                    "duplicates": self.webhook_duplicates,
                    "refused": self.webhook_refused,
                },
                "requests": {t: self.requests[t] for t in TARGETS},
                "faulted": {t: self.faulted[t] for t in TARGETS},
                "faults": [f.model_dump() for f in self.faults if f.down or f.fail_next > 0],
            }


def state() -> CrmSimState:
    found: CrmSimState = current_app.extensions["sim_crm"]
    return found


def fault_check(
    target: Target, answer: Callable[[int, str], tuple[Response, int]]
) -> tuple[Response, int] | None:
    """For a blueprint's before-request hook: count the call to `target`, and answer an injected
    fault (in that CRM's error format) instead of it."""
    fault = state().take_fault(target)
    if fault is None:
        return None
    response, status = answer(fault.status, "fault injected by the simulator")
    if fault.retry_after is not None:
        response.headers["Retry-After"] = str(fault.retry_after)
    return response, status
