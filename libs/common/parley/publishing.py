"""Publishing events: SNS FIFO topic, SQS queues, and an S3 claim-check for large payloads.

Group id = conversation key (one customer's events stay in order), dedupe id = event id. A body over
`CLAIM_CHECK_THRESHOLD` is stored in the event-payloads bucket and a pointer travels instead;
consumers call `resolve_body` to get the original back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from parley import aws
from parley.routing import EVENT_TYPE_ATTRIBUTE

if TYPE_CHECKING:
    from parley.events import EventBase

CLAIM_CHECK_THRESHOLD = 200 * 1024
CLAIM_CHECK_KEY = "parley_claim_check"


@dataclass(frozen=True)
class ClaimCheckStore:
    """Where oversized bodies go; each producer writes under its own prefix."""

    bucket: str
    producer: str

    def put(self, event: EventBase, body: str) -> str:
        key = f"payloads/{self.producer}/{event.event_id}.json"
        aws.client("s3").put_object(
            Bucket=self.bucket, Key=key, Body=body.encode(), ContentType="application/json"
        )
        return json.dumps(
            {
                CLAIM_CHECK_KEY: {"bucket": self.bucket, "key": key},
                "event_id": event.event_id,
                "type": getattr(event, "type", None),
                "conversation": event.conversation,
            }
        )


def _wire_body(event: EventBase, claim_checks: ClaimCheckStore) -> str:
    body = event.model_dump_json()
    if len(body.encode()) > CLAIM_CHECK_THRESHOLD:
        return claim_checks.put(event, body)
    return body


def _event_type(event: EventBase) -> str:
    return str(getattr(event, "type"))  # noqa: B009 - every concrete event has a `type`


@dataclass(frozen=True)
class TopicPublisher:
    """Publishes events to the `conversation-events` SNS FIFO topic."""

    topic: str
    claim_checks: ClaimCheckStore

    def publish(self, event: EventBase) -> str:
        response = aws.client("sns").publish(
            TopicArn=aws.topic_arn(self.topic),
            Message=_wire_body(event, self.claim_checks),
            MessageGroupId=event.conversation,
            MessageDeduplicationId=event.event_id,
            MessageAttributes={
                EVENT_TYPE_ATTRIBUTE: {"DataType": "String", "StringValue": _event_type(event)}
            },
        )
        return str(response["MessageId"])


@dataclass(frozen=True)
class QueueSender:
    """Sends events straight to one SQS FIFO queue (turns, outbound, media jobs)."""

    queue: str
    claim_checks: ClaimCheckStore

    def send(self, event: EventBase, *, delay_seconds: int = 0, group: str | None = None) -> str:
        """`group` replaces the conversation as the FIFO group: work that may wait (a CRM sync)
        must not hold back the conversation's own events."""
        params: dict[str, Any] = {
            "QueueUrl": aws.queue_url(self.queue),
            "MessageBody": _wire_body(event, self.claim_checks),
            "MessageAttributes": {
                EVENT_TYPE_ATTRIBUTE: {"DataType": "String", "StringValue": _event_type(event)}
            },
        }
        if self.queue.endswith(".fifo"):
            params["MessageGroupId"] = group or event.conversation
            params["MessageDeduplicationId"] = event.event_id
        elif delay_seconds:
            params["DelaySeconds"] = delay_seconds
        return str(aws.client("sqs").send_message(**params)["MessageId"])


def resolve_body(body: str) -> str:
    """The event JSON for a queue body, fetching it from S3 when it is a claim-check pointer."""
    if CLAIM_CHECK_KEY not in body[:64]:
        return body
    pointer = json.loads(body)[CLAIM_CHECK_KEY]
    obj = aws.client("s3").get_object(Bucket=pointer["bucket"], Key=pointer["key"])
    return str(obj["Body"].read().decode())
