"""Test app: handlers that go through parley's real `process_sqs_batch` and `process_sns_event`.

A message body is `{"id": ..., "fail_times": n, "invalid": bool}`: it fails with a retryable error
while its attempt number is <= `fail_times`, and with a permanent one when `invalid`.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from typing import Any

from chalice import Chalice
from chalice.app import SNSEvent, SQSEvent

from parley.batch import process_sns_event, process_sqs_batch
from parley.errors import DependencyError, InvalidInput

app = Chalice(app_name="rt-parley")
SERVICE = "rt-parley"


class Recorder:
    """What the handlers saw, for the tests to inspect."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.attempts: Counter[str] = Counter()
        self.successes: Counter[str] = Counter()
        self.done: list[str] = []  # ids in the order they succeeded
        self.batches: list[list[str]] = []


STATE = Recorder()


def run(body: dict[str, Any]) -> None:
    with STATE.lock:
        STATE.attempts[body["id"]] += 1
        attempt = STATE.attempts[body["id"]]
    if body.get("invalid"):
        raise InvalidInput(f"{body['id']} can never be processed")
    if attempt <= body.get("fail_times", 0):
        raise DependencyError(f"{body['id']} failed on attempt {attempt}")
    with STATE.lock:
        STATE.successes[body["id"]] += 1
        STATE.done.append(body["id"])


def run_record(record: Any) -> None:
    run(json.loads(record.body))


def consume(event: SQSEvent) -> dict[str, Any]:
    raw = event.to_dict()
    with STATE.lock:
        STATE.batches.append([json.loads(r["body"])["id"] for r in raw["Records"]])
    return process_sqs_batch(raw, run_record, service=SERVICE, context=event.context)


if os.environ.get("RT_PARLEY_QUEUE"):

    @app.on_sqs_message(
        queue=os.environ["RT_PARLEY_QUEUE"], batch_size=10, maximum_batching_window_in_seconds=1
    )
    def parley_worker(event: SQSEvent) -> dict[str, Any]:
        return consume(event)


if os.environ.get("RT_PARLEY_FIFO_QUEUE"):

    @app.on_sqs_message(queue=os.environ["RT_PARLEY_FIFO_QUEUE"], batch_size=10)
    def parley_fifo_worker(event: SQSEvent) -> dict[str, Any]:
        return consume(event)


if os.environ.get("RT_PARLEY_TOPIC"):

    @app.on_sns_message(topic=os.environ["RT_PARLEY_TOPIC"])
    def parley_notified(event: SNSEvent) -> None:
        process_sns_event(event.to_dict(), lambda m: run(json.loads(m)), service=SERVICE)
