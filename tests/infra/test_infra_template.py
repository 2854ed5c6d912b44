"""infra/template.yaml: lint-clean, and in step with parley.resources and parley.routing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra.deploy_config import on_failure_queue
from infra.local import cfn
from parley import resources, routing
from parley.resources import ResourceNames

REPO = Path(__file__).resolve().parents[2]
STAGES = ("local", "dev", "prod")
LAMBDA_TOPICS = ("eum-inbound",)
"""Standard topics a Lambda function subscribes to (invoked asynchronously: each has a DLQ)."""
DEV_SECRETS = json.loads((REPO / "infra/local/dev_secrets.json").read_text(encoding="utf-8"))


def by_type(stack: cfn.Stack, resource_type: str) -> dict[str, dict[str, Any]]:
    """Resolved properties of every active resource of one type, by logical id."""
    return {
        logical: stack.properties(logical)
        for logical in stack.resources
        if stack.resource_type(logical) == resource_type
    }


def named(stack: cfn.Stack, resource_type: str) -> dict[str, str]:
    """Physical name -> logical id for one resource type."""
    return {stack.physical_name(lid): lid for lid in by_type(stack, resource_type)}


def test_cfn_lint_reports_nothing() -> None:
    binary = Path(sys.executable).with_name("cfn-lint")
    command = str(binary) if binary.exists() else shutil.which("cfn-lint")
    assert command, "cfn-lint is not installed"
    result = subprocess.run(
        [command, "infra/template.yaml"], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr  # 2 = errors, 4 = warnings


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("prefix", ["parley", "acme"])
def test_every_shared_name_is_in_the_template(stack_for: Any, stage: str, prefix: str) -> None:
    stack, names = stack_for(stage, prefix), ResourceNames(stage=stage, prefix=prefix)
    queues = named(stack, "AWS::SQS::Queue")
    expected_queues = {names.queue(q) for q in (*resources.QUEUES, resources.KB_EVENTS_QUEUE)}
    expected_queues |= {names.dlq(q) for q in (*resources.QUEUES, resources.KB_EVENTS_QUEUE)}
    expected_queues |= {on_failure_queue(names.topic(t)) for t in LAMBDA_TOPICS}
    assert set(queues) == expected_queues
    topics = {names.topic(resources.EVENTS_TOPIC)} | {
        names.topic(t) for t in resources.STANDARD_TOPICS
    }
    assert topics <= set(named(stack, "AWS::SNS::Topic"))
    assert set(named(stack, "AWS::DynamoDB::Table")) == {names.table(t) for t in resources.TABLES}
    assert set(named(stack, "AWS::S3::Bucket")) == {names.bucket(b) for b in resources.BUCKETS}
    secrets = named(stack, "AWS::SecretsManager::Secret")
    assert set(secrets) == {names.secret(s) for s in resources.SECRETS}
    assert stack.physical_name("KeyAlias") == f"alias/{prefix}-{stage}"


def test_names_follow_the_prefix_stage_rule(stack_for: Any) -> None:
    stack = stack_for("dev")
    for logical, body in stack.resources.items():
        if cfn.NAME_PROPERTIES.get(body["Type"]) in body["Properties"]:
            name = stack.physical_name(logical)
            assert name.startswith(("parley-dev-", "parley/dev/", "alias/parley-dev")), name
    assert named(stack, "AWS::SNS::Topic").keys() == {
        "parley-dev-conversation-events.fifo",
        "parley-dev-human-agents",
        "parley-dev-eum-inbound",
        "parley-dev-ops-alarms",
    }


def test_subscriptions_match_the_routing_table(stack_for: Any) -> None:
    stack, names = stack_for("prod"), ResourceNames(stage="prod")
    events_topic = stack.attribute("ConversationEventsTopic", "Ref")
    queue_by_arn = {
        stack.attribute(lid, "Arn"): name for name, lid in named(stack, "AWS::SQS::Queue").items()
    }
    subscribed: dict[str, Any] = {}
    for props in by_type(stack, "AWS::SNS::Subscription").values():
        assert props["TopicArn"] == events_topic
        assert props["Protocol"] == "sqs"
        assert props["RawMessageDelivery"] is True
        assert props["FilterPolicyScope"] == "MessageAttributes"
        subscribed[queue_by_arn[props["Endpoint"]]] = props["FilterPolicy"]
    expected = {
        names.queue(q): {routing.EVENT_TYPE_ATTRIBUTE: list(types)}
        for q, types in routing.TOPIC_SUBSCRIPTIONS.items()
    }
    assert subscribed == expected


def test_optional_alarm_email_subscription(template: dict[str, Any]) -> None:
    without = cfn.Stack(template, {"Stage": "dev"})
    with_email = cfn.Stack(template, {"Stage": "dev", "AlarmEmail": "ops@example.com"})
    assert "OpsAlarmsEmailSubscription" not in without.resources
    props = with_email.properties("OpsAlarmsEmailSubscription")
    assert props["Protocol"] == "email"
    assert props["Endpoint"] == "ops@example.com"
    assert props["TopicArn"] == with_email.attribute("OpsAlarmsTopic", "TopicArn")


@pytest.mark.parametrize("queue", [*resources.QUEUES, resources.KB_EVENTS_QUEUE])
def test_queue_timeouts_redrive_and_retention(stack_for: Any, queue: str) -> None:
    stack, names = stack_for("dev"), ResourceNames(stage="dev")
    queues = named(stack, "AWS::SQS::Queue")
    work = stack.properties(queues[names.queue(queue)])
    dlq_logical = queues[names.dlq(queue)]
    dlq = stack.properties(dlq_logical)
    assert work["VisibilityTimeout"] >= 6 * routing.CONSUMER_TIMEOUT_SECONDS[queue]
    assert work["RedrivePolicy"] == {
        "deadLetterTargetArn": stack.attribute(dlq_logical, "Arn"),
        "maxReceiveCount": routing.MAX_RECEIVE_COUNT,
    }
    assert work["MessageRetentionPeriod"] == 4 * 24 * 3600
    assert dlq["MessageRetentionPeriod"] == 14 * 24 * 3600
    fifo = queue != resources.KB_EVENTS_QUEUE
    for props in (work, dlq):
        assert props["SqsManagedSseEnabled"] is True
        assert props.get("FifoQueue", False) is fifo
        if fifo:
            assert props["ContentBasedDeduplication"] is False


@pytest.mark.parametrize("topic", LAMBDA_TOPICS)
def test_lambda_topic_has_a_dlq_for_its_failure_destination(stack_for: Any, topic: str) -> None:
    stack, names = stack_for("dev"), ResourceNames(stage="dev")
    assert names.topic(topic) in named(stack, "AWS::SNS::Topic")
    dlq = stack.properties(named(stack, "AWS::SQS::Queue")[on_failure_queue(names.topic(topic))])
    assert dlq["QueueName"] == f"parley-dev-{topic}-dlq"
    assert dlq["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert dlq["SqsManagedSseEnabled"] is True
    assert "FifoQueue" not in dlq and "RedrivePolicy" not in dlq


def _statements(stack: cfn.Stack, policy_type: str, target_key: str) -> dict[str, list[Any]]:
    """Policy statements per target (queue URL, topic ARN or bucket name)."""
    found: dict[str, list[Any]] = {}
    for props in by_type(stack, policy_type).values():
        targets = props[target_key] if isinstance(props[target_key], list) else [props[target_key]]
        for target in targets:
            found.setdefault(target, []).extend(props["PolicyDocument"]["Statement"])
    return found


def _denies_plain_http(statements: list[dict[str, Any]]) -> bool:
    return any(
        s["Effect"] == "Deny"
        and s["Principal"] == "*"
        and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )


def test_queue_policies(stack_for: Any) -> None:
    stack, names = stack_for("dev"), ResourceNames(stage="dev")
    policies = _statements(stack, "AWS::SQS::QueuePolicy", "Queues")
    topic_arn = stack.attribute("ConversationEventsTopic", "Ref")
    for name, logical in named(stack, "AWS::SQS::Queue").items():
        statements = policies[stack.attribute(logical, "Ref")]
        assert _denies_plain_http(statements), name
        senders = [s for s in statements if s["Effect"] == "Allow"]
        queue = next((q for q in routing.TOPIC_SUBSCRIPTIONS if names.queue(q) == name), None)
        if queue is not None:
            assert senders[0]["Action"] == "sqs:SendMessage"
            assert senders[0]["Condition"] == {"ArnEquals": {"aws:SourceArn": topic_arn}}
        elif name == names.queue(resources.KB_EVENTS_QUEUE):
            source = senders[0]["Condition"]["ArnLike"]["aws:SourceArn"]
            assert source == stack.attribute("KnowledgeBaseBucket", "Arn")
        else:
            assert senders == [], name


def test_topics_are_encrypted_and_eum_social_may_publish(stack_for: Any) -> None:
    stack = stack_for("dev")
    key_arn = stack.attribute("Key", "Arn")
    for props in by_type(stack, "AWS::SNS::Topic").values():
        assert props["KmsMasterKeyId"] == key_arn
    policies = _statements(stack, "AWS::SNS::TopicPolicy", "Topics")
    eum = policies[stack.attribute("EumInboundTopic", "Ref")]
    assert any(
        s["Effect"] == "Allow"
        and s["Principal"] == {"Service": "social-messaging.amazonaws.com"}
        and s["Action"] == "sns:Publish"
        for s in eum
    )
    assert all(_denies_plain_http(statements) for statements in policies.values())


@pytest.mark.parametrize("stage", STAGES)
def test_tables(stack_for: Any, stage: str) -> None:
    stack = stack_for(stage)
    key_arn = stack.attribute("Key", "Arn")
    names = ResourceNames(stage=stage)
    tables = named(stack, "AWS::DynamoDB::Table")
    for name, logical in tables.items():
        props = stack.properties(logical)
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["SSESpecification"] == {
            "SSEEnabled": True,
            "SSEType": "KMS",
            "KMSMasterKeyId": key_arn,
        }
        assert props["DeletionProtectionEnabled"] is (stage == "prod")
        ttl = "expiration" if name == names.table("idempotency") else "expires_at"
        assert props["TimeToLiveSpecification"] == {"AttributeName": ttl, "Enabled": True}
    idempotency = stack.properties(tables[names.table("idempotency")])
    assert idempotency["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    sessions = stack.properties(tables[names.table("sessions")])
    assert [i["IndexName"] for i in sessions["GlobalSecondaryIndexes"]] == ["gsi1", "gsi2"]
    handoffs = stack.properties(tables[names.table("handoffs")])
    assert handoffs["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert handoffs["GlobalSecondaryIndexes"][0]["KeySchema"] == [
        {"AttributeName": "gsi1pk", "KeyType": "HASH"},
        {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
    ]


def test_buckets(stack_for: Any) -> None:
    stack, names = stack_for("prod"), ResourceNames(stage="prod")
    key_arn = stack.attribute("Key", "Arn")
    policies = _statements(stack, "AWS::S3::BucketPolicy", "Bucket")
    buckets = named(stack, "AWS::S3::Bucket")
    for name, logical in buckets.items():
        props = stack.properties(logical)
        rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert rule["ServerSideEncryptionByDefault"] == {
            "SSEAlgorithm": "aws:kms",
            "KMSMasterKeyID": key_arn,
        }
        assert rule["BucketKeyEnabled"] is True
        assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
        assert len(props["PublicAccessBlockConfiguration"]) == 4
        assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        assert _denies_plain_http(policies[name])
        deny = next(s for s in policies[name] if s["Effect"] == "Deny")
        assert deny["Resource"] == [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"]
    media = stack.properties(buckets[names.bucket("media")])
    assert media["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == 30
    payloads = stack.properties(buckets[names.bucket("event-payloads")])
    assert payloads["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"] == 19
    kb = stack.properties(buckets[names.bucket("knowledge-base")])
    assert kb["VersioningConfiguration"] == {"Status": "Enabled"}
    kb_queue = stack.attribute(named(stack, "AWS::SQS::Queue")[names.queue("kb-events")], "Arn")
    events = [
        (c["Event"], c["Queue"]) for c in kb["NotificationConfiguration"]["QueueConfigurations"]
    ]
    assert events == [("s3:ObjectCreated:*", kb_queue), ("s3:ObjectRemoved:*", kb_queue)]


def test_secrets_have_the_development_keys_and_no_values(stack_for: Any) -> None:
    stack, names = stack_for("prod"), ResourceNames(stage="prod")
    secrets = named(stack, "AWS::SecretsManager::Secret")
    for secret in resources.SECRETS:
        props = stack.properties(secrets[names.secret(secret)])
        assert props["KmsKeyId"] == stack.attribute("Key", "Arn")
        generated = props["GenerateSecretString"]
        document = json.loads(generated["SecretStringTemplate"])
        assert set(document) | {generated["GenerateStringKey"]} == set(DEV_SECRETS[secret])
        assert not set(document.values()) & set(DEV_SECRETS[secret].values()) - {"webhook"}


def test_key_rotation_and_service_principals(stack_for: Any) -> None:
    stack = stack_for("dev")
    key = stack.properties("Key")
    assert key["EnableKeyRotation"] is True
    statements = key["KeyPolicy"]["Statement"]
    assert statements[0]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    services = {s for st in statements[1:] for s in st["Principal"]["Service"]}
    assert {"sns.amazonaws.com", "s3.amazonaws.com", "social-messaging.amazonaws.com"} <= services


HANDLERS = {
    "parley-ingestion": ("send_outbound", "receive_eum_inbound"),
    "parley-context": ("apply_context_events", "sweep_sessions"),
    "parley-ai-processing": ("handle_turns", "index_knowledge_base"),
    "parley-media": ("process_media",),
    "parley-escalation": ("handle_escalation_events", "watch_handoff_sla"),
}


def test_alarms(stack_for: Any) -> None:
    stack, names = stack_for("dev"), ResourceNames(stage="dev")
    alarms = list(by_type(stack, "AWS::CloudWatch::Alarm").values())
    ops = stack.attribute("OpsAlarmsTopic", "TopicArn")
    assert all(a["AlarmActions"] == [ops] and a["Threshold"] is not None for a in alarms)

    def watched(metric: str) -> set[str]:
        return {a["Dimensions"][0]["Value"] for a in alarms if a["MetricName"] == metric}

    queues = (*resources.QUEUES, resources.KB_EVENTS_QUEUE)
    dlqs = {names.dlq(q) for q in queues}
    dlqs |= {on_failure_queue(names.topic(t)) for t in LAMBDA_TOPICS}
    assert watched("ApproximateNumberOfMessagesVisible") == dlqs
    assert watched("ApproximateAgeOfOldestMessage") == {names.queue(q) for q in queues}
    functions = {f"{app}-dev-{h}" for app, handlers in HANDLERS.items() for h in handlers}
    assert functions <= watched("Errors")
    assert watched("Errors") - functions == {f"{app}-dev" for app in HANDLERS}  # API functions
    for alarm in alarms:
        if alarm["MetricName"] in ("Errors", "ApproximateNumberOfMessagesVisible"):
            assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")


def test_cache_network(stack_for: Any) -> None:
    stack = stack_for("dev")
    cache = stack.properties("Cache")
    assert cache["Engine"] in ("valkey", "redis")
    assert cache["SubnetIds"] == ["subnet-0a", "subnet-0b"]
    ingress = stack.properties("CacheSecurityGroup")["SecurityGroupIngress"]
    lambda_sg = stack.attribute("LambdaSecurityGroup", "GroupId")
    assert [(r["FromPort"], r["ToPort"], r["SourceSecurityGroupId"]) for r in ingress] == [
        (6379, 6379, lambda_sg)
    ]


def test_outputs_cover_every_name_arn_and_url(stack_for: Any, template: dict[str, Any]) -> None:
    stack = stack_for("dev")
    values = {stack.resolve(o["Value"]) for o in template["Outputs"].values()}
    for logical in stack.resources:
        rtype = stack.resource_type(logical)
        wanted = {"AWS::SQS::Queue": ("QueueName", "Arn", "QueueUrl"),
                  "AWS::SNS::Topic": ("TopicName", "TopicArn"),
                  "AWS::DynamoDB::Table": ("Ref", "Arn"), "AWS::S3::Bucket": ("Ref", "Arn"),
                  "AWS::SecretsManager::Secret": ("Ref",)}.get(rtype, ())  # fmt: skip
        for attribute in wanted:
            assert stack.attribute(logical, attribute) in values, (logical, attribute)
    for logical, attribute in [
        ("Key", "Arn"),
        ("Cache", "Endpoint.Address"),
        ("LambdaSecurityGroup", "GroupId"),
    ]:
        assert stack.attribute(logical, attribute) in values


def test_claim_check_payloads_outlive_every_message_that_references_them(
    template: dict[str, Any],
) -> None:
    """A message may wait its queue's retention, then (FIFO: the clock restarts on the move) its
    DLQ's retention before someone redrives it: its claim-check payload must still be there."""
    resources_ = template["Resources"]
    queues = [r["Properties"] for r in resources_.values() if r["Type"] == "AWS::SQS::Queue"]
    by_arn = {
        name: r["Properties"] for name, r in resources_.items() if r["Type"] == "AWS::SQS::Queue"
    }
    longest_days = 0.0
    for queue in queues:
        retention = queue.get("MessageRetentionPeriod", 345600)
        dlq = (
            queue.get("RedrivePolicy", {}).get("deadLetterTargetArn", {}).get("Fn::GetAtt", [""])[0]
        )
        dlq_retention = by_arn[dlq].get("MessageRetentionPeriod", 345600) if dlq else 0
        longest_days = max(longest_days, (retention + dlq_retention) / 86400)
    rules = resources_["EventPayloadsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    [expiry] = [rule["ExpirationInDays"] for rule in rules if "ExpirationInDays" in rule]
    assert expiry > longest_days, (expiry, longest_days)
