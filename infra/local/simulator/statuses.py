"""Status webhooks for business messages: sent -> delivered -> read, or failed (reference §1.7)."""

from __future__ import annotations

import contextlib
import functools
import heapq
import itertools
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from .config import SimConfig
from .errors import async_error
from .store import ChatEntry, Fault, State
from .webhooks import deliver, now_ts, status_payload

Json = dict[str, Any]
_ORDER = {"accepted": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}


class Scheduler:
    """One worker thread running jobs in due-time order (so statuses stay ordered)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[[], object]]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="sim-statuses", daemon=True)
        self._thread.start()

    def call_later(self, delay: float, job: Callable[[], object]) -> None:
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + delay, next(self._seq), job))
            self._cond.notify()

    def clear(self) -> None:
        with self._cond:
            self._heap.clear()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        self._thread.join(timeout=5)

    def _next_job(self) -> Callable[[], object] | None:
        with self._cond:
            while not self._stopped:
                if self._heap and self._heap[0][0] <= time.monotonic():
                    return heapq.heappop(self._heap)[2]
                timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                self._cond.wait(timeout)
        return None

    def _run(self) -> None:
        while (job := self._next_job()) is not None:
            with contextlib.suppress(Exception):  # a failing job must not kill the worker
                job()


class StatusEngine:
    """Decides when each status webhook of a business message is sent."""

    def __init__(self, config: SimConfig, state: State, scheduler: Scheduler) -> None:
        self.config = config
        self.state = state
        self.scheduler = scheduler
        self._conversations: dict[str, str] = {}

    def accepted(self, entry: ChatEntry, fault: Fault | None) -> None:
        cfg = self.config
        if fault is not None:
            code = fault.spec.code or 131000
            self.scheduler.call_later(cfg.sent_delay, lambda: self._failed(entry, code, fault))
            return
        self.scheduler.call_later(cfg.sent_delay, lambda: self._emit(entry, "sent"))
        delay = cfg.sent_delay + cfg.delivered_delay
        self.scheduler.call_later(delay, lambda: self._delivered(entry))

    def seen(self, wamids: list[str]) -> None:
        """The chat page has shown these business messages."""
        for wamid in wamids:
            entry = self.state.chat_entry(wamid)
            if entry is None or entry.direction != "out" or entry.seen:
                continue
            self.state.update_chat(entry, seen=True)
            if entry.status == "delivered":
                self.scheduler.call_later(0, functools.partial(self._emit, entry, "read"))

    def customer_replied(self, wa_id: str) -> None:
        """Replying reads everything the business sent before."""
        wamids = [e["wamid"] for e in self.state.chat_for(wa_id) if e["direction"] == "out"]
        self.seen(wamids)

    def _delivered(self, entry: ChatEntry) -> None:
        if not self._emit(entry, "delivered"):
            return
        if entry.seen:
            self.scheduler.call_later(0, lambda: self._emit(entry, "read"))
        elif self.state.broker.count == 0 and self.config.auto_read_delay is not None:
            self.scheduler.call_later(self.config.auto_read_delay, lambda: self._auto_read(entry))

    def _auto_read(self, entry: ChatEntry) -> None:
        if not entry.seen:
            self.state.update_chat(entry, seen=True)
            self._emit(entry, "read")

    def _emit(self, entry: ChatEntry, status: str, errors: list[Json] | None = None) -> bool:
        if _ORDER[entry.status] >= _ORDER[status] or entry.status == "failed":
            return False
        if self.state.chat_entry(entry.wamid) is not entry:  # reset in between
            return False
        self.state.update_chat(entry, status=status)
        body = self._status_object(entry, status, errors)
        deliver(self.config, self.state, status_payload(self.config, body), f"status:{status}")
        return True

    def _failed(self, entry: ChatEntry, code: int, fault: Fault) -> None:
        self._emit(entry, "failed", [async_error(code, fault.spec.details)])

    def _status_object(self, entry: ChatEntry, status: str, errors: list[Json] | None) -> Json:
        body: Json = {
            "id": entry.wamid,
            "status": status,
            "timestamp": now_ts(),
            "recipient_id": entry.wa_id,
        }
        if status in ("sent", "delivered"):
            body.update(self._billing(entry, first=status == "sent"))
        if errors:
            body["errors"] = errors
        opaque = entry.payload.get("biz_opaque_callback_data")
        if opaque is not None:
            body["biz_opaque_callback_data"] = opaque
        return body

    def _billing(self, entry: ChatEntry, first: bool) -> Json:
        category = "utility" if entry.kind == "template" else "service"
        conversation_id = self._conversations.setdefault(entry.wa_id, secrets.token_hex(16))
        conversation: Json = {"id": conversation_id, "origin": {"type": category}}
        if first:
            conversation["expiration_timestamp"] = str(int(time.time()) + 24 * 3600)
        pricing = {
            "billable": category != "service",
            "pricing_model": "PMP",
            "category": category,
            "type": "regular" if category != "service" else "free_customer_service",
        }
        return {"conversation": conversation, "pricing": pricing}
