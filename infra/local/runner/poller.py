"""Long-polling a queue from several threads, as Lambda's event source mapping does."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infra.local.runner.aws import Clients, QueueInfo, describe_queue
from infra.local.runner.logs import JsonLog

Message = dict[str, Any]
Processor = Callable[[QueueInfo, list[Message]], None]
"""Handles one received batch; it deletes what must be deleted."""

MAX_RECEIVE = 10


@dataclass(frozen=True)
class PollSettings:
    batch_size: int = 1
    window_seconds: float = 0.0
    pollers: int = 3
    wait_seconds: int = 2
    """Long-poll wait of each receive; short so that stopping is quick."""
    fifo_idle_seconds: float = 0.02
    """FIFO queues are short-polled (see `_receive`): the pause after an empty receive starts
    here and doubles with each further empty one, up to `fifo_idle_max_seconds`."""
    fifo_idle_max_seconds: float = 0.25


class QueuePoller:
    """`settings.pollers` threads receiving batches from one queue and handing them on."""

    def __init__(
        self,
        clients: Clients,
        queue: str | Callable[[], QueueInfo],
        settings: PollSettings,
        processor: Processor,
        log: JsonLog,
        label: str,
    ) -> None:
        self._clients = clients
        self._queue_ref = queue
        self.settings = settings
        self._processor = processor
        self._log = log
        self.label = label
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._queue: QueueInfo | None = None
        self._queue_lock = threading.Lock()
        self._receive_lock = threading.Lock()
        self._idle = 0.0  # the queue's current pause between empty receives (FIFO)
        self._idle_until = 0.0

    def start(self) -> None:
        for index in range(self.settings.pollers):
            thread = threading.Thread(
                target=self._loop, name=f"poll-{self.label}-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()

    def join(self, deadline: float) -> bool:
        """Wait for the threads until `deadline` (monotonic); True if they all ended."""
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in self._threads)

    def queue_info(self) -> QueueInfo | None:
        """The queue, resolved (retrying until it exists) by the first thread that needs it."""
        with self._queue_lock:
            if self._queue is None:
                self._queue = self._resolve()
            return self._queue

    def _resolve(self) -> QueueInfo | None:
        attempt = 0
        while not self._stop.is_set():
            try:
                if callable(self._queue_ref):
                    return self._queue_ref()
                return describe_queue(self._clients, self._queue_ref)
            except Exception as exc:  # the queue may not be provisioned yet
                if attempt % 10 == 0:
                    self._log.warning("queue not available yet", source=self.label, error=str(exc))
                attempt += 1
                self._stop.wait(1.0)
        return None

    def _loop(self) -> None:
        queue = self.queue_info()
        while queue is not None and not self._stop.is_set():
            try:
                batch = self._receive_batch(queue)
                if batch:
                    self._processor(queue, batch)
            except Exception as exc:  # keep polling, as Lambda does
                self._log.error("poll error", source=self.label, error=repr(exc))
                self._stop.wait(1.0)

    def _receive_batch(self, queue: QueueInfo) -> list[Message]:
        settings = self.settings
        batch = self._receive(queue, settings.wait_seconds, settings.batch_size)
        window = 0.0 if queue.fifo else settings.window_seconds
        if not batch or window <= 0:
            return batch
        deadline = time.monotonic() + window
        while len(batch) < settings.batch_size and not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            wait = min(int(remaining), settings.wait_seconds)
            more = self._receive(queue, wait, settings.batch_size - len(batch))
            batch.extend(more)
            if not more and wait == 0:
                self._stop.wait(min(remaining, 0.2))
        return batch

    def _receive(self, queue: QueueInfo, wait: int, wanted: int) -> list[Message]:
        if not queue.fifo:
            return self._receive_now(queue, wait, wanted)
        # moto 5.2.5 works out the blocked message groups once per receive call, so a long poll
        # started while groups were in flight keeps ignoring them for its whole wait (and spins).
        # FIFO queues are therefore short-polled, one receive at a time (moto's receive is not
        # atomic: concurrent receives could hand out two messages of one group).
        # The pause is shared by the queue's pollers: an idle queue costs a few receives a
        # second (each one is work for the emulator), a busy one is received from without pause.
        with self._receive_lock:
            pause = self._idle_until - time.monotonic()
            if pause > 0:
                self._stop.wait(pause)
            messages = self._receive_now(queue, 0, wanted)
            if messages:
                self._idle = 0.0
            else:
                settings = self.settings
                self._idle = min(
                    settings.fifo_idle_max_seconds, max(settings.fifo_idle_seconds, self._idle * 2)
                )
            self._idle_until = time.monotonic() + self._idle
        return messages

    def _receive_now(self, queue: QueueInfo, wait: int, wanted: int) -> list[Message]:
        sqs = self._clients.get("sqs", queue.region)
        response = sqs.receive_message(
            QueueUrl=queue.url,
            MaxNumberOfMessages=max(1, min(MAX_RECEIVE, wanted)),
            WaitTimeSeconds=max(0, wait),
            AttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(response.get("Messages", []))


def delete_messages(clients: Clients, queue: QueueInfo, messages: list[Message]) -> list[str]:
    """Delete messages in batches of 10; returns the ids that could not be deleted."""
    sqs = clients.get("sqs", queue.region)
    failed: list[str] = []
    for start in range(0, len(messages), MAX_RECEIVE):
        chunk = messages[start : start + MAX_RECEIVE]
        entries = [
            {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
            for index, message in enumerate(chunk)
        ]
        response = sqs.delete_message_batch(QueueUrl=queue.url, Entries=entries)
        failed += [chunk[int(error["Id"])]["MessageId"] for error in response.get("Failed", [])]
    return failed
