"""The services' packaged requirements are fully pinned, with hashes, from one lock, and the lock
is current (infra/lock.py; offline: `make lock` resolves them again)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra import lock


def test_every_service_requirement_is_locked_with_hashes_and_current() -> None:
    assert lock.problems() == []


def test_a_pin_out_of_step_with_the_lock_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    files = [f"services/{s}/requirements.{x}" for s in lock.SERVICES for x in ("in", "txt")]
    for path in [lock.LOCK.as_posix(), *files]:
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(lock.ROOT / path, target)
    wanted = tmp_path / "services/context/requirements.in"
    wanted.write_text(wanted.read_text().replace("redis==8.1.0", "redis==8.0.0"))
    monkeypatch.setattr(lock, "ROOT", tmp_path)

    assert lock.problems() == [
        "context: redis==8.0.0 is not what the lock pins",
        "context: redis==8.0.0 is not in its requirements.txt",
    ]


def test_the_dev_environment_runs_the_locked_versions() -> None:
    """requirements-dev.txt pins the packages the services ship at the same versions."""
    locked = lock.pins((lock.ROOT / lock.LOCK).read_text())
    dev = lock.pins((lock.ROOT / "requirements-dev.txt").read_text())
    differ = {
        name: (version, locked[name][0])
        for name, (version, _) in dev.items()
        if name in locked and locked[name][0] != version
    }
    assert differ == {}
