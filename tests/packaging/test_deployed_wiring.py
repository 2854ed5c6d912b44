"""The checks of infra/local/deployed_wiring.py find what they are meant to (no emulator needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from infra.deploy_config import BATCH_FAILURES, ENV_OUTPUTS
from infra.local import cfn, deploy_local
from infra.local import deployed_wiring as dw

ACCOUNT = cfn.ACCOUNT_ID
QUEUE_ARN = f"arn:aws:sqs:us-east-1:{ACCOUNT}:work.fifo"
CONSUME = {
    "Effect": "Allow",
    "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
    "Resource": ["arn:aws:sqs:*:*:work.fifo"],
}
EXPECTED = dw.Expected(
    work_queues=frozenset({"work.fifo"}),
    dead_letter_queues=frozenset({"work-dlq.fifo", "inbound-dlq"}),
    redrive_targets=frozenset({"work-dlq.fifo"}),
    topics=frozenset({"inbound"}),
    alarmed_functions={"WorkErrorsAlarm": "app-dev-work"},
)


def function(name: str, **changes: Any) -> dw.Function:
    values: dict[str, Any] = {
        "name": name,
        "role": f"{name}-role",
        "environment": {},
        "subnet_ids": (),
        "invoke_principals": frozenset({"sns.amazonaws.com", "apigateway.amazonaws.com"}),
    }
    return dw.Function(**{**values, **changes})


def source(queue: str, fn: str = "app-dev-work", flag: bool = True) -> dw.EventSource:
    types = (BATCH_FAILURES,) if flag else ()
    arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:{queue}"
    return dw.EventSource(f"uuid-{queue}-{fn}", queue, arn, fn, types, "Enabled")


def wiring(
    sources: Sequence[dw.EventSource] = (),
    functions: Sequence[dw.Function] = (),
    statements: Sequence[dict[str, Any]] = (CONSUME,),
    **changes: Any,
) -> dw.Wiring:
    functions = list(functions) or [function("app-dev-work"), function("app-dev")]
    values: dict[str, Any] = {
        "functions": {f.name: f for f in functions},
        "event_sources": list(sources),
        "subscriptions": [],
        "role_statements": {f.role: list(statements) for f in functions},
        "resources": {
            "queues": frozenset({"work.fifo", "work-dlq.fifo", "inbound-dlq"}),
            "topics": frozenset({"inbound"}),
        },
        "routes": [dw.Route("app", "/health", "GET", "app-dev")],
        "api_stages": {"app": [frozenset({"api"})]},
    }
    return dw.Wiring(**{**values, **changes})


def test_consumers_right() -> None:
    assert dw.check_consumers(EXPECTED, wiring([source("work.fifo")])) == []


@pytest.mark.parametrize(
    ("sources", "message"),
    [
        ([], "work.fifo: 0 consumers"),
        ([source("work.fifo"), source("work.fifo", "app-dev")], "work.fifo: 2 consumers"),
        ([source("work.fifo", flag=False)], f"{BATCH_FAILURES} is off"),
        ([source("work.fifo"), source("work-dlq.fifo")], "dead-letter queue work-dlq.fifo"),
        ([source("work.fifo"), source("other")], "consumes other, not in the template"),
        ([source("work.fifo", "gone")], "consumer gone does not exist"),
    ],
)
def test_consumer_problems(sources: list[dw.EventSource], message: str) -> None:
    problems = dw.check_consumers(EXPECTED, wiring(sources))
    assert any(message in problem for problem in problems), problems


def test_alarm_on_a_function_nobody_deploys() -> None:
    assert dw.check_alarmed_functions(EXPECTED, wiring()) == []
    problems = dw.check_alarmed_functions(EXPECTED, wiring(functions=[function("app-dev")]))
    assert problems == [
        "alarm WorkErrorsAlarm watches function app-dev-work, which no service deploys"
    ]


def test_environment_must_name_existing_resources() -> None:
    good = function("app-dev", environment={"TURNS_QUEUE": "work.fifo", "LOG_LEVEL": "x"})
    assert dw.check_environment(wiring(functions=[good])) == []
    bad = function("app-dev", environment={"TURNS_QUEUE": "typo.fifo", "EVENTS_TOPIC": "inbound"})
    assert dw.check_environment(wiring(functions=[bad])) == [
        "app-dev: TURNS_QUEUE=typo.fifo names no existing queues"
    ]


def test_every_resource_variable_has_a_kind() -> None:
    for output in ENV_OUTPUTS.values():
        assert any(output.endswith(suffix) for suffix in dw.KIND_OF_OUTPUT), output


def test_allows_matches_wildcards_only_where_written() -> None:
    assert dw.allows([CONSUME], "sqs:ReceiveMessage", QUEUE_ARN)
    assert not dw.allows([CONSUME], "sqs:SendMessage", QUEUE_ARN)
    assert not dw.allows([CONSUME], "sqs:ReceiveMessage", QUEUE_ARN.replace("work", "other"))
    assert dw.allows([{"Action": "sqs:*", "Resource": "*"}], "sqs:DeleteMessage", QUEUE_ARN)


def test_permission_problems() -> None:
    assert dw.check_permissions(wiring([source("work.fifo")])) == []
    receive_only = {**CONSUME, "Action": "sqs:ReceiveMessage"}
    problems = dw.check_permissions(wiring([source("work.fifo")], statements=[receive_only]))
    assert "role app-dev-work-role lacks sqs:DeleteMessage on work.fifo" in problems
    in_vpc = [function("app-dev-work", subnet_ids=("subnet-1",))]
    problems = dw.check_permissions(wiring(functions=in_vpc))
    assert "role app-dev-work-role lacks ec2:CreateNetworkInterface (function in a VPC)" in problems


def test_trigger_and_api_problems() -> None:
    assert dw.check_triggers(EXPECTED, wiring()) == []
    assert dw.check_apis(wiring(), {"app": "api"}, "dev") == []
    twice = [("inbound", "lambda", "app-dev-work")] * 2
    assert dw.check_triggers(EXPECTED, wiring(subscriptions=twice)) == [
        "topic inbound: 2 subscriptions of app-dev-work"
    ]
    no_sns = [function("app-dev-work", invoke_principals=frozenset()), function("app-dev")]
    subscribed = [("inbound", "lambda", "app-dev-work")]
    problems = dw.check_triggers(EXPECTED, wiring(functions=no_sns, subscriptions=subscribed))
    assert problems == ["topic inbound: app-dev-work is missing or SNS may not invoke it"]
    astray = [dw.Route("app", "/health", "GET", "app-dev-work")]
    assert dw.check_apis(wiring(routes=astray), {"app": "api"}, "dev") == [
        "REST API app: GET /health goes to app-dev-work, not app-dev"
    ]
    assert "REST API other: 0 found" in dw.check_apis(wiring(), {"other": "api"}, "dev")[0]


def test_failure_destination_problems() -> None:
    dlq_arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:inbound-dlq"
    send = {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": dlq_arn}
    subscribed = [("inbound", "lambda", "app-dev-work")]
    fails_into_dlq = [function("app-dev-work", on_failure=dlq_arn), function("app-dev")]
    good = wiring(functions=fails_into_dlq, subscriptions=subscribed, statements=[send])
    assert dw.check_failure_destinations(EXPECTED, good) == []
    assert dw.check_permissions(good) == []
    assert dw.check_permissions(wiring(functions=fails_into_dlq, statements=[CONSUME])) == [
        f"role app-dev-work-role lacks sqs:SendMessage on {dlq_arn}"
    ]
    problems = dw.check_failure_destinations(EXPECTED, wiring(subscriptions=subscribed))
    assert problems == [
        "app-dev-work (SNS-invoked): on-failure destination '' is no DLQ",
        "DLQ inbound-dlq: no RedrivePolicy and no function's on-failure destination",
    ]


@pytest.fixture(scope="module")
def dev_stack() -> cfn.Stack:
    parameters = {"Stage": "dev", "VpcId": "vpc-1", "SubnetIds": "subnet-1,subnet-2"}
    return cfn.Stack(cfn.load_template(), parameters, "parley-dev")


def test_expected_from_the_template(dev_stack: cfn.Stack) -> None:
    expected = dw.expected_from(dev_stack)
    assert "parley-dev-turns.fifo" in expected.work_queues
    assert "parley-dev-turns-dlq.fifo" in expected.dead_letter_queues
    assert "parley-dev-kb-events" in expected.work_queues
    assert not expected.work_queues & expected.dead_letter_queues
    assert expected.alarmed_functions["IngestionApiErrorsAlarm"] == "parley-ingestion-dev"
    assert "parley-dev-eum-inbound" in expected.topics
    assert expected.redrive_targets < expected.dead_letter_queues  # + on-failure destinations


def test_stand_in_stack_has_every_output_write_config_reads(dev_stack: cfn.Stack) -> None:
    outputs = deploy_local.stand_in_outputs(dev_stack)
    needed = {*ENV_OUTPUTS.values(), "CacheEndpointAddress", "LambdaSecurityGroupId"}
    assert needed <= set(outputs)
    assert outputs["TurnsQueueName"] == "parley-dev-turns.fifo"
    assert all(isinstance(value, str) and value for value in outputs.values())


def test_swagger_is_relabelled_for_the_emulator() -> None:
    swagger = {"swagger": "2.0", "info": {"title": "app"}, "paths": {"/": {}}}
    assert deploy_local.swagger_as_openapi(swagger) == {
        "openapi": "3.0.1",
        "info": {"description": "", "title": "app"},
        "paths": {"/": {}},
    }


def test_cli_refuses_a_used_workdir(tmp_path: Path) -> None:
    (tmp_path / "leftover").write_text("")
    assert deploy_local.main(["--workdir", str(tmp_path)]) == 2
