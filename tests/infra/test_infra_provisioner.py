"""The local provisioner against a real moto server: resources, routing, notifications, reruns."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import boto3
import pytest

from infra.deploy_config import on_failure_queue
from infra.local import cfn, provisioner
from parley import resources, routing
from parley.resources import ResourceNames

REPO = Path(__file__).resolve().parents[2]
PREFIX = "infratest"  # its own names, so other suites sharing the moto server are not disturbed
STAGE = "local"
NAMES = ResourceNames(stage=STAGE, prefix=PREFIX)
DEV_SECRETS = json.loads((REPO / "infra/local/dev_secrets.json").read_text(encoding="utf-8"))
ALL_QUEUES = (*resources.QUEUES, resources.KB_EVENTS_QUEUE)


def client(service: str) -> Any:
    return boto3.client(service, region_name="us-east-1")


@pytest.fixture(scope="module")
def provisioned(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One run of the command line, as `make run` does it; returns its output map."""
    output = tmp_path_factory.mktemp("provisioner") / "resources.json"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    command = [sys.executable, "-m", "infra.local.provisioner", "--stage", STAGE]
    result = subprocess.run(
        [*command, "--prefix", PREFIX, "--output", str(output)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "AWS::SQS::Queue: 13 - 13 created" in result.stdout
    assert "AWS::CloudWatch::Alarm: 27 - 27 skipped" in result.stdout
    # SES identities are per account, not per prefix: an earlier run may have verified it.
    assert "AWS::SES::EmailIdentity: 1 - 1 " in result.stdout
    assert (
        "skip Cache (AWS::ElastiCache::ServerlessCache): the local runtime uses redis-server"
        in (result.stderr)
    )
    return dict(json.loads(output.read_text(encoding="utf-8")))


def queue_url(name: str) -> str:
    return str(client("sqs").get_queue_url(QueueName=name)["QueueUrl"])


def queue_attributes(name: str) -> dict[str, str]:
    attributes = client("sqs").get_queue_attributes(
        QueueUrl=queue_url(name), AttributeNames=["All"]
    )
    return dict(attributes["Attributes"])


def drain(name: str, seconds: float) -> list[dict[str, Any]]:
    """Receive (and delete) everything that arrives on a queue within `seconds`."""
    sqs, url, received = client("sqs"), queue_url(name), []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        ).get("Messages", [])
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        received.extend(batch)
    return received


def test_output_map(provisioned: dict[str, Any]) -> None:
    queue = provisioned["TurnsQueue"]
    assert queue["Type"] == "AWS::SQS::Queue"
    assert queue["Name"] == NAMES.queue("turns")
    assert queue["Url"] == queue_url(NAMES.queue("turns"))
    assert queue["Arn"] == f"arn:aws:sqs:us-east-1:123456789012:{NAMES.queue('turns')}"
    assert provisioned["ConversationEventsTopic"]["Arn"].endswith(
        f":{NAMES.topic('conversation-events')}"
    )
    assert provisioned["SessionsTable"]["Name"] == NAMES.table("sessions")
    assert provisioned["MediaBucket"]["Arn"] == f"arn:aws:s3:::{NAMES.bucket('media')}"
    assert provisioned["WhatsappSecret"]["Name"] == NAMES.secret("whatsapp")
    assert "Cache" not in provisioned and "TurnsDlqAlarm" not in provisioned


@pytest.mark.parametrize("queue", ALL_QUEUES)
def test_queues_and_redrive(provisioned: dict[str, Any], queue: str) -> None:
    work, dlq = queue_attributes(NAMES.queue(queue)), queue_attributes(NAMES.dlq(queue))
    assert int(work["VisibilityTimeout"]) == 6 * routing.CONSUMER_TIMEOUT_SECONDS[queue]
    redrive = json.loads(work["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == dlq["QueueArn"]
    assert int(redrive["maxReceiveCount"]) == routing.MAX_RECEIVE_COUNT
    assert work["MessageRetentionPeriod"] == str(4 * 86400)
    assert dlq["MessageRetentionPeriod"] == str(14 * 86400)
    fifo = "true" if queue != resources.KB_EVENTS_QUEUE else None
    assert work.get("FifoQueue") == fifo and dlq.get("FifoQueue") == fifo
    assert work["SqsManagedSseEnabled"] == "true"
    # The TLS-only deny is not applied on the plain-HTTP emulator; the allow statements are.
    allowed = [
        s["Principal"]["Service"] for s in json.loads(work.get("Policy", "{}")).get("Statement", [])
    ]
    if queue in routing.TOPIC_SUBSCRIPTIONS:
        assert allowed == ["sns.amazonaws.com"]
    elif queue == resources.KB_EVENTS_QUEUE:
        assert allowed == ["s3.amazonaws.com"]
    else:
        assert allowed == []
    assert "Policy" not in dlq


def test_eum_inbound_dlq(provisioned: dict[str, Any]) -> None:
    name = on_failure_queue(NAMES.topic("eum-inbound"))
    attributes = queue_attributes(name)
    assert provisioned["EumInboundDlq"]["Name"] == name == f"{PREFIX}-{STAGE}-eum-inbound-dlq"
    assert attributes["MessageRetentionPeriod"] == str(14 * 86400)
    assert attributes["SqsManagedSseEnabled"] == "true"
    assert "FifoQueue" not in attributes and "RedrivePolicy" not in attributes


def test_topics_and_subscriptions(provisioned: dict[str, Any]) -> None:
    sns = client("sns")
    topic = provisioned["ConversationEventsTopic"]["Arn"]
    attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert attributes["FifoTopic"] == "true"
    assert attributes["KmsMasterKeyId"] == provisioned["Key"]["Arn"]
    for name in resources.STANDARD_TOPICS:
        arn = provisioned[name.title().replace("-", "") + "Topic"]["Arn"]
        assert arn.endswith(f":{NAMES.topic(name)}")
    eum = sns.get_topic_attributes(TopicArn=provisioned["EumInboundTopic"]["Arn"])["Attributes"]
    assert "social-messaging.amazonaws.com" in eum["Policy"]
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    by_queue = {s["Endpoint"].rsplit(":", 1)[-1]: s["SubscriptionArn"] for s in subscriptions}
    assert set(by_queue) == {NAMES.queue(q) for q in routing.TOPIC_SUBSCRIPTIONS}
    for queue, types in routing.TOPIC_SUBSCRIPTIONS.items():
        sub = sns.get_subscription_attributes(SubscriptionArn=by_queue[NAMES.queue(queue)])
        assert sub["Attributes"]["RawMessageDelivery"] == "true"
        assert sub["Attributes"]["FilterPolicyScope"] == "MessageAttributes"
        assert json.loads(sub["Attributes"]["FilterPolicy"]) == {"event_type": list(types)}


@pytest.mark.parametrize("table", resources.TABLES)
def test_tables(provisioned: dict[str, Any], table: str) -> None:
    ddb, name = client("dynamodb"), NAMES.table(table)
    description = ddb.describe_table(TableName=name)["Table"]
    assert description["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert description["SSEDescription"]["SSEType"] == "KMS"
    assert description["SSEDescription"]["KMSMasterKeyArn"] == provisioned["Key"]["Arn"]
    ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    expected_ttl = "expiration" if table == "idempotency" else "expires_at"
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", expected_ttl)
    backups = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    pitr = backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]
    assert pitr == "ENABLED"
    indexes = [i["IndexName"] for i in description.get("GlobalSecondaryIndexes", [])]
    expected = {"idempotency": [], "sessions": ["gsi1", "gsi2"]}.get(table, ["gsi1"])
    assert indexes == expected


@pytest.mark.parametrize("bucket", resources.BUCKETS)
def test_buckets(provisioned: dict[str, Any], bucket: str) -> None:
    s3, name = client("s3"), NAMES.bucket(bucket)
    rule = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": provisioned["Key"]["Arn"],
    }
    assert rule["BucketKeyEnabled"] is True
    block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    assert block == dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
    )
    # moto enforces bucket policies: the TLS-only deny (the whole policy) is left out locally.
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket=name)
    lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"][0]
    if bucket == "media":
        assert lifecycle["Expiration"] == {"Days": 30}
        assert lifecycle["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    versioning = s3.get_bucket_versioning(Bucket=name).get("Status")
    assert versioning == ("Enabled" if bucket == "knowledge-base" else None)


@pytest.mark.parametrize("secret", resources.SECRETS)
def test_secrets_hold_the_development_values(provisioned: dict[str, Any], secret: str) -> None:
    sm = client("secretsmanager")
    value = sm.get_secret_value(SecretId=NAMES.secret(secret))["SecretString"]
    assert json.loads(value) == DEV_SECRETS[secret]
    assert (
        sm.describe_secret(SecretId=NAMES.secret(secret))["KmsKeyId"] == provisioned["Key"]["Arn"]
    )


def test_key_alias_and_rotation(provisioned: dict[str, Any]) -> None:
    kms, key_id = client("kms"), provisioned["Key"]["Ref"]
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
    assert aliases[f"alias/{PREFIX}-{STAGE}"] == key_id


@pytest.fixture
def published(provisioned: dict[str, Any]) -> Iterator[dict[str, str]]:
    """Publish one message per event type on the FIFO topic; yields event type -> body."""
    sns, topic, bodies = client("sns"), provisioned["ConversationEventsTopic"]["Arn"], {}
    event_types = sorted({t for types in routing.TOPIC_SUBSCRIPTIONS.values() for t in types})
    for event_type in [*event_types, "not.routed"]:
        body = json.dumps({"type": event_type, "event_id": uuid.uuid4().hex})
        sns.publish(
            TopicArn=topic, Message=body, MessageGroupId=f"100000000000001:{uuid.uuid4().hex}",
            MessageDeduplicationId=uuid.uuid4().hex,
            MessageAttributes={"event_type": {"DataType": "String", "StringValue": event_type}},
        )  # fmt: skip
        bodies[event_type] = body
    yield bodies
    for queue in routing.TOPIC_SUBSCRIPTIONS:
        drain(NAMES.queue(queue), 0)


def test_topic_fans_out_by_event_type(published: dict[str, str]) -> None:
    received = {q: drain(NAMES.queue(q), 3) for q in routing.TOPIC_SUBSCRIPTIONS}
    bodies = {q: sorted(m["Body"] for m in messages) for q, messages in received.items()}
    # raw delivery: the body is the published message itself, not an SNS envelope
    assert published["message.received"] in bodies["context"]
    assert published["message.received"] in bodies["escalation"]
    assert published["message.received"] not in bodies["media"]
    for queue in ("media", "outbound", "escalation"):
        assert published["customer.erased"] in bodies[queue]
    assert published["customer.erased"] not in bodies["context"]
    expected = {
        q: sorted(published[t] for t in types) for q, types in routing.TOPIC_SUBSCRIPTIONS.items()
    }
    assert bodies == expected
    attribute = received["media"][0]["MessageAttributes"]["event_type"]
    assert attribute["StringValue"] == "customer.erased"


def test_knowledge_base_bucket_notifies_kb_events(provisioned: dict[str, Any]) -> None:
    s3, bucket, key = client("s3"), NAMES.bucket("knowledge-base"), f"docs/{uuid.uuid4().hex}.md"
    put = s3.put_object(Bucket=bucket, Key=key, Body=b"# Opening hours\nMon-Fri 9-18\n")
    # moto notifies removals of a version only (a delete marker sends nothing, unlike AWS)
    s3.delete_object(Bucket=bucket, Key=key, VersionId=put["VersionId"])
    records = [
        record
        for message in drain(NAMES.queue(resources.KB_EVENTS_QUEUE), 3)
        for record in json.loads(message["Body"]).get("Records", [])
        # keys arrive URL-encoded (moto also encodes "/" as %2F, AWS does not): unquote_plus
        if unquote_plus(record["s3"]["object"]["key"]) == key
    ]
    assert [r["eventName"].split(":")[0] for r in records] == ["ObjectCreated", "ObjectRemoved"]
    assert records[0]["s3"]["bucket"]["name"] == bucket


def test_second_run_changes_nothing(provisioned: dict[str, Any]) -> None:
    sm, sns = client("secretsmanager"), client("sns")
    versions = len(sm.list_secret_version_ids(SecretId=NAMES.secret("whatsapp"))["Versions"])
    args = provisioner.parse_args(["--stage", STAGE, "--prefix", PREFIX])
    stack = provisioner.build_stack(args)
    report = provisioner.provision(stack, provisioner.Clients(stack.region), DEV_SECRETS)
    outcomes = {o for counts in report.outcomes.values() for o in counts}
    assert outcomes == {"unchanged", "skipped"}, report.summary()
    assert report.resources == provisioned
    assert len(client("kms").list_aliases()["Aliases"]) >= 1
    topic = provisioned["ConversationEventsTopic"]["Arn"]
    assert len(sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]) == 4
    assert (
        len(sm.list_secret_version_ids(SecretId=NAMES.secret("whatsapp"))["Versions"]) == versions
    )


def test_tls_only_statements_are_kept_for_tls_endpoints(template: dict[str, Any]) -> None:
    stack = cfn.Stack(template, {"Stage": "dev"})
    document = stack.properties("MediaBucketPolicy")["PolicyDocument"]
    for endpoint, statements in [("https://aws.example", 1), ("http://127.0.0.1:1", 0)]:
        ctx = provisioner.Context(stack, provisioner.Clients("us-east-1", endpoint), {})
        policy = provisioner._local_policy(ctx, "MediaBucketPolicy", document)
        assert len(json.loads(policy)["Statement"] if policy else []) == statements


def test_stage_must_be_allowed(moto_endpoint: str) -> None:
    with pytest.raises(cfn.TemplateError, match="not in"):
        provisioner.build_stack(provisioner.parse_args(["--stage", "qa"]))


def test_notifications_sender_is_a_verified_ses_identity(provisioned: dict[str, Any]) -> None:
    ses = client("ses")
    assert "handoffs@parley.local" in ses.list_identities()["Identities"]
    ses.send_email(  # SES refuses a sender that is not a verified identity
        Source="handoffs@parley.local",
        Destination={"ToAddresses": ["agents@parley.local"]},
        Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}},
    )
