"""In-memory versions of what the sender needs of DynamoDB and SNS (tests, benchmarks, local
experiments): the same behaviour as WaMessagesStore's outbound part and TopicPublisher."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from chalicelib.store import Contact, OutboxEntry

if TYPE_CHECKING:
    from parley.events import EventBase


class InMemoryOutboundStore:
    """Contacts and request → message id tracking, thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.contacts: dict[tuple[str, str], Contact] = {}
        self.sent: dict[str, str] = {}
        self.attempts: dict[str, float] = {}  # the outbox: request id -> attempt time (sending)
        self.tracked: dict[str, dict[str, str]] = {}

    def add_contact(
        self, phone_number_id: str, wa_id: str, *, last_inbound_at: float | None = None
    ) -> None:
        at = time.time() if last_inbound_at is None else last_inbound_at
        with self._lock:
            self.contacts[(phone_number_id, wa_id)] = Contact(
                phone_number_id, wa_id, at, None, False
            )

    def get_contact(self, phone_number_id: str, wa_id: str) -> Contact | None:
        with self._lock:
            return self.contacts.get((phone_number_id, wa_id))

    def sent_wamid(self, request_id: str) -> str | None:
        with self._lock:
            return self.sent.get(request_id)

    def begin_send(self, request_id: str) -> OutboxEntry | None:
        with self._lock:
            if request_id in self.sent:
                return OutboxEntry("sent", self.sent[request_id], self.attempts.get(request_id, 0))
            if request_id in self.attempts:
                return OutboxEntry("sending", None, self.attempts[request_id])
            self.attempts[request_id] = time.time()
            return None

    def retake_send(self, request_id: str, attempt_at: float) -> bool:
        with self._lock:
            if request_id in self.sent or self.attempts.get(request_id) != attempt_at:
                return False
            self.attempts[request_id] = time.time()
            return True

    def abandon_send(self, request_id: str) -> None:
        with self._lock:
            if request_id not in self.sent:
                self.attempts.pop(request_id, None)

    def track_outbound(
        self, request_id: str, wamid: str, conversation: str, kind: str, wa_id: str
    ) -> None:
        with self._lock:
            self.sent[request_id] = wamid
            self.tracked[wamid] = {
                "request_id": request_id,
                "conversation": conversation,
                "kind": kind,
                "status": "accepted",
            }


class InMemoryStatusPublisher:
    """Keeps the published events in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.events: list[EventBase] = []

    def publish(self, event: EventBase) -> str:
        with self._lock:
            self.events.append(event)
            return event.event_id
