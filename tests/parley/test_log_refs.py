"""References in logs cannot be reversed: keyed with the deployment's log salt (a generated
secret), so hashing every phone number does not find a conversation again."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from parley import aws, logs, secrets


@pytest.fixture
def deployment(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A deployment whose log salt secret holds a known salt."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        aws.reset_clients()
        secrets.clear_secret_cache()
        boto3.client("secretsmanager").create_secret(
            Name="parley/test/log-salt", SecretString=json.dumps({"salt": "deployment-salt-1"})
        )
        monkeypatch.setenv("LOG_SALT_SECRET_ID", "parley/test/log-salt")
        logs.reset_log_salt()
        yield "deployment-salt-1"
        logs.reset_log_salt()
        aws.reset_clients()


KEY = "100000000000001:15551234567"


def test_the_reference_is_keyed_with_the_deployments_salt(deployment: str) -> None:
    expected = hmac.new(deployment.encode(), b"conversation:" + KEY.encode(), hashlib.sha256)

    assert logs.conversation_ref(KEY) == expected.hexdigest()[:16]
    assert logs.conversation_ref(KEY) != hashlib.sha256(KEY.encode()).hexdigest()[:16]


def test_another_deployment_gives_other_references(
    deployment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = logs.conversation_ref(KEY)
    boto3.client("secretsmanager").create_secret(
        Name="parley/other/log-salt", SecretString=json.dumps({"salt": "deployment-salt-2"})
    )
    monkeypatch.setenv("LOG_SALT_SECRET_ID", "parley/other/log-salt")
    logs.reset_log_salt()

    assert logs.conversation_ref(KEY) != first


def test_a_message_id_is_logged_as_a_reference_never_raw(deployment: str) -> None:
    wamid = "wamid.HBgLMTU1NTEyMzQ1NjcVAgASGBQzQUI1"

    ref = logs.message_ref(wamid)

    assert ref != logs.conversation_ref(wamid) and wamid not in ref and len(ref) == 16
    assert "message_ref" in logs.redact_record({"message_ref": ref})


def test_without_a_salt_secret_references_are_still_keyed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOG_SALT_SECRET_ID", raising=False)
    logs.reset_log_salt()

    assert logs.conversation_ref(KEY) != hashlib.sha256(KEY.encode()).hexdigest()[:16]
    assert logs.conversation_ref(KEY) == logs.conversation_ref(KEY)  # stable in the process
