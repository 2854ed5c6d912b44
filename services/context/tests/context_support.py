"""Helpers of the context suite: events as producers send them, a driver that applies them
through the app's own SQS handler (as Lambda delivers context.fifo records), and readers of what
the service wrote (turns.fifo, the topic's escalation.fifo subscription, the tables)."""

from __future__ import annotations

import functools
import json
import os
import random
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from chalice.test import Client

from infra.local.service_contract import Service

CONTEXT_QUEUE = "parley-local-context.fifo"
TURNS_QUEUE = "parley-local-turns.fifo"
ESCALATION_QUEUE = "parley-local-escalation.fifo"
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
Json = dict[str, Any]


def new_conversation() -> str:
    phone = "1000" + "".join(random.choices("0123456789", k=11))
    return f"{phone}:1555" + "".join(random.choices("0123456789", k=8))


def _envelope(event_type: str, conversation: str, at: datetime, payload: Json) -> Json:
    return {
        "event_id": uuid.uuid4().hex,
        "type": event_type,
        "conversation": conversation,
        "occurred_at": at.isoformat(),
        "producer": "test",
        "payload": payload,
    }


def received(
    conversation: str,
    message_id: str,
    at: datetime,
    text: str | None = "hello",
    kind: str = "text",
) -> Json:
    phone, wa_id = conversation.split(":")
    payload: Json = {
        "channel": "meta",
        "business_phone_number_id": phone,
        "wa_id": wa_id,
        "message_id": message_id,
        "kind": kind,
        "text": text,
        "profile_name": "Ana",
        "sent_at": at.isoformat(),
    }
    if kind in ("image", "audio", "video", "document", "sticker"):
        payload["media"] = {"media_id": f"media-{message_id}", "mime_type": "image/jpeg"}
    return _envelope("message.received", conversation, at, payload)


def media_processed(
    conversation: str, message_id: str, at: datetime, status: str = "ok", text: str = ""
) -> Json:
    payload: Json = {"message_id": message_id, "kind": "image", "status": status}
    if text:
        payload["analysis"] = {"text": text, "labels": ["receipt"]}
    return _envelope("media.processed", conversation, at, payload)


def completed(turn: Json, at: datetime, text: str = "Sure, here you go.", **extra: Any) -> Json:
    p = turn["payload"]
    payload = {
        "turn_id": p["turn_id"],
        "answered_message_ids": [m["message_id"] for m in p["messages"]],
        "reply_text": text,
        "confidence": 0.9,
        **extra,
    }
    return _envelope("turn.completed", turn["conversation"], at, payload)


def status(conversation: str, request_id: str, state: str, at: datetime) -> Json:
    payload = {
        "message_id": f"wamid.out.{request_id}",
        "status": state,
        "recipient": conversation.split(":")[1],
        "at": at.isoformat(),
        "request_id": request_id,
    }
    return _envelope("message.status", conversation, at, payload)


def handoff(conversation: str, step: str, at: datetime, **payload: Any) -> Json:
    defaults: dict[str, Json] = {
        "requested": {"reason": "customer_request"},
        "accepted": {"handoff_id": "h1", "agent_id": "agent-7"},
        "resolved": {"handoff_id": "h1", "agent_id": "agent-7"},
    }
    return _envelope(f"handoff.{step}", conversation, at, {**defaults[step], **payload})


def agent_message(conversation: str, message_id: str, text: str, at: datetime) -> Json:
    payload = {"handoff_id": "h1", "agent_id": "agent-7", "message_id": message_id, "text": text}
    return _envelope("agent.message", conversation, at, payload)


def sqs_records(events: list[Json | str]) -> list[Json]:
    """Records as Lambda passes context.fifo messages (a str is sent as the raw body)."""
    records = []
    for event in events:
        body = event if isinstance(event, str) else json.dumps(event)
        group = "malformed" if isinstance(event, str) else event["conversation"]
        records.append(
            {
                "messageId": uuid.uuid4().hex,
                "receiptHandle": uuid.uuid4().hex,
                "body": body,
                "attributes": {
                    "MessageGroupId": group,
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": str(int(time.time() * 1000)),
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{CONTEXT_QUEUE}",
                "awsRegion": "us-east-1",
            }
        )
    return records


@functools.cache
def _client(service: str, endpoint: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint or None)


def aws(service: str) -> Any:
    return _client(service, os.environ.get("AWS_ENDPOINT_URL", ""))


def queue_url(name: str) -> str:
    return str(aws("sqs").get_queue_url(QueueName=name)["QueueUrl"])


def take(name: str, *, wait: float = 0.0) -> list[Json]:
    """Every message now on the queue (bodies parsed), deleted as read."""
    url, found = queue_url(name), []
    deadline = time.monotonic() + wait
    while True:
        got = aws("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        for message in got:
            found.append(json.loads(message["Body"]))
            aws("sqs").delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        if not got and time.monotonic() >= deadline:
            return found
        if not got:
            time.sleep(0.05)


class Driver:
    """Applies events through `apply_context_events` and reads what the service wrote."""

    def __init__(self, client: Client, service: Service) -> None:
        self.client = client
        self.service = service
        self._turns: dict[str, list[Json]] = defaultdict(list)
        self._published: dict[str, list[Json]] = defaultdict(list)

    def drain(self) -> None:
        take(TURNS_QUEUE)
        take(ESCALATION_QUEUE)

    def invoke(self, events: list[Json | str]) -> Json:
        payload: Json = self.client.lambda_.invoke(
            "apply_context_events", {"Records": sqs_records(events)}
        ).payload
        return payload

    def apply(self, *events: Json) -> None:
        """Apply events, 10 per invocation; every one must succeed."""
        for start in range(0, len(events), 10):
            result = self.invoke(list(events[start : start + 10]))
            assert result == {"batchItemFailures": []}, result

    def turns(
        self, conversation: str, *, wait: float = 0.0, until_found: bool = False
    ) -> list[Json]:
        """The conversation's turn.requested events sent since the last call, reading for
        `wait` seconds (or until one is found, with `until_found`)."""
        deadline = time.monotonic() + wait
        while True:
            for turn in take(TURNS_QUEUE):
                self._turns[turn["conversation"]].append(turn)
            found = until_found and bool(self._turns.get(conversation))
            if found or time.monotonic() >= deadline:
                return self._turns.pop(conversation, [])
            time.sleep(0.05)

    def one_turn(self, conversation: str) -> Json:
        turns = self.turns(conversation, wait=5, until_found=True)
        turns += self.turns(conversation)
        assert len(turns) == 1, [t["payload"]["messages"] for t in turns]
        return turns[0]

    def published(self, conversation: str, event_type: str) -> list[Json]:
        """Events the service published to the topic, as the escalation queue receives them."""
        for event in take(ESCALATION_QUEUE, wait=0.3):
            self._published[event["conversation"]].append(event)
        return [e for e in self._published[conversation] if e["type"] == event_type]

    @staticmethod
    def history(conversation: str) -> list[Any]:
        from chalicelib.wiring import runtime

        return runtime.dynamo_history.recent(conversation, 100_000)

    @staticmethod
    def session(conversation: str) -> Any:
        from chalicelib.wiring import runtime

        return runtime.dynamo_sessions.get(conversation)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def texts(messages: list[Json]) -> list[str | None]:
    return [m["text"] for m in messages]
