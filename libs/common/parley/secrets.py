"""Secrets Manager JSON secrets, cached per container for a few minutes (rotation-friendly)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from parley import aws
from parley.errors import ConfigurationError, DependencyError

CACHE_SECONDS = 300.0
_LOCK = threading.Lock()
_CACHE: dict[str, tuple[float, dict[str, Any]]] = {}


def secret_json(secret_id: str) -> dict[str, Any]:
    """The secret's JSON object; cached for CACHE_SECONDS."""
    now = time.monotonic()
    with _LOCK:
        hit = _CACHE.get(secret_id)
        if hit and now - hit[0] < CACHE_SECONDS:
            return hit[1]
    try:
        raw = aws.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    except Exception as error:
        raise DependencyError(f"cannot read secret {secret_id}: {error}") from error
    try:
        value = json.loads(raw)
    except ValueError as error:
        raise ConfigurationError(f"secret {secret_id} is not a JSON object") from error
    if not isinstance(value, dict):
        raise ConfigurationError(f"secret {secret_id} is not a JSON object")
    with _LOCK:
        _CACHE[secret_id] = (now, value)
    return value


def clear_secret_cache() -> None:
    with _LOCK:
        _CACHE.clear()
