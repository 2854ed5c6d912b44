"""Test app: a rate schedule and a cron schedule."""

from __future__ import annotations

import threading
import time
from typing import Any

from chalice import Chalice, Rate
from chalice.app import CloudWatchEvent

app = Chalice(app_name="rt-clock")
LOCK = threading.Lock()
FIRED: list[tuple[str, float, dict[str, Any]]] = []


@app.schedule(Rate(1, unit=Rate.MINUTES))
def every_minute(event: CloudWatchEvent) -> None:
    with LOCK:
        FIRED.append(("rate", time.monotonic(), event.to_dict()))


@app.schedule("cron(* * * * ? *)")
def cron_minute(event: CloudWatchEvent) -> None:
    with LOCK:
        FIRED.append(("cron", time.monotonic(), event.to_dict()))
