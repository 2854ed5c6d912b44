"""What the end-to-end tests share: waiting for the pipeline, and the demo index being ready."""

from __future__ import annotations

import json
import time
import urllib.error
from collections.abc import Callable
from typing import Any

from infra.local.devstack import DevStack


def eventually(check: Callable[[], Any], what: str, timeout: float) -> Any:
    """`check()`'s first truthy answer, polled until `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            found = check()
        except (OSError, urllib.error.HTTPError, KeyError, ValueError) as error:
            last_error, found = error, None
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} ({last_error})")


def wait_for_index(stack: DevStack, timeout: float = 60.0) -> None:
    """The demo knowledge base (8 documents) is indexed: the bot can answer from it."""
    s3 = stack.client("s3")

    def indexed() -> bool:
        try:
            body = s3.get_object(Bucket="parley-local-knowledge-base", Key="index/current.json")
        except s3.exceptions.NoSuchKey:
            return False
        return len(json.loads(body["Body"].read()).get("documents", {})) >= 8

    eventually(indexed, "the demo knowledge base to be indexed", timeout)
