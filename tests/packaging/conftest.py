"""Shared by the packaging tests: one `python -m infra.package --stage dev` run per session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"


@pytest.fixture(scope="session")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Output directory and stdout of one `python -m infra.package --stage dev` run.

    It runs the real `chalice package` (pip download from PyPI, no AWS credentials) for all five
    services; about 80 s on two CPUs, so every test that needs a package shares this one.
    """
    out = tmp_path_factory.mktemp("build")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "AWS_DEFAULT_REGION": REGION}
    cmd = [sys.executable, "-m", "infra.package", "--stage", "dev", "--out", str(out)]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out, proc.stdout
