"""Helpers of the inbound webhook tests: fixtures from tests/fixtures/meta, Meta's signature,
and reading what the service published (the topic feeds context.fifo; media.fifo; outbound.fifo).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import hmac
import json
import os
import random
import time
import uuid
from pathlib import Path
from typing import Any

import boto3

from infra.local.provisioner import DEV_SECRETS_PATH

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "meta"
APP_SECRET = json.loads(DEV_SECRETS_PATH.read_text())["whatsapp"]["app_secret"]
VERIFY_TOKEN = json.loads(DEV_SECRETS_PATH.read_text())["whatsapp"]["verify_token"]
PHONE_NUMBER_ID = "100000000000001"
CONTEXT_QUEUE = "parley-local-context.fifo"
ESCALATION_QUEUE = "parley-local-escalation.fifo"
MEDIA_QUEUE = "parley-local-media.fifo"
OUTBOUND_QUEUE = "parley-local-outbound.fifo"
WA_MESSAGES_TABLE = "parley-local-wa-messages"
Json = dict[str, Any]


def load(name: str) -> Json:
    data: Json = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def new_customer() -> str:
    """A wa_id no other test uses (keeps dedupe records and rate-limit buckets apart)."""
    return "1555" + "".join(random.choice("0123456789") for _ in range(8))


def personalise(payload: Json, customer: str) -> Json:
    """The fixture with this test's customer and message ids unique to this test."""
    tag = uuid.uuid4().hex[:12]
    out = copy.deepcopy(payload)
    for entry in out.get("entry", []):
        for change in entry.get("changes", []):
            value = change.get("value", {})
            for contact in value.get("contacts", []):
                if "wa_id" in contact:
                    contact["wa_id"] = customer
            for message in value.get("messages", []):
                message["id"] = f"{message['id']}.{tag}"
                if "from" in message:
                    message["from"] = customer
            for status in value.get("statuses", []):
                status["id"] = f"{status['id']}.{tag}"
                status["recipient_id"] = customer
    return out


def encode(payload: Any) -> bytes:
    """Bytes as Meta sends them: compact JSON, non-ASCII escaped."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def sign(raw: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def headers(raw: bytes, **extra: str) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Hub-Signature-256": sign(raw), **extra}


def messages_of(payload: Json) -> list[Json]:
    return [
        m
        for entry in payload["entry"]
        for change in entry["changes"]
        for m in change["value"].get("messages", [])
    ]


def statuses_of(payload: Json) -> list[Json]:
    return [
        s
        for entry in payload["entry"]
        for change in entry["changes"]
        for s in change["value"].get("statuses", [])
    ]


def aws(service: str) -> Any:
    """One client per service and endpoint (building a boto3 client costs ~50 ms)."""
    return _client(service, os.environ.get("AWS_ENDPOINT_URL", ""))


@functools.cache
def _client(service: str, endpoint: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint or None)


def sqs() -> Any:
    return aws("sqs")


@functools.cache
def _queue_url(name: str, endpoint: str) -> str:
    return str(sqs().get_queue_url(QueueName=name)["QueueUrl"])


def queue_url(name: str) -> str:
    return _queue_url(name, os.environ.get("AWS_ENDPOINT_URL", ""))


def drain(*names: str) -> None:
    for name in names:
        take(name, wait=0)


def take(name: str, *, wait: float = 0.3) -> list[Json]:
    """Every event now on the queue (bodies parsed), deleted as read."""
    url, found = queue_url(name), []
    deadline = time.monotonic() + wait
    while True:
        got = sqs().receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        for message in got:
            found.append(json.loads(message["Body"]))
            sqs().delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        if not got and time.monotonic() >= deadline:
            return found
        if not got:
            time.sleep(0.05)


def of_type(events: list[Json], event_type: str) -> list[Json]:
    return [e for e in events if e["type"] == event_type]


def tracked_status(wamid: str) -> str | None:
    item = (
        aws("dynamodb")
        .get_item(
            TableName=WA_MESSAGES_TABLE,
            Key={"pk": {"S": f"out#{wamid}"}, "sk": {"S": "tracking"}},
            ConsistentRead=True,
        )
        .get("Item")
    )
    return item["status"]["S"] if item else None


def contact(customer: str) -> Json:
    item = (
        aws("dynamodb")
        .get_item(
            TableName=WA_MESSAGES_TABLE,
            Key={"pk": {"S": f"contact#{PHONE_NUMBER_ID}#{customer}"}, "sk": {"S": "profile"}},
            ConsistentRead=True,
        )
        .get("Item")
    )
    return item or {}
