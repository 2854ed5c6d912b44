"""Faults on the local runtime, the full table: fault x {sent, replies, lost, duplicated, silent}.

    python -m tests.bench.faults [--customers 10] [--messages 4] [--gap 2] [--seconds 10]

`make run`'s stack (tests/faults/faults.py `FaultStack`: moto behind a relay that can be cut, the
queues' redelivery at the least AWS allows, the inbound rate limit out of the way) is started
once; for each fault --customers customers each send --messages messages --gap s apart while it
happens; then the runtime is let settle and the customers' chats are counted (definitions in
tests/faults/faults.py). lost, duplicated and silent must be 0. `make test` runs a short version
(tests/faults/test_faults.py). About 12 minutes with the defaults.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from infra.local.devstack import StackPorts
from tests.bench.turns import table
from tests.e2e.e2e_support import wait_for_index
from tests.faults import actions
from tests.faults.faults import FaultAction, FaultStack, Load, Tally, TurnLedger, run_fault


def faults(seconds: float) -> list[tuple[str, FaultAction]]:
    return [
        ("WhatsApp 429 storm (130429)", actions.graph_storm(130429, 429, seconds)),
        ("WhatsApp 5xx storm (131000)", actions.graph_storm(131000, 500, seconds)),
        ("ai_processing SIGKILL mid-batch", actions.crash("ai_processing", "turns", 2)),
        ("ingestion SIGKILL mid-send", actions.crash("ingestion", "outbound", 2)),
        ("redis-server down", actions.redis_down(seconds)),
        ("AWS emulator unreachable", actions.aws_outage(seconds)),
        ("model calls time out", actions.model_timeouts(seconds)),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.faults", description=__doc__)
    parser.add_argument("--customers", type=int, default=10)
    parser.add_argument("--messages", type=int, default=4, help="per customer")
    parser.add_argument("--gap", type=float, default=2.0, help="seconds between a customer's")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long a fault lasts")
    parser.add_argument("--settle", type=float, default=240.0, help="seconds to wait for replies")
    parser.add_argument("--only", help="run the faults whose name contains this")
    args = parser.parse_args(argv)
    load = Load(args.customers, args.messages, args.gap, args.settle)
    began = time.monotonic()
    tallies: list[Tally] = []
    chosen = [f for f in faults(args.seconds) if (args.only or "") in f[0]]
    with tempfile.TemporaryDirectory(prefix="parley-faults-") as run_dir:
        stack = FaultStack(StackPorts.free(), Path(run_dir))
        try:
            print("Starting the local runtime and indexing the demo knowledge base...", flush=True)
            stack.start()
            wait_for_index(stack, timeout=120)
            ledger = TurnLedger(stack)
            print(f"Ready in {time.monotonic() - began:.1f} s.", flush=True)
            for n, (name, action) in enumerate(chosen):
                tally = run_fault(stack, ledger, name, action, load, first_customer=(n + 1) * 1000)
                tallies.append(tally)
                print(f"  {name}: {tally.hit}; {tally.seconds:.0f} s", flush=True)
                if "model" in name:  # what the customers were told instead
                    for text in sorted(set(tally.reply_texts))[:2]:
                        print(f"    reply: {text[:100]!r}")
                for problem in tally.problems[:5]:
                    print(f"    !! {problem}")
        except (RuntimeError, TimeoutError) as error:
            print(f"\n!! {error}")
            for log in sorted((Path(run_dir) / "logs").glob("*.log")):
                tail = log.read_text(errors="replace").splitlines()[-5:]
                print(f"--- {log.name}\n" + "\n".join(tail))
        finally:
            stack.stop()
    table(
        f"Faults: {args.customers} customers x {args.messages} messages each, {args.gap:.0f} s"
        f" apart, during each fault ({args.seconds:.0f} s where it has a length)",
        ["fault", "sent", "replies", "lost", "duplicated", "left silent"],
        [t.row() for t in tallies],
    )
    bad = sum(t.lost + t.duplicated + t.silent for t in tallies)
    ok = len(tallies) == len(chosen) > 0 and bad == 0
    print(f"\nTotal run time {time.monotonic() - began:.0f} s; {'PASS' if ok else 'FAIL'}.")
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
