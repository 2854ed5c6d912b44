"""Helpers and fixtures of the HTTP API suites (test_api_*.py); it holds no tests itself.

The service runs as in the contract suite: its own app.py through `chalice.test.Client` (stage
`contract-test`, the local stage's variables, endpoints of a real moto server and redis-server).
Conversations are seeded through the real consumer: events as SQS records from context.fifo,
applied by `apply_context_events` in batches of 10, as Lambda would deliver them.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client

from infra.local.service_contract import (  # noqa: F401 - fixtures
    Service,
    client,
    provisioned,
    service,
)

API_KEY_HEADER = "x-api-key"
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def new_wa_id() -> str:
    return "1555" + "".join(random.choices("0123456789", k=8))


def new_phone_number_id() -> str:
    return "1000" + "".join(random.choices("0123456789", k=11))


def received(conversation: str, n: int, *, text: str | None = None) -> dict[str, Any]:
    """message.received #n of a conversation, said n seconds after T0."""
    phone_number_id, wa_id = conversation.split(":")
    return {
        "event_id": uuid.uuid4().hex,
        "type": "message.received",
        "conversation": conversation,
        "occurred_at": (T0 + timedelta(seconds=n)).isoformat(),
        "producer": "test",
        "payload": {
            "channel": "meta",
            "business_phone_number_id": phone_number_id,
            "wa_id": wa_id,
            "message_id": f"wamid.{conversation}.{n}",
            "kind": "text",
            "text": text if text is not None else f"message {n}",
            "profile_name": "Ana",
            "sent_at": (T0 + timedelta(seconds=n)).isoformat(),
        },
    }


def sqs_records(queue: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "messageId": uuid.uuid4().hex,
            "receiptHandle": uuid.uuid4().hex,
            "body": json.dumps(event),
            "attributes": {
                "MessageGroupId": event["conversation"],
                "ApproximateReceiveCount": "1",
                "SentTimestamp": "0",
            },
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{queue}",
            "awsRegion": "us-east-1",
        }
        for event in events
    ]


class Api:
    """The service under test: HTTP calls with the local API key, and the consumer to seed it."""

    def __init__(self, client: Client, service: Service) -> None:  # noqa: F811 - not fixtures
        self.client = client
        self.service = service
        self.key = service.stage_env()["API_KEY"]

    def get(self, path: str, **headers: str) -> Any:
        return self.client.http.get(path, headers={API_KEY_HEADER: self.key, **headers})

    def delete(self, path: str) -> Any:
        return self.client.http.delete(path, headers={API_KEY_HEADER: self.key})

    def apply(self, events: list[dict[str, Any]]) -> None:
        """Apply events through the SQS handler, 10 per invocation; every one must succeed."""
        for start in range(0, len(events), 10):
            records = sqs_records(self.service.queue, events[start : start + 10])
            result = self.client.lambda_.invoke("apply_context_events", {"Records": records})
            assert result.payload == {"batchItemFailures": []}

    def conversation(self, messages: int, *, wa_id: str | None = None) -> str:
        """A new conversation holding `messages` customer messages; its key."""
        key = f"{new_phone_number_id()}:{wa_id or new_wa_id()}"
        self.apply([received(key, n) for n in range(messages)])
        return key


@pytest.fixture
def api(client: Client, service: Service) -> Iterator[Api]:  # noqa: F811 - the fixtures
    yield Api(client, service)
