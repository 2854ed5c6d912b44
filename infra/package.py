"""Package every service with `chalice package` and check what comes out.

    PYTHONPATH=. python -m infra.package --stage dev --out build [--service ingestion ...]

For each service this
1. imports the app the way Chalice does (in a subprocess) to find its SQS and SNS handlers,
2. writes `<out>/<service>/merge-template.json`, which turns on
   `FunctionResponseTypes: [ReportBatchItemFailures]` for every SQS event source (Chalice cannot)
   and gives every SNS-subscribed function an `EventInvokeConfig`: Lambda's two retries, then its
   on-failure destination, the topic's DLQ (`infra.deploy_config.on_failure_queue`),
3. runs `chalice package --stage <stage> --merge-template ... <out>/<service>`,
4. checks `sam.json` (every SQS source has the flag, every SNS handler its destination, no resource
   lost its Type), the zip (`parley/__init__.py` at the root, `app.py`, `chalicelib/`) and runs
   cfn-lint on the template,
5. prints one summary line per service. Any failure makes the exit status non-zero.

The merge template only adds a list under each event source's `Properties`: Chalice's merge is a
deep dict merge, so replacing a dict-valued intrinsic such as `Queue: {Fn::Sub: ...}` would leave
both intrinsics in one object (see shared/reference/chalice.md, section 2).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalice.utils import to_cfn_resource_name

from infra.deploy_config import (
    ASYNC_RETRY_ATTEMPTS,
    BATCH_FAILURES,
    REPO_ROOT,
    SERVICES,
    on_failure_queue,
)

MERGE_TEMPLATE = "merge-template.json"
REQUIRED_IN_ZIP: tuple[str, ...] = ("parley/__init__.py", "app.py", "chalicelib/__init__.py")
FUNCTION_TYPE = "AWS::Serverless::Function"
# cfn-lint exit status is a bit mask: 1 = could not lint (bad file, crash), 2 = errors,
# 4 = warnings, 8 = informational. Errors and warnings fail the build: none are ignored (the
# generated templates are clean today). Informational findings are printed but do not fail.
CFN_LINT_FAILING_BITS = 1 | 2 | 4

# Runs inside `services/<name>` with a fresh interpreter: Chalice's own factory loads the stage's
# config and environment variables and imports app.py exactly as `chalice package` does (the CLI
# hands it os.environ, so the stage's variables are set when app.py names its topic).
_DISCOVER_SCRIPT = """
import json, os, sys
from chalice.app import SNSEventConfig, SQSEventConfig
from chalice.cli.factory import CLIFactory
stage, out = sys.argv[1], sys.argv[2]
config = CLIFactory(project_dir='.', environ=os.environ).create_config_obj(chalice_stage_name=stage)
app = config.chalice_app
sqs = [s.name for s in app.event_sources if isinstance(s, SQSEventConfig)]
sns = [[s.name, s.topic] for s in app.event_sources if isinstance(s, SNSEventConfig)]
with open(out, 'w') as f:
    json.dump({'sqs': sqs, 'sns': sns}, f)
"""


class PackagingError(Exception):
    """A service could not be packaged or its package failed a check."""


@dataclass(frozen=True)
class SqsSource:
    """One SQS event source of a Chalice app, with the names Chalice uses in sam.json."""

    function_name: str

    @property
    def resource(self) -> str:
        return to_cfn_resource_name(self.function_name)

    @property
    def event(self) -> str:
        return to_cfn_resource_name(f"{self.function_name}-sqs-event-source")


@dataclass(frozen=True)
class SnsSource:
    """A function of the app subscribed to an SNS topic (Lambda invokes it asynchronously)."""

    function_name: str
    topic: str

    @property
    def resource(self) -> str:
        return to_cfn_resource_name(self.function_name)

    @property
    def destination(self) -> dict[str, Any]:
        """The ARN of the topic's DLQ, in the stack's partition, region and account."""
        account = "${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}"
        return {"Fn::Sub": f"arn:{account}:{on_failure_queue(self.topic)}"}

    def event_invoke_config(self) -> dict[str, Any]:
        # SAM requires `Type`; it adds no policy to the role Chalice names (policy-<stage>.json).
        return {
            "MaximumRetryAttempts": ASYNC_RETRY_ATTEMPTS,
            "DestinationConfig": {"OnFailure": {"Type": "SQS", "Destination": self.destination}},
        }


@dataclass(frozen=True)
class ServiceResult:
    service: str
    template: Path
    zip_bytes: int
    functions: int
    sqs_sources: int
    seconds: float
    sns_sources: int = 0

    def summary(self, base: Path) -> str:
        template = os.path.relpath(self.template, base)
        size_mb = self.zip_bytes / 1_000_000
        sns = f"sns_sources={self.sns_sources} on-failure=dlq " if self.sns_sources else ""
        return (
            f"{self.service:<14} template={template} zip={size_mb:.1f}MB "
            f"functions={self.functions} sqs_sources={self.sqs_sources} "
            f"{BATCH_FAILURES}=all {sns}cfn-lint=clean ({self.seconds:.1f}s)"
        )


def service_dir(service: str) -> Path:
    return REPO_ROOT / "services" / service


def _run(cmd: Sequence[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)


def _tail(proc: subprocess.CompletedProcess[str], lines: int = 25) -> str:
    text = (proc.stdout + proc.stderr).strip().splitlines()
    return "\n".join(text[-lines:])


def build_env(region: str) -> dict[str, str]:
    env = dict(os.environ)
    env["AWS_DEFAULT_REGION"] = region
    env["AWS_CHALICE_CLI_MODE"] = "true"
    # Importing the app must not write __pycache__ into vendor/ (libs/common/parley): Chalice
    # hashes every file under vendor/ to decide whether its cached zip can be reused.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def discover_sources(
    service: str, stage: str, env: dict[str, str], tmp: Path
) -> tuple[list[SqsSource], list[SnsSource]]:
    """Import the service's app in a subprocess and return its SQS and SNS handlers."""
    out = tmp / "event-handlers.json"
    cmd = [sys.executable, "-c", _DISCOVER_SCRIPT, stage, str(out)]
    proc = _run(cmd, service_dir(service), env)
    if proc.returncode != 0 or not out.exists():
        raise PackagingError(f"could not import the app to find its handlers:\n{_tail(proc)}")
    found: dict[str, Any] = json.loads(out.read_text())
    out.unlink()
    sqs = [SqsSource(name) for name in found["sqs"]]
    return sqs, [SnsSource(name, topic) for name, topic in found["sns"]]


def merge_template(
    sources: Sequence[SqsSource], sns_sources: Sequence[SnsSource] = ()
) -> dict[str, Any]:
    """The `--merge-template` document: partial batch responses on every SQS source, and an
    on-failure destination for every SNS-subscribed function."""
    flag = {"Properties": {"FunctionResponseTypes": [BATCH_FAILURES]}}
    resources: dict[str, Any] = {
        source.resource: {"Properties": {"Events": {source.event: json.loads(json.dumps(flag))}}}
        for source in sources
    }
    for sns in sns_sources:
        properties = resources.setdefault(sns.resource, {"Properties": {}})["Properties"]
        properties["EventInvokeConfig"] = sns.event_invoke_config()
    return {"Resources": resources}


def tool(name: str) -> str:
    """A console script of the running virtualenv, else whatever PATH finds."""
    script = Path(sys.executable).with_name(name)
    return str(script) if script.exists() else name


def chalice_package(
    service: str, stage: str, merge_file: Path, out: Path, env: dict[str, str]
) -> None:
    cmd = [
        tool("chalice"),
        "--project-dir",
        str(service_dir(service)),
        "package",
        "--stage",
        stage,
        "--merge-template",
        str(merge_file),
        str(out),
    ]
    proc = _run(cmd, REPO_ROOT, env)
    if proc.returncode != 0:
        raise PackagingError(f"chalice package failed:\n{_tail(proc)}")


def sqs_events(template: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(function resource, event key) -> event properties, for every SQS event in a SAM template."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for name, resource in template.get("Resources", {}).items():
        if resource.get("Type") != FUNCTION_TYPE:
            continue
        for key, event in resource.get("Properties", {}).get("Events", {}).items():
            if event.get("Type") == "SQS":
                found[(name, key)] = event.get("Properties", {})
    return found


def check_template(
    template: dict[str, Any], sources: Sequence[SqsSource], sns_sources: Sequence[SnsSource] = ()
) -> None:
    """Every SQS source of the app is in the template, and each reports batch item failures; every
    SNS-subscribed function has its on-failure destination."""
    untyped = [name for name, res in template.get("Resources", {}).items() if "Type" not in res]
    if untyped:
        raise PackagingError(f"merge template created resources without a Type: {untyped}")
    events = sqs_events(template)
    expected = {(source.resource, source.event) for source in sources}
    if set(events) != expected:
        raise PackagingError(f"SQS events in sam.json {sorted(events)} != app's {sorted(expected)}")
    flag = [BATCH_FAILURES]
    missing = [key for key, props in events.items() if props.get("FunctionResponseTypes") != flag]
    if missing:
        raise PackagingError(f"{BATCH_FAILURES} not set on {missing}")
    for key, props in events.items():
        if isinstance(props.get("Queue"), dict) and len(props["Queue"]) != 1:
            raise PackagingError(f"Queue of {key} is not a single intrinsic: {props['Queue']}")
    resources = template.get("Resources", {})
    for sns in sns_sources:
        function = resources.get(sns.resource, {})
        config = function.get("Properties", {}).get("EventInvokeConfig")
        if function.get("Type") != FUNCTION_TYPE or config != sns.event_invoke_config():
            raise PackagingError(f"{sns.resource} lacks its on-failure destination: {config}")


def check_zip(path: Path) -> int:
    """The zip holds app.py, chalicelib/ and the shared parley package at its root."""
    if not path.is_file():
        raise PackagingError(f"{path.name} was not written")
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
    missing = [name for name in REQUIRED_IN_ZIP if name not in names]
    if missing:
        raise PackagingError(f"{path.name} lacks {missing}")
    return path.stat().st_size


def cfn_lint(template: Path, region: str, env: dict[str, str]) -> None:
    cmd = [tool("cfn-lint"), "--regions", region, "--format", "parseable", "--", str(template)]
    proc = _run(cmd, REPO_ROOT, env)
    if proc.returncode & CFN_LINT_FAILING_BITS or not 0 <= proc.returncode < 16:
        raise PackagingError(f"cfn-lint found problems (exit {proc.returncode}):\n{_tail(proc)}")
    if proc.returncode:
        print(f"cfn-lint (informational only) for {template}:\n{_tail(proc)}", file=sys.stderr)


def package_service(service: str, stage: str, out_root: Path, region: str) -> ServiceResult:
    started = time.monotonic()
    if not (service_dir(service) / "app.py").is_file():
        raise PackagingError(f"no app.py in {service_dir(service)}")
    env = build_env(region)
    out = out_root / service
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    sources, sns_sources = discover_sources(service, stage, env, out)
    merge_file = out / MERGE_TEMPLATE
    merge_file.write_text(json.dumps(merge_template(sources, sns_sources), indent=2) + "\n")
    chalice_package(service, stage, merge_file, out, env)
    template_path = out / "sam.json"
    if not template_path.is_file():
        raise PackagingError("chalice package wrote no sam.json")
    template = json.loads(template_path.read_text())
    check_template(template, sources, sns_sources)
    zip_bytes = check_zip(out / "deployment.zip")
    cfn_lint(template_path, region, env)
    functions = sum(1 for r in template["Resources"].values() if r.get("Type") == FUNCTION_TYPE)
    elapsed = time.monotonic() - started
    return ServiceResult(
        service, template_path, zip_bytes, functions, len(sources), elapsed, len(sns_sources)
    )


def _package_or_error(service: str, stage: str, out: Path, region: str) -> ServiceResult | str:
    try:
        return package_service(service, stage, out, region)
    except (PackagingError, OSError, ValueError) as exc:
        return f"{service}: {exc}"


def package_all(services: Sequence[str], stage: str, out: Path, region: str, jobs: int) -> int:
    """Package the services (in parallel), print a line per service; 0 when all passed."""
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(lambda svc: _package_or_error(svc, stage, out, region), services))
    failures = [result for result in results if isinstance(result, str)]
    for result in results:
        if isinstance(result, ServiceResult):
            print(result.summary(Path.cwd()))
    for failure in failures:
        print(f"FAILED {failure}", file=sys.stderr)
    return 1 if failures else 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m infra.package", description=__doc__)
    parser.add_argument("--stage", required=True, help="Chalice stage (local, dev, prod)")
    parser.add_argument("--out", default="build", help="output directory (default: build)")
    parser.add_argument(
        "--service", action="append", choices=SERVICES, help="only this service (repeatable)"
    )
    parser.add_argument("--region", default=None, help="default: $AWS_DEFAULT_REGION")
    parser.add_argument("--jobs", type=int, default=len(SERVICES), help="services in parallel")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    region = args.region or os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION")
    if not region:
        print("chalice package needs a region: export AWS_DEFAULT_REGION", file=sys.stderr)
        return 2
    services = args.service or list(SERVICES)
    started = time.monotonic()
    status = package_all(services, args.stage, Path(args.out).resolve(), region, args.jobs)
    verdict = "ok" if status == 0 else "FAILED"
    print(f"packaged {len(services)} service(s) in {time.monotonic() - started:.1f}s: {verdict}")
    return status


if __name__ == "__main__":
    sys.exit(main())
