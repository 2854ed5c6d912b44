"""The local stack (`make run`'s, infra/local/devstack.py) on free ports, one per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.local.devstack import DevStack, StackPorts


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    devstack = DevStack(StackPorts.free(), tmp_path_factory.mktemp("run"))
    try:
        devstack.start()
        yield devstack
    finally:
        devstack.stop()
