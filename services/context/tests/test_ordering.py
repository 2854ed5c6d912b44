"""200+ interleaved events over 20 conversations through the real queue: sent to context.fifo with
random delays, locally out of order within a conversation and with duplicates, consumed as
Lambda consumes (batches of up to 10, partial failures made visible again), turns answered by a
fake AI reading turns.fifo. Each conversation's history ends in time order with no duplicate."""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from context_support import (
    CONTEXT_QUEUE,
    TURNS_QUEUE,
    Driver,
    Json,
    media_processed,
    new_conversation,
    received,
    status,
)

from parley.errors import BatchIncomplete

CONVERSATIONS = 20
MESSAGES = 7  # per conversation, one of them an image


def _plan(start: datetime, rng: random.Random) -> tuple[list[Json], dict[str, list[Json]]]:
    """The events to send, in send order, and each conversation's customer messages."""
    per_conversation: dict[str, list[Json]] = {}
    streams: list[list[Json]] = []
    for _ in range(CONVERSATIONS):
        c = new_conversation()
        image = rng.randrange(MESSAGES)
        messages, stream = [], []
        for n in range(MESSAGES):
            sent = start + timedelta(milliseconds=150 * n + rng.randrange(100))
            kind = "image" if n == image else "text"
            event = received(c, f"wamid.{uuid.uuid4().hex[:10]}.{n}", sent, f"msg {n}", kind)
            messages.append(event)
            stream.append(event)
            if kind == "image":
                stream.append(media_processed(c, event["payload"]["message_id"], sent))
        per_conversation[c] = messages
        streams.append(_locally_shuffled(stream, rng))
    order: list[Json] = []
    while any(streams):  # interleave conversations at random, each stream in its own order
        order.append(rng.choice([s for s in streams if s]).pop(0))
    return _with_duplicates(order, rng), per_conversation


def _locally_shuffled(stream: list[Json], rng: random.Random) -> list[Json]:
    """Adjacent customer messages swapped now and then (Meta delivers out of order); media
    results stay after their message."""
    out = list(stream)
    for i in range(len(out) - 1):
        a, b = out[i], out[i + 1]
        both_received = a["type"] == b["type"] == "message.received"
        if both_received and rng.random() < 0.4:
            out[i], out[i + 1] = b, a
    return out


def _with_duplicates(order: list[Json], rng: random.Random) -> list[Json]:
    out = list(order)
    for event in rng.sample(order, 30):  # redelivered: the same event id
        out.insert(rng.randrange(out.index(event) + 1, len(out) + 1), event)
    for event in rng.sample([e for e in order if e["type"] == "message.received"], 10):
        again = {**event, "event_id": uuid.uuid4().hex}  # republished under a new event id
        out.insert(rng.randrange(out.index(event) + 1, len(out) + 1), again)
    return out


class FakeAi(threading.Thread):
    """Answers every turn from turns.fifo: turn.completed, then the reply's delivery statuses in
    a random order, sent to context.fifo like the topic would."""

    def __init__(self, sqs: Any, rng: random.Random) -> None:
        super().__init__(daemon=True)
        self.sqs, self.rng = sqs, rng
        self.replies: dict[str, list[tuple[datetime, str]]] = {}
        self.stop = threading.Event()
        self.sent = 0

    def run(self) -> None:
        turns = self.sqs.get_queue_url(QueueName=TURNS_QUEUE)["QueueUrl"]
        while not self.stop.is_set():
            got = self.sqs.receive_message(QueueUrl=turns, MaxNumberOfMessages=10)
            for message in got.get("Messages", []):
                self.answer(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=turns, ReceiptHandle=message["ReceiptHandle"])
            time.sleep(0.02)

    def answer(self, turn: Json) -> None:
        time.sleep(self.rng.random() * 0.03)
        c, p = turn["conversation"], turn["payload"]
        now = datetime.now(UTC)
        reply_id = f"turn:{p['turn_id']}"
        self.replies.setdefault(c, []).append((now, reply_id))
        done = {
            "event_id": uuid.uuid4().hex,
            "type": "turn.completed",
            "conversation": c,
            "occurred_at": now.isoformat(),
            "producer": "fake-ai",
            "payload": {
                "turn_id": p["turn_id"],
                "answered_message_ids": [m["message_id"] for m in p["messages"]],
                "reply_text": f"answer to {len(p['messages'])} message(s)",
            },
        }
        statuses = [status(c, reply_id, s, now) for s in ("sent", "delivered", "read")]
        self.rng.shuffle(statuses)
        for event in [done, *statuses]:
            send(self.sqs, event)
            self.sent += 1


def send(sqs: Any, event: Json) -> None:
    sqs.send_message(
        QueueUrl=sqs.get_queue_url(QueueName=CONTEXT_QUEUE)["QueueUrl"],
        MessageBody=json.dumps(event),
        MessageGroupId=event["conversation"],
        MessageDeduplicationId=uuid.uuid4().hex,  # a duplicate is delivered again
    )


def _sender(order: list[Json], rng: random.Random, done: threading.Event) -> threading.Thread:
    sqs = boto3.session.Session().client("sqs")

    def run() -> None:
        for event in order:
            send(sqs, event)
            time.sleep(rng.random() * 0.01)
        done.set()

    return threading.Thread(target=run, daemon=True)


def _consume_once(ctx: Driver, sqs: Any, url: str) -> int:
    got = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=0
    ).get("Messages", [])
    if not got:
        return 0
    records = [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": m["Attributes"],
            "messageAttributes": {},
            "md5OfBody": m["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{CONTEXT_QUEUE}",
            "awsRegion": "us-east-1",
        }
        for m in got
    ]
    try:
        result = ctx.client.lambda_.invoke("apply_context_events", {"Records": records}).payload
    except BatchIncomplete as incomplete:
        # Lambda deletes nothing when the handler raises: the handler deleted what succeeded.
        failed = set(incomplete.failed_ids)
        for m in got:
            if m["MessageId"] in failed:
                sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
                )
        return len(got)
    assert result == {"batchItemFailures": []}, result
    for m in got:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return len(got)


def _settled(ctx: Driver, conversations: list[str]) -> bool:
    for c in conversations:
        s = ctx.session(c)
        if s is None or s.unanswered or s.turn is not None or s.pending_media:
            return False
    return True


@pytest.mark.slow
def test_interleaved_delayed_duplicated_events_leave_each_history_in_order(ctx: Driver) -> None:
    rng = random.Random(4)
    order, per_conversation = _plan(datetime.now(UTC), rng)
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=CONTEXT_QUEUE)["QueueUrl"]
    ai, sent = FakeAi(boto3.session.Session().client("sqs"), rng), threading.Event()
    ai.start()
    _sender(order, rng, sent).start()
    applied, deadline = 0, time.monotonic() + 120
    while time.monotonic() < deadline:
        got = _consume_once(ctx, sqs, url)
        applied += got
        if not got and sent.is_set() and _settled(ctx, list(per_conversation)):
            break
    ai.stop.set()
    assert applied >= len(order) + ai.sent >= 200  # every delivery, duplicates included
    for c, messages in per_conversation.items():
        said = [
            (datetime.fromisoformat(m["payload"]["sent_at"]), m["payload"]["message_id"])
            for m in messages
        ]
        expected_ids = [message_id for _, message_id in sorted(said + ai.replies[c])]
        stored = ctx.history(c)
        ids = [m.message_id for m in stored]
        assert len(ids) == len(set(ids)), "duplicate in history"
        assert ids == expected_ids
        assert [m.at for m in stored] == sorted(m.at for m in stored)
        assert all(m.delivery_status == "read" for m in stored if m.role == "bot")
        image = next(m for m in stored if m.kind == "image")
        assert image.media_status == "ok"
