"""Dependency checks for each service's `GET /health`."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from parley import aws
from parley.cache import redis_client

Check = Callable[[], None]


@dataclass(frozen=True)
class Dependency:
    kind: str
    name: str
    check: Check


def queue(name: str) -> Dependency:
    return Dependency("queue", name, lambda: _get_queue(name))


def _get_queue(name: str) -> None:
    aws.client("sqs").get_queue_attributes(
        QueueUrl=aws.queue_url(name), AttributeNames=["QueueArn"]
    )


def table(name: str) -> Dependency:
    return Dependency("table", name, lambda: aws.client("dynamodb").describe_table(TableName=name))


def bucket(name: str) -> Dependency:
    return Dependency("bucket", name, lambda: aws.client("s3").head_bucket(Bucket=name))


def topic(name: str) -> Dependency:
    return Dependency(
        "topic",
        name,
        lambda: aws.client("sns").get_topic_attributes(TopicArn=aws.topic_arn(name)),
    )


def secret(secret_id: str) -> Dependency:
    return Dependency(
        "secret",
        secret_id,
        lambda: aws.client("secretsmanager").describe_secret(SecretId=secret_id),
    )


def redis(url: str) -> Dependency:
    return Dependency("redis", url.split("@")[-1], lambda: redis_client(url).ping())


def _run(dep: Dependency) -> dict[str, object]:
    started = time.perf_counter()
    try:
        dep.check()
        ok, error = True, None
    except Exception as exc:  # a health check reports every failure, whatever it is
        ok, error = False, f"{type(exc).__name__}: {exc}"[:300]
    result: dict[str, object] = {
        "kind": dep.kind,
        "name": dep.name,
        "reachable": ok,
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
    }
    if error:
        result["error"] = error
    return result


def report(service: str, version: str, stage: str, deps: list[Dependency]) -> dict[str, object]:
    """Check every dependency in parallel; `healthy` is true only when all are reachable."""
    with ThreadPoolExecutor(max_workers=max(1, len(deps))) as pool:
        results = list(pool.map(_run, deps))
    return {
        "service": service,
        "version": version,
        "stage": stage,
        "healthy": all(r["reachable"] for r in results),
        "dependencies": results,
    }
