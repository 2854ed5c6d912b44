"""Dependency checks for each service's `GET /health/details` (authenticated callers only)."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from parley import aws
from parley.cache import redis_client

if TYPE_CHECKING:
    from parley.secrets import Credential

Check = Callable[[], None]


@dataclass(frozen=True)
class Dependency:
    kind: str
    name: str
    check: Check
    required: bool = True  # False: reported, but the service is healthy without it


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


def setting(variable: str, problem: str | None) -> Dependency:
    """A setting the service cannot serve without (e.g. BUSINESS_NUMBERS); `problem` says what is
    wrong with it, None when it is fine."""

    def check() -> None:
        if problem is not None:
            raise ValueError(problem)

    return Dependency("setting", variable, check)


def credential(value: Credential, *, required: bool = True) -> Dependency:
    """A credential is really set (not missing, empty, a placeholder or too short); a route that
    needs it refuses every request until it is."""
    return Dependency("credential", value.label, value.check, required)


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
    if not dep.required:
        result["required"] = False
    if error:
        result["error"] = error
    return result


def report(service: str, version: str, stage: str, deps: list[Dependency]) -> dict[str, object]:
    """Check every dependency in parallel; `healthy` is true only when every required one is
    reachable (a credential: set)."""
    with ThreadPoolExecutor(max_workers=max(1, len(deps))) as pool:
        results = list(pool.map(_run, deps))
    return {
        "service": service,
        "version": version,
        "stage": stage,
        "healthy": all(r["reachable"] or r.get("required") is False for r in results),
        "dependencies": results,
    }
