"""Local and cloud cannot drift: what the services' config names exists in infra/template.yaml, and
each service's IAM policy writes only to the stores it owns (ARCHITECTURE.md "Who owns what")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.local import cfn

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("ingestion", "ai_processing", "context", "media", "escalation")
STAGES = ("local", "dev", "prod")
KIND_BY_SUFFIX = {
    "_QUEUE": "AWS::SQS::Queue",
    "_TOPIC": "AWS::SNS::Topic",
    "_TABLE": "AWS::DynamoDB::Table",
    "_BUCKET": "AWS::S3::Bucket",
    "_SECRET_ID": "AWS::SecretsManager::Secret",
}
OWNERS = {  # store (logical name) -> the only service that may write it
    "wa-messages": "ingestion",
    "conversations": "context",
    "sessions": "context",
    "handoffs": "escalation",
    "knowledge-base": "ai_processing",
    "media": "media",
}
WRITE_ACTIONS = {
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:TransactWriteItems",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
}
TRANSPORT_STORES = {"idempotency", "event-payloads"}  # shared plumbing, scoped per service


def config(service: str) -> dict[str, Any]:
    return dict(json.loads((ROOT / "services" / service / ".chalice" / "config.json").read_text()))


def policy(service: str, stage: str) -> dict[str, Any]:
    path = ROOT / "services" / service / ".chalice" / f"policy-{stage}.json"
    return dict(json.loads(path.read_text()))


def template_names(stage: str) -> dict[str, set[str]]:
    stack = cfn.Stack(cfn.load_template(), {"Stage": stage})
    names: dict[str, set[str]] = {}
    for logical in stack.resources:
        names.setdefault(stack.resource_type(logical), set()).add(stack.physical_name(logical))
    return names


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("service", SERVICES)
def test_every_resource_a_service_config_names_exists_in_the_template(
    service: str, stage: str
) -> None:
    env = config(service)["stages"][stage]["environment_variables"]
    names = template_names(stage)
    checked = 0
    for variable, value in env.items():
        kind = next((k for suffix, k in KIND_BY_SUFFIX.items() if variable.endswith(suffix)), None)
        if kind is None:
            continue
        assert value in names.get(kind, set()), (
            f"{service}/{stage}: {variable}={value} not in template"
        )
        checked += 1
    assert checked >= 5


@pytest.mark.parametrize("service", SERVICES)
def test_every_event_source_of_the_app_exists_in_the_template(service: str) -> None:
    import subprocess
    import sys

    code = (
        "import json, app; print(json.dumps([getattr(s, 'queue', None) or getattr(s, 'topic', "
        "None) or getattr(s, 'bucket', None) for s in app.app.event_sources]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT / "services" / service,
        check=True,
        capture_output=True,
        text=True,
        env={"PARLEY_STAGE": "dev", "PATH": "/usr/bin:/bin"},
    ).stdout
    sources = [s for s in json.loads(out) if s]
    every_name = set().union(*template_names("dev").values())
    assert sources and all(s in every_name for s in sources), sources


def _statements(service: str, stage: str) -> list[dict[str, Any]]:
    statements = policy(service, stage)["Statement"]
    return [s for s in statements if s["Effect"] == "Allow"]


def _as_list(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("service", SERVICES)
def test_policy_has_no_wildcard_action(service: str, stage: str) -> None:
    for statement in _statements(service, stage):
        for action in _as_list(statement["Action"]):
            assert "*" not in action, f"{service}/{stage}: {statement.get('Sid')} has {action}"


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("service", SERVICES)
def test_policy_writes_only_to_stores_the_service_owns(service: str, stage: str) -> None:
    base = f"parley-{stage}-"
    for statement in _statements(service, stage):
        if not WRITE_ACTIONS & set(_as_list(statement["Action"])):
            continue
        for resource in _as_list(statement["Resource"]):
            assert base in resource, f"{service}: write on an unscoped resource {resource}"
            store = resource.split(base, 1)[1].split("/")[0]
            if store in TRANSPORT_STORES:
                assert service in json.dumps(statement), f"{service}: {store} not scoped to it"
                continue
            assert OWNERS.get(store) == service, f"{service}/{stage} may write {store}"


def test_every_owned_store_is_writable_by_its_owner() -> None:
    for store, owner in OWNERS.items():
        writes = [
            resource
            for statement in _statements(owner, "prod")
            if WRITE_ACTIONS & set(_as_list(statement["Action"]))
            for resource in _as_list(statement["Resource"])
        ]
        assert any(f"parley-prod-{store}" in r for r in writes), f"{owner} cannot write {store}"
