"""What the benchmarks run against: a moto server and a redis-server on free loopback ports, and
the template's resources provisioned on that moto (the same provisioner as `make run`)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from infra.local.devstack import wait_for_port
from infra.local.pytest_fixtures import free_port


@contextlib.contextmanager
def emulators() -> Iterator[tuple[str, str]]:
    """A moto server and a redis-server on free ports; yields (aws endpoint, redis url)."""
    redis_binary = shutil.which("redis-server")
    if redis_binary is None:
        raise SystemExit("redis-server is missing: `make setup` installs it")
    moto_port, redis_port = free_port(), free_port()
    quiet: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    moto = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)], **quiet
    )
    redis = subprocess.Popen(
        [redis_binary, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", ""], **quiet
    )
    try:
        wait_for_port(moto_port)
        wait_for_port(redis_port)
        yield f"http://127.0.0.1:{moto_port}", f"redis://127.0.0.1:{redis_port}/0"
    finally:
        for proc in (moto, redis):
            proc.terminate()
        for proc in (moto, redis):
            proc.wait(timeout=10)


def provision(endpoint: str) -> None:
    """Create infra/template.yaml's resources on the emulator, quietly."""
    from infra.local import provisioner

    with (
        tempfile.TemporaryDirectory() as tmp,
        open(os.devnull, "w") as devnull,
        contextlib.redirect_stdout(devnull),
        contextlib.redirect_stderr(devnull),
    ):
        provisioner.main(
            ["--stage", "local", "--endpoint", endpoint, "--output", f"{tmp}/resources.json"]
        )


def use_service_stage(service_dir: Path, endpoint: str, redis_url: str, log_level: str) -> None:
    """The service's `local` stage variables in os.environ, pointed at these emulators."""
    config = json.loads((service_dir / ".chalice" / "config.json").read_text())
    os.environ.update(config.get("environment_variables", {}))
    os.environ.update(config["stages"]["local"]["environment_variables"])
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint,
        REDIS_URL=redis_url,
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        LOG_LEVEL=log_level,
        POWERTOOLS_LOG_LEVEL=log_level,
    )
