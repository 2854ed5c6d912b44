"""Secrets Manager JSON secrets, cached per container for a few minutes (rotation-friendly), and
the check that a credential is really set before a route trusts it (fail closed)."""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from parley import aws
from parley.errors import ConfigurationError, DependencyError, SecretNotSet

CACHE_SECONDS = 300.0
# Meta app secrets and Twilio auth tokens are 32 hex characters; the template generates 48. A
# shorter value is a typo or a test value, and would make a forged signature easy to find.
MIN_CREDENTIAL_LENGTH = 16
_PLACEHOLDER = re.compile(
    r"^(?:<.*>|\{\{.*\}\}|\$\{.*\}|x+|\*+|0+|"
    r"(?:replace|change|fill|set|update|insert|enter)(?:[-_ ].*|me.*)?|"
    r"todo|tbd|placeholder|dummy|example|secret|password|none|null|undefined|your[-_ ].*)$",
    re.IGNORECASE,
)
# The credentials each provider's secret must hold for the routes and senders that use it.
CREDENTIAL_KEYS: dict[str, tuple[str, ...]] = {
    "WhatsApp": ("app_secret", "verify_token", "access_token"),
    "Twilio": ("account_sid", "auth_token"),
    "CRM": ("signing_secret",),
}
_LOCK = threading.Lock()
_CACHE: dict[str, tuple[float, dict[str, Any]]] = {}


@dataclass(frozen=True)
class Credential:
    """One key of a JSON secret that a route depends on, with a name fit for callers."""

    secret_id: str
    key: str
    label: str  # e.g. "WhatsApp app_secret": what an operator must set; no resource id

    def value(self) -> str:
        """The credential, or SecretNotSet (HTTP 503) when it is not really set."""
        try:
            raw = secret_json(self.secret_id).get(self.key)
        except ConfigurationError as error:
            raise SecretNotSet(f"{self.label} is not set (the secret is not JSON)") from error
        return require_credential(raw, self.label)

    def check(self) -> None:
        self.value()


def credential_label(provider: str, key: str) -> str:
    """How callers and operators see a credential: `WhatsApp app_secret`."""
    return f"{provider} {key}"


def credentials(secret_id: str, provider: str) -> list[Credential]:
    """Every credential `provider`'s secret must hold."""
    return [
        Credential(secret_id, key, credential_label(provider, key))
        for key in CREDENTIAL_KEYS[provider]
    ]


def require_credential(value: object, label: str) -> str:
    """`value` when it can be a real credential; SecretNotSet naming `label` otherwise."""
    problem = credential_problem(value)
    if problem is not None:
        raise SecretNotSet(f"{label} is not set ({problem})")
    assert isinstance(value, str)
    return value


def credential_problem(value: object) -> str | None:
    """Why `value` cannot be a real credential, or None when it can."""
    if value is None:
        return "missing"
    if not isinstance(value, str):
        return "not a string"
    text = value.strip()
    if not text:
        return "empty"
    if _PLACEHOLDER.match(text):
        return "a placeholder"
    if len(text) < MIN_CREDENTIAL_LENGTH:
        return f"shorter than {MIN_CREDENTIAL_LENGTH} characters"
    return None


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
