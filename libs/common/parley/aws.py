"""Lazily built, cached boto3 clients with explicit timeouts and retry mode.

boto3 honours `AWS_ENDPOINT_URL` (and `AWS_ENDPOINT_URL_<SERVICE>`) natively, so the same code
talks to the local emulator or to AWS. boto3 is imported on first use: it costs ~250 ms of cold
start that the webhook path should not pay before it needs AWS.
"""

from __future__ import annotations

import os
import threading
from functools import cache
from typing import Any

_LOCK = threading.Lock()
_CLIENTS: dict[tuple[str, float], Any] = {}

# One call with its retries must end inside the shortest function timeout (the webhook's 10 s):
# MAX_ATTEMPTS x (CONNECT_TIMEOUT + DEFAULT_READ_TIMEOUT) plus the standard mode's backoff.
DEFAULT_READ_TIMEOUT = 3.0
CONNECT_TIMEOUT = 1.0
MAX_ATTEMPTS = 2


def worst_case_seconds(read_timeout: float = DEFAULT_READ_TIMEOUT) -> float:
    """The longest one call may take with its retries (standard mode backs off <= 1 s between)."""
    return MAX_ATTEMPTS * (CONNECT_TIMEOUT + read_timeout) + (MAX_ATTEMPTS - 1) * 1.0


def client(service: str, *, read_timeout: float = DEFAULT_READ_TIMEOUT) -> Any:
    """A boto3 client for `service`, one per (service, timeout) per container."""
    key = (service, read_timeout)
    existing = _CLIENTS.get(key)
    if existing is not None:
        return existing
    with _LOCK:  # boto3 client creation is not thread-safe
        if key not in _CLIENTS:
            _CLIENTS[key] = _build(service, read_timeout)
        return _CLIENTS[key]


def _build(service: str, read_timeout: float) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=read_timeout,
        retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
        max_pool_connections=32,
    )
    return boto3.session.Session().client(service, region_name=region(), config=config)


def reset_clients() -> None:
    """Forget every client (tests switch endpoints between cases)."""
    with _LOCK:
        _CLIENTS.clear()
    account_id.cache_clear()
    queue_url.cache_clear()


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


@cache
def account_id() -> str:
    """The account id, from `AWS_ACCOUNT_ID` or one STS call per container."""
    configured = os.environ.get("AWS_ACCOUNT_ID")
    if configured:
        return configured
    return str(client("sts").get_caller_identity()["Account"])


def topic_arn(name: str) -> str:
    if name.startswith("arn:"):
        return name
    return f"arn:aws:sns:{region()}:{account_id()}:{name}"


@cache
def queue_url(name: str) -> str:
    """Queue URL for a queue name (cached: one GetQueueUrl per queue per container)."""
    if name.startswith("https://") or name.startswith("http://"):
        return name
    return str(client("sqs").get_queue_url(QueueName=name)["QueueUrl"])
