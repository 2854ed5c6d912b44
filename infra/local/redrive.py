"""Move every message of a queue's dead-letter queue back to the queue.

    python -m infra.local.redrive --queue turns [--stage local] [--prefix parley]

`--queue` is a logical name (`turns`, `kb-events`, see parley.resources) or a physical queue name.
The DLQ is the queue's RedrivePolicy target (or `<queue>-dlq` by naming rule). FIFO messages keep
their MessageGroupId and get a new deduplication id. Works against moto and AWS alike.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Sequence
from typing import Any

from infra.local.runner.aws import Clients, arn_parts
from parley.resources import KB_EVENTS_QUEUE, QUEUES, ResourceNames

BATCH = 10


def physical_names(queue: str, stage: str, prefix: str) -> tuple[str, str]:
    """(queue, dlq) physical names for a logical or physical queue name."""
    names = ResourceNames(stage=stage, prefix=prefix)
    if queue in QUEUES or queue == KB_EVENTS_QUEUE:
        return names.queue(queue), names.dlq(queue)
    if queue.endswith(".fifo"):
        return queue, f"{queue[: -len('.fifo')]}-dlq.fifo"
    return queue, f"{queue}-dlq"


def dlq_name(sqs: Any, queue_url: str, fallback: str) -> str:
    attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"])
    policy = json.loads(attrs.get("Attributes", {}).get("RedrivePolicy") or "{}")
    target = policy.get("deadLetterTargetArn")
    return arn_parts(target)[2] if target else fallback


def _resend_entry(index: int, message: dict[str, Any], fifo: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"Id": str(index), "MessageBody": message["Body"]}
    if message.get("MessageAttributes"):
        entry["MessageAttributes"] = message["MessageAttributes"]
    if fifo:
        entry["MessageGroupId"] = message["Attributes"]["MessageGroupId"]
        entry["MessageDeduplicationId"] = uuid.uuid4().hex
    return entry


def _move_batch(sqs: Any, source: str, target: str, messages: list[dict[str, Any]]) -> int:
    """Send then delete one received batch; returns how many moved."""
    fifo = target.endswith(".fifo")
    entries = [_resend_entry(i, message, fifo) for i, message in enumerate(messages)]
    sent = sqs.send_message_batch(QueueUrl=target, Entries=entries)
    ok_ids = {item["Id"] for item in sent.get("Successful", [])}
    for failure in sent.get("Failed", []):
        print(f"not moved: {failure.get('Code')}: {failure.get('Message')}", file=sys.stderr)
    to_delete = [
        {"Id": str(i), "ReceiptHandle": message["ReceiptHandle"]}
        for i, message in enumerate(messages)
        if str(i) in ok_ids
    ]
    if to_delete:
        sqs.delete_message_batch(QueueUrl=source, Entries=to_delete)
    return len(to_delete)


def redrive(sqs: Any, queue_name: str, fallback_dlq: str) -> tuple[int, str]:
    """Move all messages from the queue's DLQ to it; returns (moved, dlq name)."""
    queue_url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    dlq = dlq_name(sqs, queue_url, fallback_dlq)
    dlq_url = sqs.get_queue_url(QueueName=dlq)["QueueUrl"]
    moved = 0
    while True:
        response = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=BATCH,
            WaitTimeSeconds=1,
            VisibilityTimeout=60,
            AttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return moved, dlq
        moved += _move_batch(sqs, dlq_url, queue_url, messages)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local.redrive", description=__doc__)
    parser.add_argument("--queue", required=True, help="logical (turns) or physical queue name")
    parser.add_argument("--stage", default="local")
    parser.add_argument("--prefix", default="parley")
    args = parser.parse_args(argv)
    queue, fallback = physical_names(args.queue, args.stage, args.prefix)
    moved, dlq = redrive(Clients().get("sqs"), queue, fallback)
    print(f"moved {moved} message(s) from {dlq} to {queue}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
