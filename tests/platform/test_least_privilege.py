"""Least privilege: every service's IAM policy (services/*/.chalice/policy-<stage>.json) grants only
what its code calls, on the narrowest resource the AWS service supports.

- An unscoped statement (Resource "*") may only hold actions on UNSCOPED_ALLOWED, each with the
  reason AWS gives no narrower resource for it.
- Every granted action is called by the service: its boto3 method (`bedrock:InvokeModel` ->
  `invoke_model`) appears in the service's code or the shared library, or the action is one the
  Lambda platform itself uses on the function's behalf (PLATFORM_ACTIONS, with the reason).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("ingestion", "ai_processing", "context", "media", "escalation")
STAGES = ("local", "dev", "prod")

UNSCOPED_ALLOWED: dict[str, str] = {
    # X-Ray's segment upload has no resource type.
    "xray:PutTraceSegments": "no resource type",
    "xray:PutTelemetryRecords": "no resource type",
    # Lambda manages the ENIs of a function in a VPC (Redis); EC2 needs "*" for these.
    "ec2:CreateNetworkInterface": "Lambda VPC ENIs",
    "ec2:DescribeNetworkInterfaces": "Lambda VPC ENIs",
    "ec2:DeleteNetworkInterface": "Lambda VPC ENIs",
    "ec2:AssignPrivateIpAddresses": "Lambda VPC ENIs",
    "ec2:UnassignPrivateIpAddresses": "Lambda VPC ENIs",
    # Comprehend's real-time detection APIs take text, not a resource.
    "comprehend:DetectSentiment": "no resource type",
    # Textract's text detection and Rekognition's image APIs have no resource type (Rekognition
    # projects are for custom labels, which Parley does not use).
    "textract:DetectDocumentText": "no resource type",
    "textract:StartDocumentTextDetection": "no resource type",
    "textract:GetDocumentTextDetection": "no resource type",
    "rekognition:DetectLabels": "no resource type",
    "rekognition:DetectText": "no resource type",
    "rekognition:DetectModerationLabels": "no resource type",
}

PLATFORM_ACTIONS: dict[str, str] = {
    # Lambda writes the function's logs and traces.
    "logs:CreateLogGroup": "Lambda logging",
    "logs:CreateLogStream": "Lambda logging",
    "logs:PutLogEvents": "Lambda logging",
    "xray:PutTraceSegments": "Lambda active tracing",
    "xray:PutTelemetryRecords": "Lambda active tracing",
    # The SQS event source mapping polls and deletes with the function's role.
    "sqs:ReceiveMessage": "event source mapping",
    "sqs:DeleteMessage": "event source mapping",
    "sqs:ChangeMessageVisibility": "event source mapping",
    "sqs:GetQueueAttributes": "event source mapping",
    # Lambda's VPC networking (Redis in ElastiCache).
    "ec2:CreateNetworkInterface": "Lambda VPC ENIs",
    "ec2:DescribeNetworkInterfaces": "Lambda VPC ENIs",
    "ec2:DeleteNetworkInterface": "Lambda VPC ENIs",
    "ec2:AssignPrivateIpAddresses": "Lambda VPC ENIs",
    "ec2:UnassignPrivateIpAddresses": "Lambda VPC ENIs",
    # SSE-KMS on the stack's queues, topics, tables and buckets is used through those services.
    "kms:Decrypt": "SSE-KMS",
    "kms:GenerateDataKey": "SSE-KMS",
    "kms:DescribeKey": "SSE-KMS",
    # Reading a versioned object (the knowledge base, the media bucket) by its version id.
    "s3:GetObjectVersion": "GetObject with VersionId",
    "s3:ListBucketVersions": "list_object_versions on the versioned buckets",
}

# Actions whose call has another name than the action (regex over the service's code).
CALLED_AS: dict[str, str] = {
    "bedrock:InvokeModel": r"\.converse\(|invoke_model",  # Converse is authorised as InvokeModel
    "bedrock:ApplyGuardrail": r"guardrailConfig",  # a guardrail applied inside Converse
    "s3:ListBucket": r"list_objects_v2|head_bucket",
    "social-messaging:SendWhatsAppMessage": r"send_whatsapp_message",
    "social-messaging:GetWhatsAppMessageMedia": r"get_whatsapp_message_media",
}
# Statements whose actions a library makes for the service (regex over the service's own code).
USED_THROUGH: dict[str, str] = {
    # Powertools' DynamoDB persistence, through parley.service's consume (every SQS consumer)
    "IdempotencyRecordsOfThisServiceOnly": r"\.consume\(|idempoten",
}


def policy_files() -> list[Path]:
    return [
        ROOT / "services" / s / ".chalice" / f"policy-{stage}.json"
        for s in SERVICES
        for stage in STAGES
    ]


def statements(path: Path) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(path.read_text())["Statement"]
    return found


def as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def snake(action: str) -> str:
    name = action.split(":", 1)[1]
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@cache
def code_of(service: str) -> str:
    """The service's app and chalicelib, and the shared library."""
    folders = [ROOT / "services" / service / "chalicelib", ROOT / "libs" / "common" / "parley"]
    files = [ROOT / "services" / service / "app.py"]
    files += [f for folder in folders for f in folder.rglob("*.py")]
    return "\n".join(f.read_text(encoding="utf-8") for f in files)


def called(service: str, statement: dict[str, Any], action: str) -> bool:
    through = USED_THROUGH.get(statement.get("Sid", ""))
    if through is not None:
        return re.search(through, code_of(service)) is not None
    if action in PLATFORM_ACTIONS:
        return True
    pattern = CALLED_AS.get(action, rf"\b{snake(action)}\b")
    return re.search(pattern, code_of(service)) is not None


@pytest.mark.parametrize("path", policy_files(), ids=lambda p: f"{p.parts[-3]}-{p.name}")
def test_no_unscoped_statement_outside_the_allow_list(path: Path) -> None:
    unscoped = [
        (statement.get("Sid"), action)
        for statement in statements(path)
        if "*" in as_list(statement["Resource"])
        for action in as_list(statement["Action"])
        if action not in UNSCOPED_ALLOWED
    ]
    assert not unscoped, f"actions granted on every resource: {unscoped}"


@pytest.mark.parametrize("path", policy_files(), ids=lambda p: f"{p.parts[-3]}-{p.name}")
def test_every_granted_action_is_called_by_the_service(path: Path) -> None:
    service = path.parts[-3]
    unused = sorted(
        f"{statement.get('Sid')}: {action}"
        for statement in statements(path)
        for action in as_list(statement["Action"])
        if not called(service, statement, action)
    )
    assert not unused, f"{service} is granted actions its code never calls: {unused}"
