"""Load the escalation policy: an S3 override when configured and present, else the YAML file
shipped with the service (`escalation_policy.yaml`, next to this module so Chalice packages it).

Unlike the agents configuration, a broken override is not skipped: the policy decides who
reaches a person in a crisis, so running on a file other than the one the business uploaded is
refused with a ConfigurationError that names the problem. A missing override object means "no
override". A transient S3 failure is a retryable DependencyError.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from chalicelib.signals.policy import EscalationPolicy
from parley.errors import ConfigurationError, DependencyError

SHIPPED = Path(__file__).resolve().parent / "escalation_policy.yaml"
S3_KEY = "config/escalation_policy.yaml"
_ABSENT = frozenset({"NoSuchKey", "404", "NotFound"})


def parse_policy(text: str | bytes, origin: str = "escalation_policy.yaml") -> EscalationPolicy:
    """Validate YAML text; raises ConfigurationError naming the file and each problem."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"invalid escalation policy {origin}: not YAML: {exc}") from exc
    try:
        return EscalationPolicy.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(root)'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigurationError(f"invalid escalation policy {origin}: {problems}") from exc


def load_shipped(path: Path = SHIPPED) -> EscalationPolicy:
    """The policy shipped with the service."""
    return parse_policy(path.read_bytes(), path.name)


def load_policy(bucket: str | None, key: str = S3_KEY, *, s3: Any = None) -> EscalationPolicy:
    """The S3 override `s3://bucket/key` when `bucket` is set and the object exists, else the
    shipped policy. `s3` is a boto3 S3 client (default: `parley.aws.client("s3")`)."""
    if not bucket:
        return load_shipped()
    body = _read_override(bucket, key, s3)
    if body is None:
        return load_shipped()
    return parse_policy(body, f"s3://{bucket}/{key}")


def _read_override(bucket: str, key: str, s3: Any) -> bytes | None:
    from botocore.exceptions import BotoCoreError, ClientError

    from parley import aws

    client = s3 or aws.client("s3")
    try:
        return bytes(client.get_object(Bucket=bucket, Key=key)["Body"].read())
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in _ABSENT:
            return None
        raise ConfigurationError(
            f"escalation policy override s3://{bucket}/{key} is unreadable ({code or 'error'})"
        ) from exc
    except BotoCoreError as exc:
        raise DependencyError(
            f"escalation policy override s3://{bucket}/{key}: {type(exc).__name__}"
        ) from exc
