"""`make run`'s stack, started the same way (infra/local/devstack.py) on free ports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.local.devstack import DEMO_BUSINESS, DevStack, StackPorts

SERVICES = ("ingestion", "ai_processing", "context", "media", "escalation")


def test_every_service_reports_all_its_dependencies_reachable(stack: DevStack) -> None:
    reports = stack.health()
    assert set(reports) == set(SERVICES)
    for service, report in reports.items():
        assert report["service"] == service
        assert report["stage"] == "local"
        deps = report["dependencies"]
        assert isinstance(deps, list) and len(deps) >= 6
        down = [d for d in deps if not d["reachable"]]
        assert down == [], f"{service}: {down}"
        assert report["healthy"] is True


def test_the_demo_knowledge_base_is_in_its_bucket(stack: DevStack) -> None:
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=stack.endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    listed = s3.list_objects_v2(Bucket="parley-local-knowledge-base", Prefix="demo/")
    names = {o["Key"] for o in listed.get("Contents", [])}
    assert "demo/deadlines-and-calendar.md" in names and len(names) == 8


@pytest.mark.browser
def test_the_chat_page_loads_in_headless_chromium(stack: DevStack, chromium: Any) -> None:
    page = chromium.new_page(viewport={"width": 420, "height": 860})
    page.goto(stack.simulator_url + "/")
    page.wait_for_selector("body[data-live='1']")
    assert page.locator("#text").is_visible()
    page.get_by_text(DEMO_BUSINESS).first.wait_for(timeout=5000)


def test_stopping_the_stack_ends_every_process(tmp_path: Path) -> None:
    devstack = DevStack(StackPorts.free(), tmp_path)
    devstack.start()
    processes = [child.process for child in devstack.children]
    devstack.stop()
    assert all(process.poll() is not None for process in processes)
