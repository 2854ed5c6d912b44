"""Cold-start import time of each service's app.py: median of 10 fresh interpreters.

Run with `make bench`. Targets: ingestion <= 250 ms, the other services <= 500 ms.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET_MS = {"ingestion": 250.0}
DEFAULT_TARGET_MS = 500.0
RUNS = 10
PROBE = "import time; t = time.perf_counter(); import app; print((time.perf_counter() - t) * 1000)"


def import_ms(service: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT / "services" / service,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(out.strip().splitlines()[-1])


def main() -> int:
    services = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "app.py").exists())
    print(f"cold-start import of app.py, median of {RUNS} fresh interpreters")
    print(f"{'service':<15}{'median ms':>10}{'min ms':>9}{'max ms':>9}{'target':>9}  verdict")
    failed = False
    for service in services:
        samples = [import_ms(service) for _ in range(RUNS)]
        median = statistics.median(samples)
        target = TARGET_MS.get(service, DEFAULT_TARGET_MS)
        ok = median <= target
        failed |= not ok
        print(
            f"{service:<15}{median:>10.1f}{min(samples):>9.1f}{max(samples):>9.1f}"
            f"{target:>9.0f}  {'ok' if ok else 'OVER TARGET'}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
