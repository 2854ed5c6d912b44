"""Load the agents configuration: S3 `config/agents.yaml` in the KB bucket when present, else the
file shipped with the service. A broken override is reported and the shipped file is used."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from chalicelib.agents.schema import AgentsConfig
from parley.errors import ConfigurationError

SHIPPED = Path(__file__).resolve().parent / "agents.yaml"  # inside chalicelib: Chalice ships it
S3_KEY = "config/agents.yaml"


def parse_agents(text: str | bytes, origin: str = "agents.yaml") -> AgentsConfig:
    """Validate YAML text; raises ConfigurationError naming the problems."""
    import yaml

    try:
        data = yaml.safe_load(text)
        return AgentsConfig.model_validate(data)
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigurationError(f"invalid agents configuration {origin}: {exc}") from exc


def load_shipped(path: Path = SHIPPED) -> AgentsConfig:
    return parse_agents(path.read_bytes(), str(path.name))


def load_agents(bucket: str | None, s3: Any = None, logger: Any = None) -> AgentsConfig:
    """The S3 override when it exists and is valid, else the shipped configuration."""
    override = _read_override(bucket, s3, logger) if bucket else None
    if override is not None:
        try:
            return parse_agents(override, f"s3://{bucket}/{S3_KEY}")
        except ConfigurationError as exc:
            if logger is not None:
                logger.error("agents override rejected", extra={"reason": str(exc)[:500]})
    return load_shipped()


def _read_override(bucket: str | None, s3: Any, logger: Any) -> bytes | None:
    from botocore.exceptions import BotoCoreError, ClientError

    from parley import aws

    client = s3 or aws.client("s3")
    try:
        return bytes(client.get_object(Bucket=bucket, Key=S3_KEY)["Body"].read())
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code not in ("NoSuchKey", "404", "NoSuchBucket") and logger is not None:
            logger.warning("agents override unreadable", extra={"reason": code})
        return None
    except BotoCoreError as exc:
        if logger is not None:
            logger.warning("agents override unreadable", extra={"reason": type(exc).__name__})
        return None
