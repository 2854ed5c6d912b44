"""`python -m infra.package` end to end for all five services, plus its pure helpers.

The end-to-end part runs the real `chalice package` (pip download from PyPI, no AWS credentials)
once per test session into a temporary directory (the `packaged` fixture of conftest.py).
"""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from infra import package
from infra.deploy_config import SERVICES

REGION = "us-east-1"


def sam(out: Path, service: str) -> dict[str, Any]:
    template: dict[str, Any] = json.loads((out / service / "sam.json").read_text())
    return template


@pytest.mark.slow
@pytest.mark.parametrize("service", SERVICES)
def test_template_and_summary(packaged: tuple[Path, str], service: str) -> None:
    out, stdout = packaged
    assert (out / service / "sam.json").is_file()
    assert (out / service / package.MERGE_TEMPLATE).is_file()
    line = next(line for line in stdout.splitlines() if line.startswith(f"{service} "))
    assert "ReportBatchItemFailures=all" in line
    assert "cfn-lint=clean" in line


@pytest.mark.slow
@pytest.mark.parametrize("service", SERVICES)
def test_zip_has_shared_library_at_root(packaged: tuple[Path, str], service: str) -> None:
    out, _ = packaged
    with zipfile.ZipFile(out / service / "deployment.zip") as archive:
        names = set(archive.namelist())
    assert {"parley/__init__.py", "parley/resources.py", "app.py"} <= names
    assert any(name.startswith("chalicelib/") for name in names)
    assert not any(name.startswith("vendor/") for name in names)


@pytest.mark.slow
@pytest.mark.parametrize("service", SERVICES)
def test_every_sqs_source_reports_batch_item_failures(
    packaged: tuple[Path, str], service: str
) -> None:
    out, _ = packaged
    events = package.sqs_events(sam(out, service))
    assert events, f"{service} has no SQS event source"
    for props in events.values():
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        # The merge left Chalice's queue intrinsic alone (deep-merge trap).
        assert list(props["Queue"]) == ["Fn::Sub"]


@pytest.mark.slow
def test_cfn_lint_clean(packaged: tuple[Path, str]) -> None:
    out, _ = packaged
    templates = [str(out / service / "sam.json") for service in SERVICES]
    cmd = [package.tool("cfn-lint"), "--regions", REGION, "--", *templates]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_cfn_names_follow_chalice() -> None:
    source = package.SqsSource("handle_escalation_events")
    assert source.resource == "HandleEscalationEvents"
    assert source.event == "HandleEscalationEventsSqsEventSource"


def test_merge_template_only_adds_the_flag() -> None:
    merge = package.merge_template([package.SqsSource("send_outbound")])
    assert merge == {
        "Resources": {
            "SendOutbound": {
                "Properties": {
                    "Events": {
                        "SendOutboundSqsEventSource": {
                            "Properties": {"FunctionResponseTypes": ["ReportBatchItemFailures"]}
                        }
                    }
                }
            }
        }
    }


def _template(props: dict[str, Any]) -> dict[str, Any]:
    event = {"Type": "SQS", "Properties": props}
    function = {
        "Type": package.FUNCTION_TYPE,
        "Properties": {"Events": {"FnSqsEventSource": event}},
    }
    return {"Resources": {"Fn": function}}


def test_check_template_rejects_missing_flag_and_broken_queue() -> None:
    sources = [package.SqsSource("fn")]
    queue = {"Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:q"}
    flag = {"FunctionResponseTypes": ["ReportBatchItemFailures"]}
    package.check_template(_template({"Queue": queue, **flag}), sources)
    with pytest.raises(package.PackagingError, match="not set"):
        package.check_template(_template({"Queue": queue}), sources)
    broken = {**queue, "Fn::GetAtt": ["Q", "Arn"]}
    with pytest.raises(package.PackagingError, match="single intrinsic"):
        package.check_template(_template({"Queue": broken, **flag}), sources)
    with pytest.raises(package.PackagingError, match="SQS events"):
        package.check_template(_template({"Queue": queue, **flag}), [package.SqsSource("other")])


def test_check_zip_requires_parley_at_root(tmp_path: Path) -> None:
    path = tmp_path / "deployment.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("app.py", "")
        archive.writestr("chalicelib/__init__.py", "")
        archive.writestr("vendor/parley/__init__.py", "")
    with pytest.raises(package.PackagingError, match=r"parley/__init__\.py"):
        package.check_zip(path)


def test_cfn_lint_errors_fail_the_package(tmp_path: Path) -> None:
    template = tmp_path / "sam.json"
    bad = {"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {}}}}
    template.write_text(json.dumps(bad))
    with pytest.raises(package.PackagingError, match="cfn-lint"):
        package.cfn_lint(template, REGION, package.build_env(REGION))
