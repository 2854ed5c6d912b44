"""`chalice deploy` of the five services against the local AWS emulator, then the wiring checked.

    PYTHONPATH=. python -m infra.local.deploy_local [--stage dev] [--workdir DIR]

`make deploy-local` runs it. It runs infra/deploy.sh's steps with the same commands, on moto server:

0. `deploy_config check-credentials` and `vpc-id` (a VPC and two subnets made in the emulator);
1. instead of the stack (moto's CloudFormation cannot create infra/template.yaml): the template
   provisioned by infra/local/provisioner.py, plus a stand-in stack `parley-<stage>-shared` that
   holds only the template's Outputs, resolved against what was provisioned;
2. `deploy_config write-config`, 3. `chalice deploy --stage <stage>` per service,
4. `deploy_config fix-event-sources`;

then reads the wiring back from the emulator's APIs and prints every problem (`problems`); the exit
status is 1 when there is one. All of it runs on a copy of infra/, libs/common/parley and
services/ in a work folder, so `.chalice/deployed/` and the configs write-config rewrites stay out
of the checkout.

Not covered here, because the emulator does not enforce or run it: IAM evaluation (the policies
are only matched statically, Allow statements without their conditions), invoking the functions,
API Gateway serving requests, VPC networking.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from infra.deploy_config import SERVICES, stack_name
from infra.local import cfn, provisioner
from infra.local.deployed_wiring import (
    REGION,
    emulator_clients,
    expected_from,
    problems,
    read_wiring,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
PREFIX = "parley"  # policy-<stage>.json and the function alarms name parley-<stage>-* resources


class DeployLocalError(Exception):
    """A step of the local deploy failed; the message holds the command's output."""


# ------------------------------------------------------------------------------ emulator


def swagger_as_openapi(document: Mapping[str, Any]) -> dict[str, Any]:
    """Chalice's API document in a form moto 5.2's import accepts.

    API Gateway imports Swagger 2.0 without `info.description`; moto refuses Swagger and needs the
    description. It reads only `paths` (methods, integrations), which both versions spell alike.
    """
    doc = dict(document)
    if "swagger" in doc:
        del doc["swagger"]
        doc["openapi"] = "3.0.1"
    doc["info"] = {"description": "", **doc.get("info", {})}
    return doc


def serve_emulator(port: int) -> None:
    """moto server on 127.0.0.1:`port` with the API import fix; runs until killed."""
    from moto.apigateway.models import APIGatewayBackend
    from moto.server import ThreadedMotoServer

    import_api, put_api = APIGatewayBackend.import_rest_api, APIGatewayBackend.put_rest_api

    def import_rest_api(self: Any, api_doc: dict[str, Any], fail_on_warnings: bool) -> Any:
        return import_api(self, swagger_as_openapi(api_doc), fail_on_warnings)

    def put_rest_api(
        self: Any,
        function_id: str,
        api_doc: dict[str, Any],
        fail_on_warnings: bool,
        mode: str = "merge",
    ) -> Any:
        return put_api(self, function_id, swagger_as_openapi(api_doc), fail_on_warnings, mode)

    setattr(APIGatewayBackend, "import_rest_api", import_rest_api)  # noqa: B010
    setattr(APIGatewayBackend, "put_rest_api", put_rest_api)  # noqa: B010
    ThreadedMotoServer(ip_address="127.0.0.1", port=port).start()
    threading.Event().wait()


@contextmanager
def emulator(log: Path) -> Iterator[str]:
    """A fresh emulator in its own process (moto keeps its state per process); its endpoint."""
    from infra.local.devstack import wait_for_port
    from infra.local.pytest_fixtures import free_port

    port = free_port()
    cmd = [sys.executable, "-m", "infra.local.deploy_local", "--serve-emulator", str(port)]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        try:
            wait_for_port(port)
        except TimeoutError as exc:
            tail = log.read_text(errors="replace")[-3000:]
            raise DeployLocalError(f"the emulator did not start: {exc}\n{tail}") from exc
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def aws_env(endpoint: str, workdir: Path) -> dict[str, str]:
    """This environment with every AWS setting pointing at the emulator (never at AWS)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
        AWS_CONFIG_FILE=str(workdir / "aws-config"),  # no profile or endpoint of this machine
        AWS_SHARED_CREDENTIALS_FILE=str(workdir / "aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONPATH=str(workdir),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


@contextmanager
def patched_environ(values: Mapping[str, str]) -> Iterator[None]:
    """os.environ's AWS settings replaced for in-process boto3 clients (the provisioner's)."""
    saved = dict(os.environ)
    for key in [key for key in os.environ if key.startswith("AWS_")]:
        del os.environ[key]
    os.environ.update({key: value for key, value in values.items() if key.startswith("AWS_")})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


# ------------------------------------------------------------------------------ deploy


def copy_sources(workdir: Path) -> None:
    """infra/, libs/common/parley and every service without tests or Chalice's deploy state."""

    def skip(folder: str, names: list[str]) -> set[str]:
        skipped = {"__pycache__"} & set(names)
        if Path(folder).name == ".chalice":
            skipped |= {"deployed", "deployments"} & set(names)
        if Path(folder).parent.name == "services":
            skipped |= {"tests"} & set(names)
        return skipped

    shutil.copytree(REPO_ROOT / "infra", workdir / "infra", ignore=skip)
    shutil.copytree(REPO_ROOT / "libs/common/parley", workdir / "libs/common/parley", ignore=skip)
    for service in SERVICES:
        # symlinks=True keeps vendor/parley -> ../../../libs/common/parley, now the copy's.
        source, target = REPO_ROOT / "services" / service, workdir / "services" / service
        shutil.copytree(source, target, symlinks=True, ignore=skip)


def run(cmd: Sequence[str], cwd: Path, env: Mapping[str, str]) -> str:
    proc = subprocess.run(
        list(cmd), cwd=cwd, env=dict(env), capture_output=True, text=True, check=False, timeout=900
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-30:])
        raise DeployLocalError(f"{' '.join(cmd)} (in {cwd}) failed:\n{tail}")
    return proc.stdout


def make_network(ec2: Any) -> tuple[str, tuple[str, ...]]:
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnets = tuple(
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.42.{n}.0/24")["Subnet"]["SubnetId"]
        for n in (1, 2)
    )
    return str(vpc), subnets


def provision(stage: str, vpc: str, subnets: Sequence[str], endpoint: str) -> cfn.Stack:
    parameters = {"Stage": stage, "Prefix": PREFIX, "VpcId": vpc, "SubnetIds": ",".join(subnets)}
    stack = cfn.Stack(cfn.load_template(), parameters, f"{PREFIX}-{stage}", region=REGION)
    secrets = json.loads(provisioner.DEV_SECRETS_PATH.read_text(encoding="utf-8"))
    provisioner.provision(stack, provisioner.Clients(REGION, endpoint), secrets)
    return stack


def stand_in_outputs(stack: cfn.Stack) -> dict[str, str]:
    """The template's Outputs as the real stack would report them for what was provisioned."""
    outputs = stack.template.get("Outputs", {})
    return {
        key: str(stack.resolve(output["Value"]))
        for key, output in outputs.items()
        if "Condition" not in output or stack.condition(output["Condition"])
    }


def create_stand_in_stack(cloudformation: Any, stack: cfn.Stack, stage: str) -> None:
    outputs = {key: {"Value": value} for key, value in stand_in_outputs(stack).items()}
    body = {
        "Description": "Stand-in for infra/template.yaml: its outputs only (deploy_local)",
        "Resources": {"StandIn": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": outputs,
    }
    cloudformation.create_stack(StackName=stack_name(PREFIX, stage), TemplateBody=json.dumps(body))


def deploy(stage: str, workdir: Path, endpoint: str) -> cfn.Stack:
    """Steps 0-4 of infra/deploy.sh on the emulator; the provisioned template's stack."""
    from infra.package import tool

    copy_sources(workdir)
    env = aws_env(endpoint, workdir)
    client = emulator_clients(endpoint)
    config = [sys.executable, "-m", "infra.deploy_config"]
    vpc, subnets = make_network(client("ec2"))
    subnet_arg = ["--subnet-ids", ",".join(subnets)]
    run([*config, "check-credentials"], workdir, env)
    found_vpc = run([*config, "vpc-id", *subnet_arg], workdir, env).strip()
    if found_vpc != vpc:
        raise DeployLocalError(f"deploy_config vpc-id answered {found_vpc!r}, not {vpc!r}")
    with patched_environ(env):  # the provisioner's clients take their credentials from it
        stack = provision(stage, vpc, subnets, endpoint)
    create_stand_in_stack(client("cloudformation"), stack, stage)
    run([*config, "write-config", "--stage", stage, "--prefix", PREFIX, *subnet_arg], workdir, env)
    for service in SERVICES:
        run([tool("chalice"), "deploy", "--stage", stage], workdir / "services" / service, env)
    run([*config, "fix-event-sources", "--stage", stage], workdir, env)
    return stack


def deployed_apps(workdir: Path, stage: str) -> dict[str, str]:
    """app_name -> API Gateway stage of every service, from the configs that were deployed."""
    apps = {}
    for service in SERVICES:
        config = json.loads((workdir / "services" / service / ".chalice/config.json").read_text())
        section = config.get("stages", {}).get(stage, {})
        apps[config["app_name"]] = section.get(
            "api_gateway_stage", config.get("api_gateway_stage", "api")
        )
    return apps


# ------------------------------------------------------------------------------ CLI


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m infra.local.deploy_local", description=__doc__)
    parser.add_argument("--stage", choices=("dev", "prod"), default="dev")
    parser.add_argument("--workdir", type=Path, default=None, help="kept (default: a temp folder)")
    parser.add_argument("--serve-emulator", type=int, metavar="PORT", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def deploy_and_check(stage: str, workdir: Path) -> list[str]:
    with emulator(workdir / "emulator.log") as endpoint:
        stack = deploy(stage, workdir, endpoint)
        wiring = read_wiring(endpoint)
    found = problems(expected_from(stack), wiring, deployed_apps(workdir, stage), stage)
    print(
        f"deployed {len(SERVICES)} services ({stage}) on the emulator: {len(wiring.functions)} "
        f"functions, {len(wiring.event_sources)} SQS event sources, "
        f"{len(wiring.api_stages)} REST APIs"
    )
    return found


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_emulator:
        serve_emulator(args.serve_emulator)
        return 0
    if args.workdir is not None and args.workdir.exists() and any(args.workdir.iterdir()):
        # Chalice's deployed state of an earlier run names resources of a gone emulator.
        print(f"error: --workdir {args.workdir} is not empty", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="parley-deploy-local-") as temporary:
        workdir = args.workdir or Path(temporary)
        workdir.mkdir(parents=True, exist_ok=True)
        try:
            found = deploy_and_check(args.stage, workdir.resolve())
        except DeployLocalError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    for problem in found:
        print(f"PROBLEM {problem}", file=sys.stderr)
    print("wiring: ok" if not found else f"wiring: {len(found)} problem(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
