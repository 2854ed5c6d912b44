"""Glue for `infra/deploy.sh`: shared stack -> Chalice configs, and what Chalice cannot configure.

    python -m infra.deploy_config check-credentials
    python -m infra.deploy_config vpc-id --subnet-ids subnet-a,subnet-b
    python -m infra.deploy_config deploy-stack --stage dev --prefix parley --subnet-ids ... \
        --vpc-id vpc-... [--s3-bucket artifacts]      # only when the AWS CLI is not installed
    python -m infra.deploy_config write-config --stage dev --prefix parley --subnet-ids ...
    python -m infra.deploy_config fix-event-sources --stage dev

`fix-event-sources` (after `chalice deploy`) turns on ReportBatchItemFailures on every SQS event
source mapping and gives every SNS-subscribed function its on-failure destination, the topic's DLQ
(`infra/package.py` puts both in the merge template of `make package`). Neither is what keeps a
failed SQS record: `parley.batch` makes Lambda return it with or without the flag.

The transformations (`apply_stage_settings`, `sqs_event_sources`, ...) are pure functions on the
dicts of `.chalice/config.json`, stack outputs and `.chalice/deployed/<stage>.json`; only the
functions taking a boto3 client or a path do I/O.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = REPO_ROOT / "infra" / "template.yaml"
SERVICES: tuple[str, ...] = ("ingestion", "ai_processing", "context", "media", "escalation")
BATCH_FAILURES = "ReportBatchItemFailures"
ASYNC_RETRY_ATTEMPTS = 2
"""Lambda's retries of an asynchronous (SNS) invocation before its on-failure destination."""
REDIS_PORT = "6379"
TEMPLATE_BODY_LIMIT = 51_200
"""CloudFormation refuses inline template bodies larger than this; bigger ones go through S3."""

ENV_OUTPUTS: dict[str, str] = {
    # environment variable of a service -> output of infra/template.yaml holding the real name
    "WA_MESSAGES_TABLE": "WaMessagesTableName",
    "CONVERSATIONS_TABLE": "ConversationsTableName",
    "SESSIONS_TABLE": "SessionsTableName",
    "HANDOFFS_TABLE": "HandoffsTableName",
    "IDEMPOTENCY_TABLE": "IdempotencyTableName",
    "TURNS_QUEUE": "TurnsQueueName",
    "MEDIA_QUEUE": "MediaQueueName",
    "OUTBOUND_QUEUE": "OutboundQueueName",
    "CONTEXT_QUEUE": "ContextQueueName",
    "ESCALATION_QUEUE": "EscalationQueueName",
    "KB_EVENTS_QUEUE": "KbEventsQueueName",
    "EVENTS_TOPIC": "ConversationEventsTopicName",
    "HUMAN_AGENTS_TOPIC": "HumanAgentsTopicName",
    "EUM_INBOUND_TOPIC": "EumInboundTopicName",
    "MEDIA_BUCKET": "MediaBucketName",
    "KB_BUCKET": "KnowledgeBaseBucketName",
    "PAYLOADS_BUCKET": "EventPayloadsBucketName",
    "WHATSAPP_SECRET_ID": "WhatsappSecretName",
    "TWILIO_SECRET_ID": "TwilioSecretName",
    "CRM_SECRET_ID": "CrmSecretName",
}


class DeployError(Exception):
    """Something the operator has to fix before the deploy can go on."""


@dataclass(frozen=True)
class StageSettings:
    """What one stage of every service's config gets from the shared stack."""

    prefix: str
    account_id: str
    redis_url: str
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    outputs: Mapping[str, str]


@dataclass(frozen=True)
class EventSource:
    """An SQS event source mapping recorded by `chalice deploy`."""

    name: str
    uuid: str
    queue_arn: str


@dataclass(frozen=True)
class SnsSubscription:
    """A function subscribed to an SNS topic by `chalice deploy` (invoked asynchronously)."""

    name: str
    function_arn: str
    topic: str


# ------------------------------------------------------------------------------------ pure


def on_failure_queue(topic: str) -> str:
    """The on-failure destination of a function subscribed to `topic` (name or ARN): the topic's
    DLQ `<topic>-dlq` (infra/template.yaml), where its handler also parks what it can never
    process (parley.batch.process_sns_event)."""
    return f"{topic.rsplit(':', 1)[-1]}-dlq"


def on_failure_arn(function_arn: str, topic: str) -> str:
    """The ARN of `on_failure_queue(topic)` in the function's partition, region and account."""
    parts = function_arn.split(":")
    if len(parts) < 7 or parts[2] != "lambda":
        raise DeployError(f"not a Lambda function ARN: {function_arn!r}")
    partition, region, account = parts[1], parts[3], parts[4]
    return f"arn:{partition}:sqs:{region}:{account}:{on_failure_queue(topic)}"


def event_invoke_config(destination_arn: str) -> dict[str, Any]:
    """`put_function_event_invoke_config` arguments: Lambda's two retries, then the destination."""
    return {
        "MaximumRetryAttempts": ASYNC_RETRY_ATTEMPTS,
        "DestinationConfig": {"OnFailure": {"Destination": destination_arn}},
    }


def needs_event_invoke_config(current: Mapping[str, Any] | None, wanted: Mapping[str, Any]) -> bool:
    """Whether a `get_function_event_invoke_config` answer (None: none) differs from `wanted`."""
    if current is None:
        return True
    destination = current.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    return (
        current.get("MaximumRetryAttempts") != wanted["MaximumRetryAttempts"]
        or destination != wanted["DestinationConfig"]["OnFailure"]["Destination"]
    )


def stack_name(prefix: str, stage: str) -> str:
    return f"{prefix}-{stage}-shared"


def split_ids(value: str) -> tuple[str, ...]:
    """`"subnet-a, subnet-b"` -> `("subnet-a", "subnet-b")`."""
    return tuple(part.strip() for part in value.split(",") if part.strip())


def outputs_of(stack: Mapping[str, Any]) -> dict[str, str]:
    """OutputKey -> OutputValue of one `describe_stacks` stack."""
    return {item["OutputKey"]: item["OutputValue"] for item in stack.get("Outputs", [])}


def account_id_from_arn(arn: str) -> str:
    """The account field of an ARN (`arn:partition:service:region:account:resource`)."""
    parts = arn.split(":")
    if len(parts) < 6 or not parts[4].isdigit():
        raise DeployError(f"no account id in ARN {arn!r}")
    return parts[4]


def redis_url(outputs: Mapping[str, str]) -> str:
    """TLS URL of the serverless cache (ElastiCache Serverless only accepts TLS)."""
    address = _required(outputs, "CacheEndpointAddress")
    port = outputs.get("CacheEndpointPort") or REDIS_PORT
    return f"rediss://{address}:{port}/0"


def stage_settings(
    stack: Mapping[str, Any], prefix: str, subnet_ids: Sequence[str]
) -> StageSettings:
    """Everything the services need from one `describe_stacks` stack."""
    outputs = outputs_of(stack)
    if not subnet_ids:
        raise DeployError("no subnet ids: the Lambda functions must run in the cache's VPC")
    return StageSettings(
        prefix=prefix,
        account_id=account_id_from_arn(_required(stack, "StackId")),
        redis_url=redis_url(outputs),
        subnet_ids=tuple(subnet_ids),
        security_group_ids=(_required(outputs, "LambdaSecurityGroupId"),),
        outputs=outputs,
    )


def declared_variables(config: Mapping[str, Any]) -> set[str]:
    """Environment variables a service declares globally or in any stage."""
    names = set(config.get("environment_variables", {}))
    for stage in config.get("stages", {}).values():
        names.update(stage.get("environment_variables", {}))
    return names


def stage_variables(config: Mapping[str, Any], settings: StageSettings) -> dict[str, str]:
    """The stage's new environment variables: real resource names, Redis, account, prefix."""
    wanted = declared_variables(config)
    values = {
        name: settings.outputs[output]
        for name, output in ENV_OUTPUTS.items()
        if name in wanted and output in settings.outputs
    }
    values.update(
        REDIS_URL=settings.redis_url,
        AWS_ACCOUNT_ID=settings.account_id,
        PARLEY_PREFIX=settings.prefix,
    )
    return values


def apply_stage_settings(
    config: Mapping[str, Any], stage: str, settings: StageSettings
) -> dict[str, Any]:
    """A copy of a service's config with `stage` wired to the shared stack; other stages as-is."""
    updated = copy.deepcopy(dict(config))
    section = updated.setdefault("stages", {}).setdefault(stage, {})
    variables = section.setdefault("environment_variables", {})
    variables.update(stage_variables(config, settings))
    section["subnet_ids"] = list(settings.subnet_ids)
    section["security_group_ids"] = list(settings.security_group_ids)
    return updated


def sqs_event_sources(deployed: Mapping[str, Any]) -> list[EventSource]:
    """SQS event source mappings in a `.chalice/deployed/<stage>.json` document."""
    if deployed.get("schema_version") != "2.0":
        raise DeployError(f"unknown deployed-state schema {deployed.get('schema_version')!r}")
    return [
        EventSource(name=res["name"], uuid=res["event_uuid"], queue_arn=res.get("queue_arn", ""))
        for res in deployed.get("resources", [])
        if res.get("resource_type") == "sqs_event"
    ]


def sns_subscriptions(deployed: Mapping[str, Any]) -> list[SnsSubscription]:
    """SNS subscriptions of functions in a `.chalice/deployed/<stage>.json` document."""
    if deployed.get("schema_version") != "2.0":
        raise DeployError(f"unknown deployed-state schema {deployed.get('schema_version')!r}")
    return [
        SnsSubscription(name=res["name"], function_arn=res["lambda_arn"], topic=res["topic"])
        for res in deployed.get("resources", [])
        if res.get("resource_type") == "sns_event"
    ]


def needs_batch_failures(mapping: Mapping[str, Any]) -> bool:
    """Whether a `get_event_source_mapping` answer still lacks ReportBatchItemFailures."""
    return BATCH_FAILURES not in mapping.get("FunctionResponseTypes", [])


def _required(values: Mapping[str, Any], key: str) -> str:
    value = values.get(key)
    if not value:
        raise DeployError(f"stack output/field {key} is missing (is infra/template.yaml deployed?)")
    return str(value)


# -------------------------------------------------------------------------------------- I/O


def config_path(service: str) -> Path:
    return REPO_ROOT / "services" / service / ".chalice" / "config.json"


def deployed_path(service: str, stage: str) -> Path:
    return REPO_ROOT / "services" / service / ".chalice" / "deployed" / f"{stage}.json"


def read_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")


def describe_stack(cfn: Any, name: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    return dict(stacks[0]) if stacks else None


def write_configs(settings: StageSettings, stage: str, services: Sequence[str]) -> None:
    for service in services:
        path = config_path(service)
        write_json(path, apply_stage_settings(read_json(path), stage, settings))
        print(f"{service}: wrote stage {stage} of {path.relative_to(REPO_ROOT)}")


def enable_batch_failures(lam: Any, sources: Sequence[EventSource]) -> int:
    """Turn on ReportBatchItemFailures on each mapping that lacks it; returns how many changed."""
    changed = 0
    for source in sources:
        current = lam.get_event_source_mapping(UUID=source.uuid)
        if not needs_batch_failures(current):
            print(f"  {source.name} ({source.uuid}): already set")
            continue
        lam.update_event_source_mapping(UUID=source.uuid, FunctionResponseTypes=[BATCH_FAILURES])
        print(f"  {source.name} ({source.uuid}): {BATCH_FAILURES} enabled")
        changed += 1
    return changed


def set_failure_destinations(lam: Any, subscriptions: Sequence[SnsSubscription]) -> int:
    """Give each SNS-subscribed function its on-failure destination; returns how many changed."""
    changed = 0
    for sub in subscriptions:
        wanted = event_invoke_config(on_failure_arn(sub.function_arn, sub.topic))
        try:
            current = lam.get_function_event_invoke_config(FunctionName=sub.function_arn)
        except lam.exceptions.ResourceNotFoundException:
            current = None
        destination = wanted["DestinationConfig"]["OnFailure"]["Destination"]
        if not needs_event_invoke_config(current, wanted):
            print(f"  {sub.name}: on-failure destination already {destination}")
            continue
        lam.put_function_event_invoke_config(FunctionName=sub.function_arn, **wanted)
        print(f"  {sub.name}: on-failure destination {destination}")
        changed += 1
    return changed


def fix_event_sources(lam: Any, stage: str, services: Sequence[str]) -> None:
    for service in services:
        path = deployed_path(service, stage)
        if not path.is_file():
            raise DeployError(f"{path.relative_to(REPO_ROOT)} missing: did chalice deploy run?")
        deployed = read_json(path)
        sources = sqs_event_sources(deployed)
        print(f"{service}: {len(sources)} SQS event source(s)")
        enable_batch_failures(lam, sources)
        subscriptions = sns_subscriptions(deployed)
        if subscriptions:
            print(f"{service}: {len(subscriptions)} SNS subscription(s)")
            set_failure_destinations(lam, subscriptions)


def check_credentials(session: Any) -> str:
    """The caller's ARN; DeployError when no credentials are configured or they are refused."""
    from botocore.exceptions import BotoCoreError, ClientError

    if session.get_credentials() is None:
        raise DeployError(
            "no AWS credentials configured: set AWS_PROFILE or AWS_ACCESS_KEY_ID/"
            "AWS_SECRET_ACCESS_KEY (or run `aws configure`) before `make deploy`"
        )
    try:
        return str(session.client("sts").get_caller_identity()["Arn"])
    except (BotoCoreError, ClientError) as exc:
        raise DeployError(f"AWS credentials were refused: {exc}") from exc


def vpc_of_subnets(ec2: Any, subnet_ids: Sequence[str]) -> str:
    subnets = ec2.describe_subnets(SubnetIds=list(subnet_ids))["Subnets"]
    vpcs = {subnet["VpcId"] for subnet in subnets}
    if len(vpcs) != 1:
        raise DeployError(f"subnets {list(subnet_ids)} must be in exactly one VPC, not {vpcs}")
    return vpcs.pop()


# ------------------------------------------------------- stack deploy without the AWS CLI


def stack_parameters(
    stage: str, prefix: str, vpc_id: str, subnet_ids: Sequence[str], alarm_email: str = ""
) -> list[Any]:
    values = {"Stage": stage, "Prefix": prefix, "VpcId": vpc_id, "SubnetIds": ",".join(subnet_ids)}
    if alarm_email:
        values["AlarmEmail"] = alarm_email
    return [{"ParameterKey": key, "ParameterValue": value} for key, value in values.items()]


def template_argument(session: Any, body: str, bucket: str | None, key: str) -> dict[str, str]:
    """TemplateBody, or TemplateURL after an upload when the body is over CloudFormation's limit."""
    if len(body.encode()) <= TEMPLATE_BODY_LIMIT:
        return {"TemplateBody": body}
    if not bucket:
        raise DeployError(
            f"{TEMPLATE.name} is over {TEMPLATE_BODY_LIMIT} bytes: set PARLEY_CFN_BUCKET to an S3 "
            "bucket CloudFormation can read the template from"
        )
    session.client("s3").put_object(Bucket=bucket, Key=key, Body=body.encode())
    region = session.region_name
    return {"TemplateURL": f"https://{bucket}.s3.{region}.amazonaws.com/{key}"}


def deploy_stack(session: Any, name: str, parameters: list[Any], template: dict[str, str]) -> None:
    """Create or update the stack and wait, like `aws cloudformation deploy` (no change sets)."""
    from botocore.exceptions import ClientError

    cfn = session.client("cloudformation")
    common = {"StackName": name, "Parameters": parameters, "Capabilities": ["CAPABILITY_NAMED_IAM"]}
    if describe_stack(cfn, name) is None:
        cfn.create_stack(**common, **template)
        cfn.get_waiter("stack_create_complete").wait(StackName=name)
    else:
        try:
            cfn.update_stack(**common, **template)
        except ClientError as exc:
            if "No updates are to be performed" not in str(exc):
                raise
            print(f"{name}: no changes")
            return
        cfn.get_waiter("stack_update_complete").wait(StackName=name)
    print(f"{name}: deployed")


# -------------------------------------------------------------------------------------- CLI


def _session(region: str | None = None) -> Any:
    import boto3

    return boto3.session.Session(region_name=region)


def _cmd_check_credentials(args: argparse.Namespace) -> None:
    print(f"deploying as {check_credentials(_session(args.region))}")


def _cmd_vpc_id(args: argparse.Namespace) -> None:
    print(vpc_of_subnets(_session(args.region).client("ec2"), split_ids(args.subnet_ids)))


def _cmd_deploy_stack(args: argparse.Namespace) -> None:
    session = _session(args.region)
    subnets = split_ids(args.subnet_ids)
    key = f"cloudformation/{stack_name(args.prefix, args.stage)}/{int(time.time())}.yaml"
    template = template_argument(session, TEMPLATE.read_text(), args.s3_bucket, key)
    if not args.vpc_id or not subnets:
        raise DeployError("deploy-stack needs --vpc-id and --subnet-ids")
    parameters = stack_parameters(args.stage, args.prefix, args.vpc_id, subnets, args.alarm_email)
    deploy_stack(session, stack_name(args.prefix, args.stage), parameters, template)


def _cmd_write_config(args: argparse.Namespace) -> None:
    cfn = _session(args.region).client("cloudformation")
    name = stack_name(args.prefix, args.stage)
    stack = describe_stack(cfn, name)
    if stack is None:
        raise DeployError(f"stack {name} does not exist: deploy infra/template.yaml first")
    settings = stage_settings(stack, args.prefix, split_ids(args.subnet_ids))
    write_configs(settings, args.stage, args.service or SERVICES)


def _cmd_fix_event_sources(args: argparse.Namespace) -> None:
    lam = _session(args.region).client("lambda")
    fix_event_sources(lam, args.stage, args.service or SERVICES)


COMMANDS = {
    "check-credentials": _cmd_check_credentials,
    "vpc-id": _cmd_vpc_id,
    "deploy-stack": _cmd_deploy_stack,
    "write-config": _cmd_write_config,
    "fix-event-sources": _cmd_fix_event_sources,
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m infra.deploy_config")
    parser.add_argument("command", choices=sorted(COMMANDS))
    parser.add_argument("--stage", choices=("dev", "prod"))
    parser.add_argument("--prefix", default="parley")
    parser.add_argument("--subnet-ids", default="", help="comma-separated Lambda/cache subnets")
    parser.add_argument("--vpc-id", default="")
    parser.add_argument("--alarm-email", default="")
    parser.add_argument("--s3-bucket", default=None, help="for templates over 51,200 bytes")
    parser.add_argument("--service", action="append", choices=SERVICES)
    parser.add_argument("--region", default=None, help="default: the AWS SDK's configuration")
    args = parser.parse_args(argv)
    if args.command not in {"check-credentials", "vpc-id"} and args.stage is None:
        parser.error(f"{args.command} needs --stage")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        COMMANDS[args.command](args)
    except DeployError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
