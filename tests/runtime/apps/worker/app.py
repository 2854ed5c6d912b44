"""Test app: SQS handlers, each registered only when its queue variable is set."""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from typing import Any

from chalice import Chalice
from chalice.app import SQSEvent

app = Chalice(app_name="rt-worker")


class Recorder:
    """What the handlers saw, for the tests to inspect."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.attempts: Counter[str] = Counter()
        self.successes: Counter[str] = Counter()
        self.batches: list[list[str]] = []
        self.events: list[dict[str, Any]] = []
        self.contexts: list[dict[str, Any]] = []
        self.spans: list[tuple[str, int, float, float]] = []  # group, seq, start, end


STATE = Recorder()


def _record_batch(event: SQSEvent) -> list[dict[str, Any]]:
    raw = event.to_dict()
    context = event.context
    with STATE.lock:
        STATE.events.append(raw)
        STATE.batches.append([json.loads(r["body"])["id"] for r in raw["Records"]])
        STATE.contexts.append(
            {
                "function_name": context.function_name,
                "memory_limit_in_mb": context.memory_limit_in_mb,
                "aws_request_id": context.aws_request_id,
                "remaining_ms": context.get_remaining_time_in_millis(),
            }
        )
    return list(raw["Records"])


def _process(record: dict[str, Any]) -> bool:
    """Runs one message; it fails while its attempt number is <= its `fail_times`."""
    body = json.loads(record["body"])
    with STATE.lock:
        STATE.attempts[body["id"]] += 1
        attempt = STATE.attempts[body["id"]]
    start = time.monotonic()
    time.sleep(body.get("sleep", 0))
    ok = attempt > body.get("fail_times", 0)
    if ok:
        with STATE.lock:
            STATE.successes[body["id"]] += 1
            STATE.spans.append((body.get("group", ""), body.get("seq", 0), start, time.monotonic()))
    return ok


def _partial_batch(event: SQSEvent) -> dict[str, Any]:
    """The FIFO-safe pattern: after a failure, the rest of that group is reported failed too."""
    failures = []
    failed_groups: set[str] = set()
    for record in _record_batch(event):
        group = record["attributes"].get("MessageGroupId")
        if group in failed_groups or not _process(record):
            failures.append({"itemIdentifier": record["messageId"]})
            if group is not None:
                failed_groups.add(group)
    return {"batchItemFailures": failures}


if os.environ.get("RT_BATCH_QUEUE"):

    @app.on_sqs_message(
        queue=os.environ["RT_BATCH_QUEUE"], batch_size=3, maximum_batching_window_in_seconds=1
    )
    def batch_worker(event: SQSEvent) -> dict[str, Any]:
        return _partial_batch(event)


if os.environ.get("RT_FIFO_QUEUE"):

    @app.on_sqs_message(queue=os.environ["RT_FIFO_QUEUE"], batch_size=3)
    def fifo_worker(event: SQSEvent) -> dict[str, Any]:
        return _partial_batch(event)


if os.environ.get("RT_POISON_QUEUE"):

    @app.on_sqs_message(queue=os.environ["RT_POISON_QUEUE"], batch_size=1)
    def poison_worker(event: SQSEvent) -> None:
        for record in _record_batch(event):
            _process(record)
            raise ValueError(f"poison message {json.loads(record['body'])['id']}")


if os.environ.get("RT_SLOW_QUEUE"):

    @app.on_sqs_message(queue=os.environ["RT_SLOW_QUEUE"], batch_size=2)
    def slow_worker(event: SQSEvent) -> dict[str, Any]:
        return _partial_batch(event)


if os.environ.get("RT_EVENTS_QUEUE"):

    @app.on_sqs_message(queue=os.environ["RT_EVENTS_QUEUE"], batch_size=10)
    def events_worker(event: SQSEvent) -> dict[str, Any]:
        return _partial_batch(event)
