"""`chalice deploy` of every service on the local AWS emulator, the way infra/deploy.sh deploys.

One module-scoped deploy (`infra.local.deploy_local.deploy`: moto server in its own process, the
template provisioned, a stand-in stack for write-config, `chalice deploy --stage dev` per service,
fix-event-sources) in a copy of the sources; the tests check what the emulator's APIs report.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from infra.deploy_config import BATCH_FAILURES, SERVICES
from infra.local import deploy_local
from infra.local import deployed_wiring as dw
from infra.local.cfn import Stack

REPO_ROOT = Path(__file__).resolve().parents[2]
STAGE = "dev"


def checkout_state() -> dict[str, str]:
    """Chalice's deployed state in the checkout (only a deploy writes it)."""
    state = {}
    for service in SERVICES:
        for path in sorted((REPO_ROOT / "services" / service / ".chalice" / "deployed").glob("*")):
            state[str(path.relative_to(REPO_ROOT))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


@dataclass
class Deployed:
    endpoint: str
    workdir: Path
    stack: Stack
    expected: dw.Expected
    wiring: dw.Wiring
    checkout_before: dict[str, str]


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    workdir = tmp_path_factory.mktemp("deploy-local")
    before = checkout_state()
    with deploy_local.emulator(workdir / "emulator.log") as endpoint:
        stack = deploy_local.deploy(STAGE, workdir, endpoint)
        wiring = dw.read_wiring(endpoint)
        yield Deployed(endpoint, workdir, stack, dw.expected_from(stack), wiring, before)


def report(problems: list[str]) -> str:
    return "\n".join(f"  {problem}" for problem in problems)


@pytest.mark.slow
def test_every_work_queue_has_one_consumer_reporting_batch_item_failures(
    deployed: Deployed,
) -> None:
    expected, wiring = deployed.expected, deployed.wiring
    assert expected.work_queues and expected.dead_letter_queues
    assert not expected.work_queues & expected.dead_letter_queues
    problems = dw.check_consumers(expected, wiring)
    assert problems == [], "SQS event sources:\n" + report(problems)
    consumed = {source.queue for source in wiring.event_sources}
    assert consumed == expected.work_queues
    assert all(BATCH_FAILURES in source.response_types for source in wiring.event_sources)


@pytest.mark.slow
def test_every_function_an_alarm_watches_exists(deployed: Deployed) -> None:
    assert deployed.expected.alarmed_functions, "the template has no function alarms"
    problems = dw.check_alarmed_functions(deployed.expected, deployed.wiring)
    deployed_names = "\n".join(f"  {name}" for name in sorted(deployed.wiring.functions))
    assert problems == [], (
        "infra/template.yaml alarms on functions that `chalice deploy` does not create:\n"
        f"{report(problems)}\nfunctions deployed:\n{deployed_names}"
    )


@pytest.mark.slow
def test_function_environment_names_provisioned_resources(deployed: Deployed) -> None:
    functions = deployed.wiring.functions.values()
    # write-config (from the stand-in stack's outputs) reached every function.
    assert all(f.environment.get("PARLEY_PREFIX") == deploy_local.PREFIX for f in functions)
    assert all(f.environment.get("EVENTS_TOPIC") for f in functions)
    problems = dw.check_environment(deployed.wiring)
    assert problems == [], "environment variables:\n" + report(problems)


@pytest.mark.slow
def test_roles_grant_what_lambda_needs(deployed: Deployed) -> None:
    wiring = deployed.wiring
    subnets = {f.subnet_ids for f in wiring.functions.values()}
    assert len(subnets) == 1 and len(next(iter(subnets))) == 2, "write-config's subnets"
    assert all(wiring.role_statements[f.role] for f in wiring.functions.values())
    problems = dw.check_permissions(wiring)
    assert problems == [], "IAM (matched statically; the emulator does not enforce it):\n" + (
        report(problems)
    )


@pytest.mark.slow
def test_topics_and_rest_apis_reach_their_functions(deployed: Deployed) -> None:
    wiring = deployed.wiring
    assert any(protocol == "lambda" for _, protocol, _ in wiring.subscriptions)
    apps = deploy_local.deployed_apps(deployed.workdir, STAGE)
    assert len(apps) == len(SERVICES)
    problems = dw.check_triggers(deployed.expected, wiring) + dw.check_apis(wiring, apps, STAGE)
    assert problems == [], "SNS subscriptions and REST APIs:\n" + report(problems)
    assert any(r.path == "/health" and r.method == "GET" for r in wiring.routes)


@pytest.mark.slow
def test_sns_invoked_functions_fail_into_a_dead_letter_queue(deployed: Deployed) -> None:
    subscribed = {t for _, protocol, t in deployed.wiring.subscriptions if protocol == "lambda"}
    assert subscribed, "no function is subscribed to a topic"
    assert all(deployed.wiring.functions[name].on_failure for name in subscribed)
    problems = dw.check_failure_destinations(deployed.expected, deployed.wiring)
    assert problems == [], "asynchronous invocations' on-failure destinations:\n" + report(problems)


@pytest.mark.slow
def test_checkout_is_untouched(deployed: Deployed) -> None:
    assert checkout_state() == deployed.checkout_before
    copy = deployed.workdir / "services"
    assert all((copy / s / ".chalice" / "deployed" / f"{STAGE}.json").is_file() for s in SERVICES)
    # write-config wrote the emulator's subnets into the copy's configs, not the checkout's.
    subnet = next(iter(deployed.wiring.functions.values())).subnet_ids[0]
    for service in SERVICES:
        assert subnet in (copy / service / ".chalice" / "config.json").read_text()
        assert subnet not in (REPO_ROOT / "services" / service / ".chalice/config.json").read_text()


@pytest.mark.slow
def test_redeploy_keeps_one_consumer_per_queue(deployed: Deployed) -> None:
    """A second `chalice deploy` + fix-event-sources (a later `make deploy`) updates in place."""
    from infra.package import tool

    env = deploy_local.aws_env(deployed.endpoint, deployed.workdir)
    for service in SERVICES:
        cwd = deployed.workdir / "services" / service
        deploy_local.run([tool("chalice"), "deploy", "--stage", STAGE], cwd, env)
    fix = [sys.executable, "-m", "infra.deploy_config", "fix-event-sources", "--stage", STAGE]
    deploy_local.run(fix, deployed.workdir, env)

    again = dw.read_wiring(deployed.endpoint)

    assert dw.check_consumers(deployed.expected, again) == []
    assert set(again.functions) == set(deployed.wiring.functions)
    uuids = {source.uuid for source in again.event_sources}
    assert uuids == {source.uuid for source in deployed.wiring.event_sources}
    assert sorted(again.subscriptions) == sorted(deployed.wiring.subscriptions)
    assert again.api_stages == deployed.wiring.api_stages
