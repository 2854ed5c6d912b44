"""The fault suite, short: a few customers write while each fault happens; afterwards no message
is lost, none is answered twice, no customer is left without an answer (tests/faults/faults.py
defines the counts). The full table is `python -m tests.bench.faults`."""

from __future__ import annotations

import pytest

from tests.faults.actions import crash, graph_storm
from tests.faults.faults import (
    FaultStack,
    Load,
    Tally,
    TurnLedger,
    run_fault,
)

pytestmark = pytest.mark.slow

LOAD = Load(customers=3, messages=3, gap=1.5, settle_timeout=90)


def assert_clean(tally: Tally) -> None:
    print(
        f"\n{tally.fault}: {tally.hit}; sent {tally.sent}, replies {tally.replies}, "
        f"lost {tally.lost}, duplicated {tally.duplicated}, silent {tally.silent}, "
        f"{tally.seconds:.0f} s"
    )
    summary = f"{tally}"
    assert tally.sent == LOAD.customers * LOAD.messages, summary
    assert tally.lost == 0, summary
    assert tally.duplicated == 0, summary
    assert tally.silent == 0, summary
    assert tally.replies >= 1, summary


def test_whatsapp_429_storm(stack: FaultStack, ledger: TurnLedger) -> None:
    tally = run_fault(stack, ledger, "429 storm", graph_storm(130429, 429, 6), LOAD, 1000)
    assert_clean(tally)


def test_whatsapp_5xx_storm(stack: FaultStack, ledger: TurnLedger) -> None:
    tally = run_fault(stack, ledger, "5xx storm", graph_storm(131000, 500, 6), LOAD, 2000)
    assert_clean(tally)


def test_ai_processing_killed_mid_batch(stack: FaultStack, ledger: TurnLedger) -> None:
    tally = run_fault(
        stack, ledger, "kill ai_processing", crash("ai_processing", "turns", 2), LOAD, 3000
    )
    assert_clean(tally)
