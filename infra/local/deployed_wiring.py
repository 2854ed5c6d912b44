"""The wiring of a deploy, read back from the (emulated) AWS APIs, and checked against the template.

`read_wiring` asks Lambda, IAM, SNS, API Gateway and the resource APIs what exists; `expected_from`
says what infra/template.yaml requires; each `check_*` returns the problems it finds (empty: fine).
Used by infra/local/deploy_local.py (`make deploy-local`) and its tests.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from infra.deploy_config import BATCH_FAILURES, ENV_OUTPUTS
from infra.local import cfn

REGION = "us-east-1"
SQS_CONSUMER_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
VPC_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
)
KIND_OF_OUTPUT = {
    "QueueName": "queues",
    "TopicName": "topics",
    "TableName": "tables",
    "BucketName": "buckets",
    "SecretName": "secrets",
}


@dataclass(frozen=True)
class EventSource:
    uuid: str
    queue: str
    queue_arn: str
    function: str
    response_types: tuple[str, ...]
    state: str


@dataclass(frozen=True)
class Function:
    name: str
    role: str
    environment: Mapping[str, str]
    subnet_ids: tuple[str, ...]
    invoke_principals: frozenset[str]
    on_failure: str = ""  # ARN of the asynchronous invocations' on-failure destination


@dataclass(frozen=True)
class Route:
    api: str
    path: str
    method: str
    function: str


@dataclass(frozen=True)
class Wiring:
    """What the emulator reports after the deploy."""

    functions: Mapping[str, Function]
    event_sources: Sequence[EventSource]
    subscriptions: Sequence[tuple[str, str, str]]  # (topic name, protocol, endpoint's last part)
    role_statements: Mapping[str, Sequence[Mapping[str, Any]]]  # role name -> Allow statements
    resources: Mapping[str, frozenset[str]]  # "queues" | "topics" | ... -> existing names
    routes: Sequence[Route]
    api_stages: Mapping[str, Sequence[frozenset[str]]]  # REST API name -> stages of each


def emulator_clients(endpoint: str) -> Callable[[str], Any]:
    """boto3 clients of the emulator with its test credentials, whatever this shell has set."""
    import boto3

    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    cache: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in cache:
            cache[service] = session.client(service, endpoint_url=endpoint)
        return cache[service]

    return client


def _last(arn: str) -> str:
    return arn.rsplit(":", 1)[-1].rsplit("/", 1)[-1]


def _pages(client: Any, method: str, key: str, **kwargs: Any) -> list[Any]:
    items: list[Any] = client.get_paginator(method).paginate(**kwargs).build_full_result()[key]
    return items


def _function(lam: Any, config: Mapping[str, Any]) -> Function:
    name = str(config["FunctionName"])
    try:
        policy = json.loads(lam.get_policy(FunctionName=name)["Policy"])
    except lam.exceptions.ResourceNotFoundException:
        policy = {"Statement": []}
    principals = frozenset(
        str(statement.get("Principal", {}).get("Service", "")) for statement in policy["Statement"]
    )
    try:
        invoke = lam.get_function_event_invoke_config(FunctionName=name)
    except lam.exceptions.ResourceNotFoundException:
        invoke = {}
    return Function(
        name=name,
        role=_last(str(config["Role"])),
        environment=dict(config.get("Environment", {}).get("Variables", {})),
        subnet_ids=tuple(config.get("VpcConfig", {}).get("SubnetIds", [])),
        invoke_principals=principals,
        on_failure=str(
            invoke.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination", "")
        ),
    )


def _allow_statements(iam: Any, role: str) -> list[Mapping[str, Any]]:
    statements: list[Mapping[str, Any]] = []
    try:
        names = iam.list_role_policies(RoleName=role)["PolicyNames"]
    except iam.exceptions.NoSuchEntityException:
        return []  # a function whose role is gone: every permission check then reports it
    for policy in names:
        document = iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
        if isinstance(document, str):
            document = json.loads(document)
        found = document.get("Statement", [])
        statements.extend(s for s in (found if isinstance(found, list) else [found]))
    return [s for s in statements if s.get("Effect") == "Allow"]


def _routes(apigateway: Any) -> tuple[list[Route], dict[str, list[frozenset[str]]]]:
    routes: list[Route] = []
    stages: dict[str, list[frozenset[str]]] = {}
    for api in _pages(apigateway, "get_rest_apis", "items"):
        found = apigateway.get_stages(restApiId=api["id"])["item"]
        stages.setdefault(api["name"], []).append(frozenset(s["stageName"] for s in found))
        for resource in _pages(apigateway, "get_resources", "items", restApiId=api["id"]):
            for method in resource.get("resourceMethods", {}):
                integration = apigateway.get_integration(
                    restApiId=api["id"], resourceId=resource["id"], httpMethod=method
                )
                uri = str(integration.get("uri", ""))
                function = _last(uri.removesuffix("/invocations")) if uri else ""
                routes.append(Route(api["name"], resource["path"], method, function))
    return routes, stages


def _existing(client: Any) -> dict[str, frozenset[str]]:
    sqs, sns, ddb, s3, sm = (client(n) for n in ("sqs", "sns", "dynamodb", "s3", "secretsmanager"))
    return {
        "queues": frozenset(_last(url) for url in sqs.list_queues().get("QueueUrls", [])),
        "topics": frozenset(_last(t["TopicArn"]) for t in _pages(sns, "list_topics", "Topics")),
        "tables": frozenset(_pages(ddb, "list_tables", "TableNames")),
        "buckets": frozenset(b["Name"] for b in s3.list_buckets()["Buckets"]),
        "secrets": frozenset(s["Name"] for s in _pages(sm, "list_secrets", "SecretList")),
    }


def read_wiring(endpoint: str) -> Wiring:
    """Functions, event sources, subscriptions, role policies, resources and routes."""
    client = emulator_clients(endpoint)
    lam, iam = client("lambda"), client("iam")
    functions = {
        f.name: f for f in (_function(lam, c) for c in _pages(lam, "list_functions", "Functions"))
    }
    sources = [
        EventSource(
            uuid=m["UUID"],
            queue=_last(m["EventSourceArn"]),
            queue_arn=m["EventSourceArn"],
            function=_last(m["FunctionArn"]),
            response_types=tuple(m.get("FunctionResponseTypes", [])),
            state=str(m.get("State", "")),
        )
        for m in _pages(lam, "list_event_source_mappings", "EventSourceMappings")
    ]
    subscriptions = [
        (_last(s["TopicArn"]), s["Protocol"], _last(s["Endpoint"]))
        for s in _pages(client("sns"), "list_subscriptions", "Subscriptions")
    ]
    roles = {f.role for f in functions.values()}
    routes, stages = _routes(client("apigateway"))
    return Wiring(
        functions=functions,
        event_sources=sources,
        subscriptions=subscriptions,
        role_statements={role: _allow_statements(iam, role) for role in roles},
        resources=_existing(client),
        routes=routes,
        api_stages=stages,
    )


# ------------------------------------------------------------------------------ checks


@dataclass(frozen=True)
class Expected:
    """What infra/template.yaml says the deploy must wire."""

    work_queues: frozenset[str]
    dead_letter_queues: frozenset[str]
    redrive_targets: frozenset[str]  # the DLQs a work queue's RedrivePolicy names
    topics: frozenset[str]
    alarmed_functions: Mapping[str, str]  # alarm logical id -> FunctionName dimension


def _dimensions(props: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = list(props.get("Dimensions", []))
    for metric in props.get("Metrics", []):
        found.extend(metric.get("MetricStat", {}).get("Metric", {}).get("Dimensions", []))
    return found


def _dead_letter_targets(value: Any) -> Iterator[str]:
    """Queue names of every `deadLetterTargetArn` inside resolved properties."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "deadLetterTargetArn":
                yield _last(str(item))
            else:
                yield from _dead_letter_targets(item)
    elif isinstance(value, list):
        for item in value:
            yield from _dead_letter_targets(item)


def expected_from(stack: cfn.Stack) -> Expected:
    """Queues, topics and alarmed function names of the template.

    A DLQ is a queue some RedrivePolicy targets, or one named by parley.resources' DLQ rule
    (`-dlq`, `-dlq.fifo`): eum-inbound-dlq is a function's on-failure destination instead.
    """
    props = {logical: stack.properties(logical) for logical in stack.resources}
    kinds = {logical: stack.resource_type(logical) for logical in stack.resources}
    queues = {p["QueueName"] for lid, p in props.items() if kinds[lid] == "AWS::SQS::Queue"}
    targets = set(_dead_letter_targets(list(props.values())))
    dlqs = targets | {q for q in queues if q.removesuffix(".fifo").endswith("-dlq")}
    alarmed = {
        lid: str(d["Value"])
        for lid, p in props.items()
        if kinds[lid] == "AWS::CloudWatch::Alarm"
        for d in _dimensions(p)
        if d.get("Name") == "FunctionName"
    }
    topics = {p["TopicName"] for lid, p in props.items() if kinds[lid] == "AWS::SNS::Topic"}
    return Expected(
        work_queues=frozenset(queues - dlqs),
        dead_letter_queues=frozenset(dlqs),
        redrive_targets=frozenset(targets),
        topics=frozenset(topics),
        alarmed_functions=alarmed,
    )


def check_consumers(expected: Expected, wiring: Wiring) -> list[str]:
    """One enabled consumer per work queue, reporting batch item failures; none on a DLQ."""
    problems = []
    for queue in sorted(expected.work_queues):
        found = [s for s in wiring.event_sources if s.queue == queue]
        if len(found) != 1:
            consumers = sorted(s.function for s in found)
            problems.append(f"queue {queue}: {len(found)} consumers {consumers}, expected 1")
        for source in found:
            if BATCH_FAILURES not in source.response_types:
                problems.append(f"queue {queue} -> {source.function}: {BATCH_FAILURES} is off")
            if source.state not in ("Enabled", "Enabling", "Creating", "Updating"):
                problems.append(f"queue {queue} -> {source.function}: state {source.state}")
    for source in wiring.event_sources:
        if source.queue in expected.dead_letter_queues:
            problems.append(f"dead-letter queue {source.queue} is consumed by {source.function}")
        elif source.queue not in expected.work_queues:
            problems.append(f"{source.function} consumes {source.queue}, not in the template")
        if source.function not in wiring.functions:
            problems.append(f"queue {source.queue}: consumer {source.function} does not exist")
    return problems


def check_alarmed_functions(expected: Expected, wiring: Wiring) -> list[str]:
    """Every function a CloudWatch alarm watches was deployed under that name."""
    return [
        f"alarm {alarm} watches function {name}, which no service deploys"
        for alarm, name in sorted(expected.alarmed_functions.items())
        if name not in wiring.functions
    ]


def check_environment(wiring: Wiring) -> list[str]:
    """Every resource-naming environment variable names a resource that exists."""
    problems = []
    for function in sorted(wiring.functions.values(), key=lambda f: f.name):
        for variable, output in sorted(ENV_OUTPUTS.items()):
            value = function.environment.get(variable)
            kind = next(k for suffix, k in KIND_OF_OUTPUT.items() if output.endswith(suffix))
            if value is not None and value not in wiring.resources.get(kind, frozenset()):
                problems.append(f"{function.name}: {variable}={value} names no existing {kind}")
    return problems


def allows(statements: Sequence[Mapping[str, Any]], action: str, resource: str) -> bool:
    """Whether an Allow statement grants `action` on `resource` (wildcards; no conditions)."""

    def listed(value: Any) -> list[str]:
        return [str(v) for v in (value if isinstance(value, list) else [value])]

    return any(
        any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in listed(s.get("Action", [])))
        and any(fnmatch.fnmatchcase(resource, r) for r in listed(s.get("Resource", [])))
        for s in statements
    )


def check_permissions(wiring: Wiring) -> list[str]:
    """Roles grant what Lambda needs for SQS event sources, on-failure destinations and VPC
    functions (the emulator does not enforce IAM, so only this checks it)."""
    problems = []
    for source in wiring.event_sources:
        function = wiring.functions.get(source.function)
        if function is None:
            continue
        statements = wiring.role_statements.get(function.role, [])
        for action in SQS_CONSUMER_ACTIONS:
            if not allows(statements, action, source.queue_arn):
                problems.append(f"role {function.role} lacks {action} on {source.queue}")
    for function in wiring.functions.values():
        statements = wiring.role_statements.get(function.role, [])
        if function.on_failure and not allows(statements, "sqs:SendMessage", function.on_failure):
            problems.append(f"role {function.role} lacks sqs:SendMessage on {function.on_failure}")
        for action in VPC_ACTIONS if function.subnet_ids else ():
            if not allows(statements, action, "*"):
                problems.append(f"role {function.role} lacks {action} (function in a VPC)")
    return problems


def check_triggers(expected: Expected, wiring: Wiring) -> list[str]:
    """Lambda subscriptions and REST API routes reach existing functions allowed to be invoked."""
    problems = []
    lambdas = [
        (topic, target) for topic, protocol, target in wiring.subscriptions if protocol == "lambda"
    ]
    for topic, target in sorted(set(lambdas)):
        function = wiring.functions.get(target)
        if lambdas.count((topic, target)) > 1:
            problems.append(
                f"topic {topic}: {lambdas.count((topic, target))} subscriptions of {target}"
            )
        if topic not in expected.topics:
            problems.append(f"{target} subscribes to topic {topic}, not in the template")
        if function is None or "sns.amazonaws.com" not in function.invoke_principals:
            problems.append(f"topic {topic}: {target} is missing or SNS may not invoke it")
    for route in wiring.routes:
        function = wiring.functions.get(route.function)
        if function is None or "apigateway.amazonaws.com" not in function.invoke_principals:
            problems.append(
                f"{route.api} {route.method} {route.path}: no invocable {route.function}"
            )
    return problems


def check_failure_destinations(expected: Expected, wiring: Wiring) -> list[str]:
    """Functions invoked asynchronously (SNS) end in a DLQ of the template when they keep failing,
    and every DLQ no RedrivePolicy feeds is such a destination."""
    problems = []
    subscribed = sorted({t for _, protocol, t in wiring.subscriptions if protocol == "lambda"})
    for name in subscribed:
        function = wiring.functions.get(name)
        destination = _last(function.on_failure) if function and function.on_failure else ""
        if destination not in expected.dead_letter_queues:
            problems.append(
                f"{name} (SNS-invoked): on-failure destination {destination!r} is no DLQ"
            )
        elif destination not in wiring.resources.get("queues", frozenset()):
            problems.append(f"{name}: on-failure destination {destination} does not exist")
    used = {_last(f.on_failure) for f in wiring.functions.values() if f.on_failure}
    for dlq in sorted(expected.dead_letter_queues - expected.redrive_targets - used):
        problems.append(f"DLQ {dlq}: no RedrivePolicy and no function's on-failure destination")
    return problems


def check_apis(wiring: Wiring, apps: Mapping[str, str], stage: str) -> list[str]:
    """Each app (name -> API Gateway stage) has one REST API with that stage, whose every route
    goes to the app's API handler `<app>-<stage>`."""
    problems = []
    for app, api_stage in sorted(apps.items()):
        found = wiring.api_stages.get(app, [])
        if len(found) != 1 or api_stage not in found[0]:
            problems.append(
                f"REST API {app}: {len(found)} found {found}, expected one with stage {api_stage}"
            )
        routes = [r for r in wiring.routes if r.api == app]
        handler = f"{app}-{stage}"
        if not routes:
            problems.append(f"REST API {app}: no routes")
        problems.extend(
            f"REST API {app}: {r.method} {r.path} goes to {r.function}, not {handler}"
            for r in routes
            if r.function != handler
        )
    return problems


def problems(expected: Expected, wiring: Wiring, apps: Mapping[str, str], stage: str) -> list[str]:
    """Everything found wrong with the deployed wiring; empty when it is right."""
    return [
        *check_consumers(expected, wiring),
        *check_alarmed_functions(expected, wiring),
        *check_environment(wiring),
        *check_permissions(wiring),
        *check_triggers(expected, wiring),
        *check_failure_destinations(expected, wiring),
        *check_apis(wiring, apps, stage),
    ]
