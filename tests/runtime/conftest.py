"""Fixtures of the runner tests (helpers are in runtime_support.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from runtime_support import Aws, LogCapture, RunService, new_runner

from infra.local.runner import ServiceRunner


@pytest.fixture
def aws(moto_endpoint: str) -> Aws:
    return Aws()


@pytest.fixture
def unique() -> str:
    return f"rt{uuid.uuid4().hex[:10]}"


@pytest.fixture
def run_service(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunService]:
    """Start a test app in-process with the given environment; stopped at teardown."""
    started: list[ServiceRunner] = []

    def start(app: str, env: dict[str, str], **options: Any) -> tuple[ServiceRunner, LogCapture]:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        capture = LogCapture()
        runner = new_runner(app, capture, **options)
        started.append(runner)
        runner.start()
        return runner, capture

    yield start
    for runner in started:
        runner.stop(timeout=10)
        runner.restore_environment()
