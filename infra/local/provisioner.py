"""Create the resources of `infra/template.yaml` on the local AWS emulator (moto server).

    python -m infra.local.provisioner --stage local [--endpoint URL] [--output FILE]

moto's own CloudFormation lacks SNS subscription attributes, secrets values and TTL, so this reads
the template through `infra.local.cfn` and calls the service APIs itself, one handler per resource
type. Types that have no local meaning (cache, alarms, network, IAM) are skipped with the reason.
Idempotent: existing resources are found by name and only brought in line with the template.
Clients honour `AWS_ENDPOINT_URL`; `--endpoint` overrides it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.local import cfn

LOG = logging.getLogger("parley.provisioner")
REPO_ROOT = Path(__file__).resolve().parents[2]
DEV_SECRETS_PATH = Path(__file__).with_name("dev_secrets.json")
DEFAULT_OUTPUT = REPO_ROOT / ".run" / "resources.json"
STACK_TAG = "parley:local-stack"
LOGICAL_TAG = "parley:logical-id"

Attributes = dict[str, Any]
Outcome = tuple[Attributes, str]  # (Ref / GetAtt values, "created" | "updated" | "unchanged")

SKIP_REASONS: dict[str, str] = {
    "AWS::ElastiCache::ServerlessCache": "the local runtime uses redis-server",
    "AWS::CloudWatch::Alarm": "nothing evaluates alarms locally",
    "AWS::EC2::SecurityGroup": "there is no VPC locally",
    "AWS::EC2::SecurityGroupIngress": "there is no VPC locally",
    "AWS::EC2::SecurityGroupEgress": "there is no VPC locally",
    "AWS::IAM::": "the emulator does not enforce IAM",
}


@dataclass
class Clients:
    """boto3 clients created on first use (boto3 reads AWS_ENDPOINT_URL by itself)."""

    region: str
    endpoint: str | None = None
    _cache: dict[str, Any] = field(default_factory=dict)

    def __call__(self, service: str) -> Any:
        if service not in self._cache:
            import boto3

            extra = {"endpoint_url": self.endpoint} if self.endpoint else {}
            self._cache[service] = boto3.client(service, region_name=self.region, **extra)
        return self._cache[service]

    @property
    def plain_http(self) -> bool:
        """Whether requests go to an emulator over plain HTTP (no TLS)."""
        return (self.endpoint or os.environ.get("AWS_ENDPOINT_URL", "")).startswith("http://")


@dataclass
class Context:
    stack: cfn.Stack
    client: Clients
    dev_secrets: dict[str, Any]


Handler = Callable[[Context, str, dict[str, Any]], Outcome]


def _attr_text(value: Any) -> str:
    """An SQS/SNS attribute value: JSON for documents, lower-case booleans."""
    if isinstance(value, dict | list):
        return json.dumps(value)
    return cfn._text(value)


def _same(current: str | None, wanted: str) -> bool:
    if current == wanted or current is None:
        return current == wanted
    try:
        return bool(json.loads(current) == json.loads(wanted))
    except ValueError:
        return False


def _changed(current: dict[str, str], wanted: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in wanted.items() if not _same(current.get(k), v)}


def _pick(props: dict[str, Any], names: Iterable[str]) -> dict[str, str]:
    return {name: _attr_text(props[name]) for name in names if name in props}


def _name(ctx: Context, logical: str, props: dict[str, Any]) -> str:
    prop = cfn.NAME_PROPERTIES.get(ctx.stack.resource_type(logical), "")
    return str(props.get(prop) or ctx.stack.physical_name(logical))


# ---------------------------------------------------------------- KMS


def kms_key(ctx: Context, logical: str, props: dict[str, Any]) -> Outcome:
    kms = ctx.client("kms")
    tags = {STACK_TAG: ctx.stack.stack_name, LOGICAL_TAG: logical}
    key_id, status = _find_key(kms, tags), "unchanged"
    if key_id is None:
        key_id = kms.create_key(
            Description=props.get("Description", logical),
            KeyUsage=props.get("KeyUsage", "ENCRYPT_DECRYPT"),
            KeySpec=props.get("KeySpec", "SYMMETRIC_DEFAULT"),
            Policy=json.dumps(props["KeyPolicy"]),
            Tags=[{"TagKey": k, "TagValue": v} for k, v in tags.items()],
        )["KeyMetadata"]["KeyId"]
        status = "created"
    if props.get("EnableKeyRotation"):
        kms.enable_key_rotation(KeyId=key_id)
    arn = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    return {"Ref": key_id, "KeyId": key_id, "Arn": arn}, status


def _find_key(kms: Any, tags: dict[str, str]) -> str | None:
    for page in kms.get_paginator("list_keys").paginate():
        for key in page["Keys"]:
            found = kms.list_resource_tags(KeyId=key["KeyId"])["Tags"]
            if tags.items() <= {t["TagKey"]: t["TagValue"] for t in found}.items():
                return str(key["KeyId"])
    return None


def kms_alias(ctx: Context, logical: str, props: dict[str, Any]) -> Outcome:
    kms = ctx.client("kms")
    name, target = props["AliasName"], str(props["TargetKeyId"]).rsplit("/", 1)[-1]
    aliases = kms.get_paginator("list_aliases").paginate().build_full_result()["Aliases"]
    current = {a["AliasName"]: a.get("TargetKeyId") for a in aliases}
    status = "unchanged"
    if name not in current:
        kms.create_alias(AliasName=name, TargetKeyId=target)
        status = "created"
    elif current[name] != target:
        kms.update_alias(AliasName=name, TargetKeyId=target)
        status = "updated"
    return {"Ref": name}, status


# ---------------------------------------------------------------- SQS

QUEUE_ATTRIBUTES = (
    "DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout", "RedrivePolicy", "RedriveAllowPolicy", "FifoQueue",
    "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit", "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds", "SqsManagedSseEnabled",
)  # fmt: skip


def sqs_queue(ctx: Context, logical: str, props: dict[str, Any]) -> Outcome:
    sqs, name = ctx.client("sqs"), _name(ctx, logical, props)
    wanted = _pick(props, QUEUE_ATTRIBUTES)
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        tags = {t["Key"]: t["Value"] for t in props.get("Tags", [])}
        url = sqs.create_queue(QueueName=name, Attributes=wanted, tags=tags)["QueueUrl"]
        status = "created"
    else:
        current = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        changed = _changed(current, {k: v for k, v in wanted.items() if k != "FifoQueue"})
        if changed:
            sqs.set_queue_attributes(QueueUrl=url, Attributes=changed)
        status = "updated" if changed else "unchanged"
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return {"Ref": url, "QueueUrl": url, "Arn": arn["QueueArn"], "QueueName": name}, status


# ---------------------------------------------------------------- SNS

TOPIC_ATTRIBUTES = ("DisplayName", "KmsMasterKeyId", "FifoTopic", "ContentBasedDeduplication",
                    "SignatureVersion", "TracingConfig", "ArchivePolicy")  # fmt: skip
SUBSCRIPTION_ATTRIBUTES = ("DeliveryPolicy", "FilterPolicy", "FilterPolicyScope",
                           "RawMessageDelivery", "RedrivePolicy")  # fmt: skip


def sns_topic(ctx: Context, logical: str, props: dict[str, Any]) -> Outcome:
    sns, name = ctx.client("sns"), _name(ctx, logical, props)
    wanted = _pick(props, TOPIC_ATTRIBUTES)
    topics = sns.get_paginator("list_topics").paginate().build_full_result()["Topics"]
    arn = next((t["TopicArn"] for t in topics if t["TopicArn"].endswith(f":{name}")), None)
    if arn is None:
        tags = props.get("Tags", [])
        arn = sns.create_topic(Name=name, Attributes=wanted, Tags=tags)["TopicArn"]
        status = "created"
    else:
        current = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        changed = _changed(current, {k: v for k, v in wanted.items() if k != "FifoTopic"})
        for key, value in changed.items():
            sns.set_topic_attributes(TopicArn=arn, AttributeName=key, AttributeValue=value)
        status = "updated" if changed else "unchanged"
    return {"Ref": arn, "TopicArn": arn, "TopicName": name}, status


def sns_subscription(ctx: Context, logical: str, props: dict[str, Any]) -> Outcome:
    sns, topic = ctx.client("sns"), props["TopicArn"]
    wanted = _pick(props, SUBSCRIPTION_ATTRIBUTES)
    pages = sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic)
    existing = pages.build_full_result()["Subscriptions"]
    match = (props["Protocol"], props.get("Endpoint"))
    arn = next(
        (s["SubscriptionArn"] for s in existing if (s["Protocol"], s["Endpoint"]) == match), None
    )
    if arn is None:
        arn = sns.subscribe(
            TopicArn=topic, Protocol=props["Protocol"], Endpoint=props.get("Endpoint"),
            Attributes=wanted, ReturnSubscriptionArn=True,
        )["SubscriptionArn"]  # fmt: skip
        return {"Ref": arn, "Arn": arn}, "created"
    current = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    changed = _changed(current, wanted)
    for key, value in changed.items():
        sns.set_subscription_attributes(
            SubscriptionArn=arn, AttributeName=key, AttributeValue=value
        )
    return {"Ref": arn, "Arn": arn}, "updated" if changed else "unchanged"


# ---------------------------------------------------------------- DynamoDB

TABLE_REQUEST_KEYS = ("AttributeDefinitions", "KeySchema", "BillingMode", "GlobalSecondaryIndexes",
                      "LocalSecondaryIndexes", "ProvisionedThroughput", "TableClass",
                      "DeletionProtectionEnabled", "Tags")  # fmt: skip


def dynamodb_table(ctx: Context, logical: str, props: dict[str, Any]) -> Outcome:
    ddb, name = ctx.client("dynamodb"), _name(ctx, logical, props)
    try:
        table, status = ddb.describe_table(TableName=name)["Table"], "unchanged"
    except ddb.exceptions.ResourceNotFoundException:
        table = ddb.create_table(**_table_request(name, props))["TableDescription"]
        status = "created"
    ttl = props.get("TimeToLiveSpecification")
    if ttl and _ensure_ttl(ddb, name, ttl) and status == "unchanged":
        status = "updated"
    pitr = props.get("PointInTimeRecoverySpecification", {})
    if pitr.get("PointInTimeRecoveryEnabled"):
        ddb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    attributes = {"Ref": name, "Arn": table["TableArn"]}
    if "LatestStreamArn" in table:
        attributes["StreamArn"] = table["LatestStreamArn"]
    return attributes, status


def _table_request(name: str, props: dict[str, Any]) -> dict[str, Any]:
    request = {key: props[key] for key in TABLE_REQUEST_KEYS if key in props}
    request["TableName"] = name
    sse = props.get("SSESpecification")
    if sse:
        request["SSESpecification"] = {"Enabled": sse.get("SSEEnabled", False)} | {
            k: sse[k] for k in ("SSEType", "KMSMasterKeyId") if k in sse
        }
    stream = props.get("StreamSpecification")
    if stream:
        request["StreamSpecification"] = {"StreamEnabled": True} | stream
    return request


def _ensure_ttl(ddb: Any, name: str, spec: dict[str, Any]) -> bool:
    """Set the table's TTL as specified; True when it had to change."""
    current = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    enabled = current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")
    if enabled == bool(spec["Enabled"]) and current.get("AttributeName") == spec["AttributeName"]:
        return False
    ddb.update_time_to_live(
        TableName=name,
        TimeToLiveSpecification={
            "AttributeName": spec["AttributeName"],
            "Enabled": spec["Enabled"],
        },
    )
    return True


# ---------------------------------------------------------------- S3


def s3_bucket(ctx: Context, logical: str, props: dict[str, Any]) -> Outcome:
    s3, name = ctx.client("s3"), _name(ctx, logical, props)
    status = "unchanged"
    try:
        s3.head_bucket(Bucket=name)
    except s3.exceptions.ClientError:
        location = (
            {} if ctx.stack.region == "us-east-1" else {"LocationConstraint": ctx.stack.region}
        )
        s3.create_bucket(
            Bucket=name, **({"CreateBucketConfiguration": location} if location else {})
        )
        status = "created"
    for key, (method, parameter, shape) in BUCKET_SETTINGS.items():
        if key in props:
            getattr(s3, method)(Bucket=name, **{parameter: shape(props[key])})
    keys = ("Ref", "Arn", "DomainName", "RegionalDomainName")
    return {key: ctx.stack.attribute(logical, key) for key in keys}, status


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    api: dict[str, Any] = {"Status": rule["Status"], "Filter": {"Prefix": rule.get("Prefix", "")}}
    api["ID"] = rule.get("Id", "rule")
    if "ExpirationInDays" in rule:
        api["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "AbortIncompleteMultipartUpload" in rule:
        days = rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
        api["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": int(days)}
    noncurrent = rule.get("NoncurrentVersionExpiration")
    if noncurrent:
        api["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(noncurrent["NoncurrentDays"])}
    return api


NOTIFICATION_KINDS = (  # CloudFormation key, API key, CloudFormation target, API target
    ("QueueConfigurations", "QueueConfigurations", "Queue", "QueueArn"),
    ("TopicConfigurations", "TopicConfigurations", "Topic", "TopicArn"),
    ("LambdaConfigurations", "LambdaFunctionConfigurations", "Function", "LambdaFunctionArn"),
)


def _notifications(config: dict[str, Any]) -> dict[str, Any]:
    api: dict[str, Any] = {}
    for cfn_key, api_key, target, api_target in NOTIFICATION_KINDS:
        for item in config.get(cfn_key, []):
            entry: dict[str, Any] = {api_target: item[target], "Events": [item["Event"]]}
            if "Filter" in item:
                entry["Filter"] = {"Key": {"FilterRules": item["Filter"]["S3Key"]["Rules"]}}
            api.setdefault(api_key, []).append(entry)
    return api


def _encryption(value: dict[str, Any]) -> dict[str, Any]:
    rules = value["ServerSideEncryptionConfiguration"]
    return {"Rules": [
        {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
         "BucketKeyEnabled": bool(rule.get("BucketKeyEnabled", False))}
        for rule in rules
    ]}  # fmt: skip


def _as_is(value: Any) -> Any:
    return value


BUCKET_SETTINGS: dict[str, tuple[str, str, Callable[[Any], Any]]] = {
    # CloudFormation property: (S3 client method, its parameter, CloudFormation -> API shape)
    "BucketEncryption": ("put_bucket_encryption", "ServerSideEncryptionConfiguration", _encryption),
    "PublicAccessBlockConfiguration": (
        "put_public_access_block", "PublicAccessBlockConfiguration", _as_is),
    "OwnershipControls": ("put_bucket_ownership_controls", "OwnershipControls", _as_is),
    "VersioningConfiguration": ("put_bucket_versioning", "VersioningConfiguration", _as_is),
    "LifecycleConfiguration": ("put_bucket_lifecycle_configuration", "LifecycleConfiguration",
                               lambda v: {"Rules": [_lifecycle_rule(r) for r in v["Rules"]]}),
    "NotificationConfiguration": (
        "put_bucket_notification_configuration", "NotificationConfiguration", _notifications),
    "Tags": ("put_bucket_tagging", "Tagging", lambda v: {"TagSet": v}),
}  # fmt: skip
"""Bucket properties applied after creation (each a PUT of the whole setting: idempotent)."""


# ---------------------------------------------------------------- resource policies


POLICY_TARGETS = {"AWS::SQS::QueuePolicy": "Queues", "AWS::SNS::TopicPolicy": "Topics",
                  "AWS::S3::BucketPolicy": "Bucket"}  # fmt: skip
"""Property that names the queues / topics / bucket a policy applies to."""


def _policy_io(ctx: Context, rtype: str, target: str) -> tuple[str | None, Callable[[str], Any]]:
    """The current policy of a queue, topic or bucket, and how to replace it."""
    if rtype == "AWS::SQS::QueuePolicy":
        sqs = ctx.client("sqs")
        current = sqs.get_queue_attributes(QueueUrl=target, AttributeNames=["Policy"])
        return current.get("Attributes", {}).get("Policy"), lambda doc: sqs.set_queue_attributes(
            QueueUrl=target, Attributes={"Policy": doc}
        )
    if rtype == "AWS::SNS::TopicPolicy":
        sns = ctx.client("sns")
        return sns.get_topic_attributes(TopicArn=target)["Attributes"].get(
            "Policy"
        ), lambda doc: sns.set_topic_attributes(
            TopicArn=target, AttributeName="Policy", AttributeValue=doc
        )
    s3 = ctx.client("s3")
    try:
        policy = s3.get_bucket_policy(Bucket=target)["Policy"]
    except s3.exceptions.ClientError:
        policy = None
    return policy, lambda doc: s3.put_bucket_policy(Bucket=target, Policy=doc)


def resource_policy(ctx: Context, logical: str, props: dict[str, Any]) -> Outcome:
    """Queue, topic and bucket policies: put on each target unless already identical."""
    rtype = ctx.stack.resource_type(logical)
    targets = props[POLICY_TARGETS[rtype]]
    document = _local_policy(ctx, logical, props["PolicyDocument"])
    status = "unchanged"
    for target in (targets if isinstance(targets, list) else [targets]) if document else []:
        current, write = _policy_io(ctx, rtype, target)
        if not _same(current, document):
            write(document)
            status = "updated"
    return {"Ref": logical}, status


def _local_policy(ctx: Context, logical: str, document: dict[str, Any]) -> str:
    """The policy as JSON, without TLS-only statements when the emulator speaks plain HTTP.

    moto evaluates bucket policies, so `Deny aws:SecureTransport=false` would refuse every
    request to http://127.0.0.1. Returns "" when nothing is left to apply.
    """
    statements = document.get("Statement", [])
    if ctx.client.plain_http:
        kept = [s for s in statements if "aws:SecureTransport" not in json.dumps(s)]
        if len(kept) < len(statements):
            LOG.info("%s: TLS-only statement not applied (plain-HTTP emulator)", logical)
        statements = kept
    return json.dumps(document | {"Statement": statements}) if statements else ""


# ---------------------------------------------------------------- Secrets Manager


def secret(ctx: Context, logical: str, props: dict[str, Any]) -> Outcome:
    sm, name = ctx.client("secretsmanager"), _name(ctx, logical, props)
    local = ctx.dev_secrets.get(name.rsplit("/", 1)[-1])
    wanted = json.dumps(local) if local is not None else None
    try:
        arn, status = sm.describe_secret(SecretId=name)["ARN"], "unchanged"
    except sm.exceptions.ResourceNotFoundException:
        extra = {k: props[k] for k in ("Description", "KmsKeyId", "Tags") if k in props}
        value = wanted or _template_secret(props)
        arn = sm.create_secret(Name=name, SecretString=value, **extra)["ARN"]
        return {"Ref": arn, "Id": arn, "Name": name}, "created"
    if wanted is not None and sm.get_secret_value(SecretId=name)["SecretString"] != wanted:
        sm.put_secret_value(SecretId=name, SecretString=wanted)
        status = "updated"
    return {"Ref": arn, "Id": arn, "Name": name}, status


def ses_identity(ctx: Context, logical: str, props: dict[str, Any]) -> Outcome:
    """An address is verified at once by the emulator (in AWS its owner clicks a link)."""
    ses, identity = ctx.client("ses"), str(props["EmailIdentity"])
    known = ses.list_identities().get("Identities", [])
    if identity in known:
        return {"Ref": identity}, "unchanged"
    if "@" in identity:
        ses.verify_email_identity(EmailAddress=identity)
    else:
        ses.verify_domain_identity(Domain=identity)
    return {"Ref": identity}, "created"


def _template_secret(props: dict[str, Any]) -> str:
    """The template's own value: SecretString, or GenerateSecretString's template + password."""
    if "SecretString" in props:
        return str(props["SecretString"])
    spec = props.get("GenerateSecretString", {})
    length = int(spec.get("PasswordLength", 32))
    password = secrets.token_urlsafe(length)[:length]
    if "GenerateStringKey" not in spec:
        return password
    document = json.loads(spec.get("SecretStringTemplate", "{}"))
    document[spec["GenerateStringKey"]] = password
    return json.dumps(document)


# ---------------------------------------------------------------- driver

HANDLERS: dict[str, Handler] = {
    "AWS::KMS::Key": kms_key,
    "AWS::KMS::Alias": kms_alias,
    "AWS::SQS::Queue": sqs_queue,
    "AWS::SQS::QueuePolicy": resource_policy,
    "AWS::SNS::Topic": sns_topic,
    "AWS::SNS::Subscription": sns_subscription,
    "AWS::SNS::TopicPolicy": resource_policy,
    "AWS::DynamoDB::Table": dynamodb_table,
    "AWS::S3::Bucket": s3_bucket,
    "AWS::S3::BucketPolicy": resource_policy,
    "AWS::SecretsManager::Secret": secret,
    "AWS::SES::EmailIdentity": ses_identity,
}


def skip_reason(resource_type: str) -> str:
    for prefix, reason in SKIP_REASONS.items():
        if resource_type.startswith(prefix):
            return reason
    return "no local handler for this resource type"


@dataclass
class Report:
    """What one provisioning run did: physical ids per logical id, outcomes per type."""

    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    outcomes: dict[str, Counter[str]] = field(default_factory=dict)

    def record(self, resource_type: str, outcome: str) -> None:
        self.outcomes.setdefault(resource_type, Counter())[outcome] += 1

    def summary(self) -> list[str]:
        lines = []
        for rtype, counts in sorted(self.outcomes.items()):
            detail = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
            skipped = f" ({skip_reason(rtype)})" if "skipped" in counts else ""
            lines.append(f"{rtype}: {sum(counts.values())} - {detail}{skipped}")
        return lines


def _physical(resource_type: str, attributes: Attributes) -> dict[str, Any]:
    """The output map entry: type plus whichever of name / ARN / URL the resource has."""
    entry: dict[str, Any] = {"Type": resource_type, "Ref": attributes["Ref"]}
    for key, names in {"Name": ("QueueName", "TopicName", "Name"), "Arn": ("Arn", "TopicArn"),
                       "Url": ("QueueUrl",)}.items():  # fmt: skip
        value = next((attributes[n] for n in names if n in attributes), None)
        if value is not None:
            entry[key] = value
    if "Name" not in entry and resource_type in cfn.NAME_PROPERTIES:
        entry["Name"] = attributes["Ref"]
    return entry


def provision(stack: cfn.Stack, clients: Clients, dev_secrets: dict[str, Any]) -> Report:
    """Create or update every resource the emulator supports, in dependency order."""
    ctx, report = Context(stack, clients, dev_secrets), Report()
    for logical in stack.creation_order():
        rtype = stack.resource_type(logical)
        handler = HANDLERS.get(rtype)
        if handler is None:
            LOG.info("skip %s (%s): %s", logical, rtype, skip_reason(rtype))
            report.record(rtype, "skipped")
            continue
        attributes, outcome = handler(ctx, logical, stack.properties(logical))
        stack.attributes[logical] = attributes
        report.resources[logical] = _physical(rtype, attributes)
        report.record(rtype, outcome)
        LOG.debug("%s %s (%s)", outcome, logical, rtype)
    return report


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stage", required=True, help="Stage parameter (local, dev, prod)")
    parser.add_argument("--prefix", default=None, help="Prefix parameter (template default)")
    parser.add_argument("--endpoint", default=None, help="AWS endpoint (default AWS_ENDPOINT_URL)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON map to write")
    parser.add_argument("--template", type=Path, default=cfn.TEMPLATE_PATH)
    parser.add_argument("--parameter", action="append", default=[], metavar="KEY=VALUE")
    return parser.parse_args(argv)


def build_stack(args: argparse.Namespace) -> cfn.Stack:
    template = cfn.load_template(args.template)
    parameters = dict(item.split("=", 1) for item in args.parameter)
    parameters["Stage"] = args.stage
    if args.prefix:
        parameters["Prefix"] = args.prefix
    prefix = parameters.get("Prefix") or template["Parameters"]["Prefix"]["Default"]
    return cfn.Stack(template, parameters, stack_name=f"{prefix}-{args.stage}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    LOG.setLevel(logging.INFO)
    stack = build_stack(args)
    dev_secrets = json.loads(DEV_SECRETS_PATH.read_text(encoding="utf-8"))
    report = provision(stack, Clients(stack.region, args.endpoint), dev_secrets)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report.resources, indent=2) + "\n", encoding="utf-8")
    for line in report.summary():
        print(line)
    print(f"wrote {len(report.resources)} resources to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
