"""In-memory state of the simulator: recorded requests, media, faults, the chat and SSE fan-out."""

from __future__ import annotations

import hashlib
import itertools
import queue
import secrets
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

Json = dict[str, Any]


def new_wamid() -> str:
    return "wamid.HBgL" + secrets.token_urlsafe(30).replace("-", "A").replace("_", "B")


def new_media_id() -> str:
    return str(secrets.randbelow(9 * 10**15) + 10**15)


@dataclass
class Media:
    id: str
    data: bytes
    mime_type: str
    filename: str | None = None
    sha256: str = ""
    uploaded_by: str = "business"

    def __post_init__(self) -> None:
        self.sha256 = hashlib.sha256(self.data).hexdigest()

    @property
    def file_size(self) -> int:
        return len(self.data)


class FaultSpec(BaseModel):
    """Body of `POST /_sim/faults`."""

    recipient: str | None = None  # wa_id, or None for every recipient
    code: int | None = None
    http_status: int | None = None
    times: int | None = Field(default=1, ge=1)  # None: until deleted
    delivery: Literal["sync", "async"] = "sync"
    details: str | None = None


@dataclass
class Fault:
    id: str
    spec: FaultSpec
    remaining: int | None
    triggered: int = 0

    def as_json(self) -> Json:
        return {
            "id": self.id,
            **self.spec.model_dump(),
            "remaining": self.remaining,
            "triggered": self.triggered,
        }


@dataclass
class ChatEntry:
    """One bubble of the chat: `in` = customer -> business, `out` = business -> customer."""

    wamid: str
    direction: Literal["in", "out"]
    wa_id: str
    kind: str
    payload: Json
    timestamp: float = field(default_factory=time.time)
    status: str = "sent"
    webhook: Json | None = None
    reaction: str | None = None
    seen: bool = False

    def as_json(self) -> Json:
        return asdict(self)


class Broker:
    """Server-Sent Events fan-out: each subscriber has its own queue."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[queue.Queue[Json | None]] = []

    def subscribe(self) -> queue.Queue[Json | None]:
        q: queue.Queue[Json | None] = queue.Queue()
        with self._lock:
            self._subscribers.append(q)
        return q

    def unsubscribe(self, q: queue.Queue[Json | None]) -> None:
        with self._lock:
            if q in self._subscribers:
                self._subscribers.remove(q)

    @property
    def count(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def publish(self, event: str, data: Json) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for q in subscribers:
            q.put({"event": event, "data": data})

    def close_all(self) -> None:
        with self._lock:
            subscribers, self._subscribers = self._subscribers, []
        for q in subscribers:
            q.put(None)


class State:
    """All mutable simulator state behind one lock."""

    def __init__(self, max_requests: int = 5000) -> None:
        self.lock = threading.RLock()
        self.broker = Broker()
        self.max_requests = max_requests
        self._ids = itertools.count(1)
        self.requests: list[Json] = []
        self.webhooks: list[Json] = []
        self.media: dict[str, Media] = {}
        self.faults: list[Fault] = []
        self.chat: list[ChatEntry] = []
        self.by_wamid: dict[str, ChatEntry] = {}
        self.typing_until: dict[str, float] = {}

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.webhooks.clear()
            self.media.clear()
            self.faults.clear()
            self.chat.clear()
            self.by_wamid.clear()
            self.typing_until.clear()
        self.broker.publish("reset", {})

    # requests ---------------------------------------------------------------------------
    def record_request(self, entry: Json) -> None:
        with self.lock:
            entry["seq"] = next(self._ids)
            self.requests.append(entry)
            del self.requests[: -self.max_requests]

    def find_requests(self, to: str | None = None, kind: str | None = None) -> list[Json]:
        with self.lock:
            found = list(self.requests)
        if to is not None:
            found = [r for r in found if r.get("to") in (to, to.lstrip("+"))]
        if kind is not None:
            found = [r for r in found if r.get("kind") == kind]
        return found

    def record_webhook(self, entry: Json) -> None:
        with self.lock:
            self.webhooks.append(entry)
            del self.webhooks[: -self.max_requests]

    # media ------------------------------------------------------------------------------
    def add_media(self, data: bytes, mime_type: str, filename: str | None, by: str) -> Media:
        media = Media(new_media_id(), data, mime_type, filename, uploaded_by=by)
        with self.lock:
            self.media[media.id] = media
        return media

    def get_media(self, media_id: str) -> Media | None:
        with self.lock:
            return self.media.get(media_id)

    def delete_media(self, media_id: str) -> bool:
        with self.lock:
            return self.media.pop(media_id, None) is not None

    # faults -----------------------------------------------------------------------------
    def add_fault(self, spec: FaultSpec) -> Fault:
        fault = Fault(f"fault-{next(self._ids)}", spec, spec.times)
        with self.lock:
            self.faults.append(fault)
        return fault

    def take_fault(self, wa_id: str) -> Fault | None:
        """The first active fault for this recipient, consuming one use of it."""
        with self.lock:
            for fault in self.faults:
                if fault.spec.recipient not in (None, wa_id):
                    continue
                if fault.remaining is not None:
                    if fault.remaining <= 0:
                        continue
                    fault.remaining -= 1
                fault.triggered += 1
                return fault
        return None

    def list_faults(self) -> list[Json]:
        with self.lock:
            return [f.as_json() for f in self.faults]

    def delete_faults(self, fault_id: str | None = None) -> int:
        with self.lock:
            before = len(self.faults)
            self.faults = [f for f in self.faults if fault_id not in (None, f.id)]
            return before - len(self.faults)

    # chat -------------------------------------------------------------------------------
    def add_chat(self, entry: ChatEntry) -> None:
        with self.lock:
            self.chat.append(entry)
            self.by_wamid[entry.wamid] = entry
        self.broker.publish("message", entry.as_json())

    def chat_entry(self, wamid: str) -> ChatEntry | None:
        with self.lock:
            return self.by_wamid.get(wamid)

    def chat_for(self, wa_id: str | None) -> list[Json]:
        with self.lock:
            return [e.as_json() for e in self.chat if wa_id in (None, e.wa_id)]

    def update_chat(self, entry: ChatEntry, **changes: Any) -> None:
        with self.lock:
            for key, value in changes.items():
                setattr(entry, key, value)
            data = entry.as_json()
        self.broker.publish("update", data)

    def mark_customer_read(self, wamid: str) -> list[str]:
        """Mark a customer message and every earlier one of that chat read (like WhatsApp)."""
        with self.lock:
            target = self.by_wamid.get(wamid)
            if target is None or target.direction != "in":
                return []
            changed = []
            for entry in self.chat:
                same_chat = entry.wa_id == target.wa_id and entry.direction == "in"
                if same_chat and entry.status != "read" and entry.timestamp <= target.timestamp:
                    entry.status = "read"
                    changed.append(entry)
            payloads = [e.as_json() for e in changed]
        for data in payloads:
            self.broker.publish("update", data)
        return [e.wamid for e in changed]

    def set_typing(self, wa_id: str, seconds: float) -> None:
        with self.lock:
            if seconds > 0:
                self.typing_until[wa_id] = time.time() + seconds
            else:
                self.typing_until.pop(wa_id, None)
        self.broker.publish("typing", {"wa_id": wa_id, "active": seconds > 0, "seconds": seconds})

    def typing_left(self, wa_id: str) -> float:
        with self.lock:
            return max(0.0, self.typing_until.get(wa_id, 0.0) - time.time())
