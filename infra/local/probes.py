"""A queue of a test's own on the conversation-events topic: it sees the events of the types it
asks for without taking them from the service queues (the services consume those)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

EVENTS_TOPIC_SUFFIX = ":parley-local-conversation-events.fifo"


def subscribe_probe_queue(sqs: Any, sns: Any, name: str, event_types: Sequence[str]) -> str:
    """Create FIFO queue `name` (ending `.fifo`), subscribe it to the topic filtered on
    `event_types`, and return its URL."""
    url = str(
        sqs.create_queue(
            QueueName=name,
            Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"},
        )["QueueUrl"]
    )
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    topic = next(
        t["TopicArn"]
        for t in sns.list_topics()["Topics"]
        if t["TopicArn"].endswith(EVENTS_TOPIC_SUFFIX)
    )
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={
            "RawMessageDelivery": "true",
            "FilterPolicy": json.dumps({"event_type": list(event_types)}),
        },
    )
    return url
