"""CLI: `python -m infra.local.runner --service-dir services/ingestion --port 8001`."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from infra.local import ports
from infra.local.runner.service import RunnerOptions, ServiceRunner

TIME_SCALE_ENV = "PARLEY_TIME_SCALE"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m infra.local.runner",
        description="Run one Chalice service as on Lambda: HTTP routes and SQS/SNS/S3/schedules.",
    )
    parser.add_argument("--service-dir", required=True, type=Path)
    parser.add_argument("--stage", default="local")
    parser.add_argument(
        "--port", type=int, default=None, help="HTTP port (default: infra/local/ports.py)"
    )
    parser.add_argument("--no-http", action="store_true", help="drive event sources only")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--pollers", type=int, default=3, help="poller threads per queue")
    parser.add_argument("--poll-wait", type=int, default=2, help="long-poll seconds per receive")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=float(os.environ.get(TIME_SCALE_ENV, "1")),
        help=f"schedules run this many times faster (env {TIME_SCALE_ENV})",
    )
    parser.add_argument("--stop-grace", type=float, default=30.0, help="seconds to drain on stop")
    parser.add_argument(
        "--no-batch-item-failures",
        action="store_true",
        help="SQS event sources without ReportBatchItemFailures (a return deletes the batch)",
    )
    parser.add_argument(
        "--no-batch-item-failures-on",
        action="append",
        default=[],
        metavar="QUEUE",
        help="the same for one queue (name or ARN; repeatable)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    port = None if args.no_http else args.port
    if port is None and not args.no_http:
        port = ports.SERVICES.get(args.service_dir.resolve().name, 8000)
    options = RunnerOptions(
        pollers=args.pollers,
        poll_wait_seconds=args.poll_wait,
        time_scale=args.time_scale,
        host=args.host,
        stop_grace_seconds=args.stop_grace,
        report_batch_item_failures=not args.no_batch_item_failures,
        report_batch_item_failures_by_queue=dict.fromkeys(args.no_batch_item_failures_on, False),
    )
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    runner = ServiceRunner(args.service_dir, args.stage, port, options)
    runner.start()
    while not stopping.wait(0.5):
        pass
    runner.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
