"""Helpers for the runner tests: AWS clients on the moto server, log capture, bounded waits."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # `infra` lives at the repository root

from infra.local.runner import RunnerOptions, ServiceRunner  # noqa: E402

APPS = Path(__file__).parent / "apps"
STAGE = "test"


def wait_until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll `predicate` until it returns a truthy value; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class LogCapture:
    """A thread-safe text stream that keeps the runner's JSON log lines."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lines: list[str] = []

    def write(self, text: str) -> int:
        with self._lock:
            self._lines.extend(line for line in text.splitlines() if line)
        return len(text)

    def flush(self) -> None:
        pass

    def records(self, msg: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            lines = list(self._lines)
        records = [json.loads(line) for line in lines]
        return [r for r in records if msg is None or r["msg"] == msg]


class Aws:
    """boto3 clients on the moto server and queue helpers."""

    def __init__(self) -> None:
        self.sqs = boto3.client("sqs")
        self.sns = boto3.client("sns")
        self.s3 = boto3.client("s3")

    def queue(
        self, name: str, visibility: int = 1, max_receive: int | None = None
    ) -> tuple[str, str]:
        """Create a queue (and its DLQ when max_receive is given); returns (url, dlq url)."""
        fifo = name.endswith(".fifo")
        attrs = {"VisibilityTimeout": str(visibility)}
        if fifo:
            attrs["FifoQueue"] = "true"
        dlq_url = ""
        if max_receive is not None:
            dlq_name = name.replace(".fifo", "") + "-dlq" + (".fifo" if fifo else "")
            dlq_url = self.sqs.create_queue(
                QueueName=dlq_name, Attributes={"FifoQueue": "true"} if fifo else {}
            )["QueueUrl"]
            dlq_arn = self.arn(dlq_url)
            policy = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive}
            attrs["RedrivePolicy"] = json.dumps(policy)
        url = self.sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
        return url, dlq_url

    def arn(self, url: str) -> str:
        attrs = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return str(attrs["Attributes"]["QueueArn"])

    def counts(self, url: str) -> tuple[int, int]:
        """(visible, in flight) messages of a queue."""
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return (
            int(attrs["ApproximateNumberOfMessages"]),
            int(attrs["ApproximateNumberOfMessagesNotVisible"]),
        )

    def drain(self, url: str) -> list[dict[str, Any]]:
        """Receive every visible message (without deleting)."""
        messages: list[dict[str, Any]] = []
        while True:
            got = self.sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=30,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not got:
                return messages
            messages += got


RunService = Callable[..., tuple[ServiceRunner, LogCapture]]


def new_runner(app: str, capture: LogCapture, **options: Any) -> ServiceRunner:
    opts = RunnerOptions(**{"pollers": 3, "poll_wait_seconds": 1, **options})
    return ServiceRunner(APPS / app, STAGE, None, opts, log_stream=capture)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
