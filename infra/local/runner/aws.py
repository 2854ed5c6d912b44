"""Lazy boto3 clients (AWS_ENDPOINT_URL is honoured by boto3 itself) and SQS queue helpers."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from typing import Any

READ_TIMEOUT_SECONDS = 40.0
"""Above SQS's longest long poll (20 s), so a receive never times out client side."""


def default_region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


class Clients:
    """One boto3 client per (service, region), built on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str], Any] = {}

    def get(self, service: str, region: str | None = None) -> Any:
        key = (service, region or default_region())
        with self._lock:  # creating boto3 clients is not thread-safe
            if key not in self._clients:
                self._clients[key] = _build(service, key[1])
            return self._clients[key]


def _build(service: str, region: str) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=3,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"mode": "standard", "max_attempts": 3},
        max_pool_connections=64,
    )
    return boto3.session.Session().client(service, region_name=region, config=config)


def is_arn(value: str) -> bool:
    return value.startswith("arn:")


def arn_parts(arn: str) -> tuple[str, str, str]:
    """(region, account, resource) of an ARN such as `arn:aws:sqs:us-east-1:123:name`."""
    parts = arn.split(":", 5)
    return parts[3], parts[4], parts[5]


@dataclass(frozen=True)
class QueueInfo:
    """What the runner needs to know about a queue it polls."""

    url: str
    arn: str
    name: str
    region: str
    visibility_timeout: int
    max_receive_count: int | None
    dlq_arn: str | None

    @property
    def fifo(self) -> bool:
        return self.name.endswith(".fifo")


def describe_queue(clients: Clients, name_or_arn: str) -> QueueInfo:
    """Resolve a queue name or ARN; raises the client's QueueDoesNotExist error if missing."""
    region = arn_parts(name_or_arn)[0] if is_arn(name_or_arn) else default_region()
    name = arn_parts(name_or_arn)[2] if is_arn(name_or_arn) else name_or_arn
    sqs = clients.get("sqs", region)
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    policy = json.loads(attrs.get("RedrivePolicy") or "{}")
    max_receive = policy.get("maxReceiveCount")
    return QueueInfo(
        url=url,
        arn=attrs["QueueArn"],
        name=name,
        region=region,
        visibility_timeout=int(attrs.get("VisibilityTimeout", 30)),
        max_receive_count=int(max_receive) if max_receive is not None else None,
        dlq_arn=policy.get("deadLetterTargetArn"),
    )


def ensure_queue(clients: Clients, name: str, attributes: dict[str, str]) -> QueueInfo:
    """Create the queue if it does not exist (idempotent), then set its attributes."""
    sqs = clients.get("sqs")
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    except sqs.exceptions.QueueDoesNotExist:
        create_attrs = dict(attributes)
        if name.endswith(".fifo"):
            create_attrs["FifoQueue"] = "true"
        sqs.create_queue(QueueName=name, Attributes=create_attrs)
    return describe_queue(clients, name)


def topic_arn(clients: Clients, name_or_arn: str) -> str:
    """The ARN of a topic given its name or ARN (the topic must exist)."""
    if is_arn(name_or_arn):
        return name_or_arn
    sns = clients.get("sns")
    arn = f"arn:aws:sns:{default_region()}:{account_id(clients)}:{name_or_arn}"
    sns.get_topic_attributes(TopicArn=arn)  # raises NotFound when missing
    return arn


def account_id(clients: Clients) -> str:
    return str(clients.get("sts").get_caller_identity()["Account"])


def send_policy(queue_arn: str, service_principal: str, source_arn: str) -> str:
    """A queue policy letting an AWS service (SNS, S3) deliver to the queue."""
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": service_principal},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": source_arn}},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})
