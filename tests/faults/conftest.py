"""The fault suite's stack (tests/faults/faults.py `FaultStack`): one per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.local.devstack import StackPorts
from tests.e2e.e2e_support import wait_for_index
from tests.faults.faults import FaultStack, TurnLedger


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    devstack = FaultStack(StackPorts.free(), tmp_path_factory.mktemp("run"))
    try:
        devstack.start()
        wait_for_index(devstack, timeout=120)
        yield devstack
    finally:
        devstack.stop()


@pytest.fixture(scope="module")
def ledger(stack: FaultStack) -> TurnLedger:
    return TurnLedger(stack)
