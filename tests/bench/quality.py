"""Answer quality of the offline engine on the labelled answer set (issue 12): required facts
present, unanswerable questions declined without invented figures, and routing (off-topic
included), overall, per language and per tag, then the first misses. Prints figures; it is not a
timed test and exits 0.

    python -m tests.bench.quality [--misses 20] [--kind facts|decline|route] [--tag cross_language]

The set is services/ai_processing/tests/data/answer_set*.yaml, written from the demo knowledge
base's documents; the harness (services/ai_processing/tests/answer_quality.py) runs every item
through the turn handler with the LocalChatModel and the real search tool over the demo index,
built in a temporary directory. Thresholds: services/ai_processing/tests/test_answer_quality.py.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICE_DIR = ROOT / "services" / "ai_processing"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", type=int, default=20, help="how many misses to print")
    parser.add_argument("--kind", choices=("facts", "decline", "route"), help="only these misses")
    parser.add_argument("--tag", help="only the items with this tag")
    args = parser.parse_args(argv)

    # chalicelib as the service sees it, and the harness beside the service's tests
    sys.path[:0] = [str(SERVICE_DIR), str(SERVICE_DIR / "tests")]
    from answer_quality import format_figures, format_misses, load_set, run_set

    items = load_set()
    if args.tag:
        items = [item for item in items if args.tag in item.tags]
    started = time.perf_counter()
    report = run_set(items)
    seconds = time.perf_counter() - started
    print(f"answer set: {len(items)} items, run in {seconds:.1f} s (LocalChatModel, demo index)")
    print(format_figures(report.groups()))
    misses = [m for m in report.misses() if args.kind in (None, m.kind)]
    print(format_misses(misses, args.misses))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
