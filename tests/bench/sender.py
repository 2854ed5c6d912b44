"""The sender's pacing under a burst: 400 messages to ONE business number (400 customers) at the
default 80 messages/s, against the WhatsApp simulator and a real redis-server (started here on a
free port), from several "containers" (senders sharing only Redis) running in threads.

Run from the repository root: `python -m tests.bench.sender [--messages 400] [--rate 80]`.
Prints the achieved rate, the most sends started in any 1-second window (what pacing controls;
the verdict), the most the simulator received in one (that plus the HTTP call's jitter), and the
send latency (the Graph API call) and job latency (including the wait for a slot) p50/p99.
The store and the status publisher are the in-memory ones: this measures pacing, not DynamoDB.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "services" / "ingestion"))  # chalicelib, as the service sees it

from chalicelib.channels.meta import MetaCloudChannel  # noqa: E402
from chalicelib.outbound import (  # noqa: E402
    ChannelRegistry,
    Pacer,
    Sender,
    as_reply_event,
    rate_limiter,
)
from chalicelib.outbound.memory import InMemoryOutboundStore, InMemoryStatusPublisher  # noqa: E402
from infra.local.simulator import SimConfig, start_in_thread  # noqa: E402
from parley.events import ReplyRequestedEvent  # noqa: E402
from parley.settings import BusinessNumber, IngestionSettings  # noqa: E402
from parley.whatsapp.graph import GraphClient  # noqa: E402

PNID = "100000000000001"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def redis_server() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (make setup installs it)")
    port = free_port()
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class TimedChannel:
    """Wraps a channel and records when each send (the HTTP call) started and how long it took."""

    def __init__(self, inner: MetaCloudChannel) -> None:
        self.inner = inner
        self.latencies: list[float] = []
        self.starts: list[float] = []
        self._lock = threading.Lock()

    def send(self, phone_number_id: str, number: BusinessNumber, body: dict[str, Any]) -> str:
        started = time.perf_counter()
        wamid = self.inner.send(phone_number_id, number, body)
        with self._lock:
            self.starts.append(started)
            self.latencies.append(time.perf_counter() - started)
        return wamid


class QuietLogger:
    def info(self, message: str, **_: Any) -> None:
        pass

    def warning(self, message: str, **extra: Any) -> None:
        print(f"warning: {message} {extra.get('extra', '')}", file=sys.stderr)


def settings_for(rate: int, graph_url: str, redis_url: str) -> IngestionSettings:
    names = {
        "PARLEY_STAGE": "bench",
        "events_topic": "bench-events.fifo",
        "idempotency_table": "bench-idempotency",
        "payloads_bucket": "bench-payloads",
        "wa_messages_table": "bench-wa-messages",
        "outbound_queue": "bench-outbound.fifo",
        "media_queue": "bench-media.fifo",
        "eum_inbound_topic": "bench-eum",
        "whatsapp_secret_id": "bench/whatsapp",
        "twilio_secret_id": "bench/twilio",
    }
    return IngestionSettings.model_validate(
        {
            **names,
            "redis_url": redis_url,
            "whatsapp_graph_url": graph_url,
            "business_numbers": {PNID: BusinessNumber(messages_per_second=rate)},
            "recipient_messages_per_6s": 1,
        }
    )


def max_in_window(times: list[float], window: float = 1.0) -> int:
    ordered, best, start = sorted(times), 0, 0
    for end, at in enumerate(ordered):
        while at - ordered[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] if values else 0.0


def reply_jobs(count: int, store: InMemoryOutboundStore) -> list[ReplyRequestedEvent]:
    jobs = []
    for i in range(count):
        wa_id = f"1777{i:08d}"
        store.add_contact(PNID, wa_id)
        jobs.append(
            as_reply_event(
                ReplyRequestedEvent.model_validate(
                    {
                        "conversation": f"{PNID}:{wa_id}",
                        "producer": "bench",
                        "payload": {
                            "request_id": uuid.uuid4().hex,
                            "to": wa_id,
                            "kind": "text",
                            "text": "Hi",
                        },
                    }
                )
            )
        )
    return jobs


def run(messages: int, rate: int, containers: int, workers: int) -> int:
    sim = start_in_thread(
        SimConfig(webhook_url="http://127.0.0.1:9/none", sent_delay=3600, auto_read_delay=None)
    )
    try:
        with redis_server() as redis_url:
            settings = settings_for(rate, sim.url, redis_url)
            graph = GraphClient(sim.url, settings.whatsapp_api_version, sim.config.access_token)
            channel = TimedChannel(MetaCloudChannel(graph))
            store, logger = InMemoryOutboundStore(), QuietLogger()
            senders = [
                Sender(
                    settings=settings,
                    store=store,
                    publisher=InMemoryStatusPublisher(),
                    channels=ChannelRegistry(meta=channel),
                    pacer=Pacer(rate_limiter(redis_url, logger)),
                    logger=logger,
                )
                for _ in range(containers)
            ]
            jobs = reply_jobs(messages, store)
            job_latencies: list[float] = []

            def handle(i: int) -> None:
                started = time.perf_counter()
                senders[i % containers].handle(jobs[i])
                job_latencies.append(time.perf_counter() - started)

            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(handle, range(messages)))
            elapsed = time.monotonic() - started
            recorded = requests.get(f"{sim.url}/_sim/requests", timeout=10).json()["requests"]
            return report(messages, rate, elapsed, recorded, channel, job_latencies)
    finally:
        sim.stop()


def report(
    messages: int,
    rate: int,
    elapsed: float,
    recorded: list[dict[str, Any]],
    channel: TimedChannel,
    jobs: list[float],
) -> int:
    times = [r["time"] for r in recorded if r["status"] == 200 and r["path"].endswith("/messages")]
    span = max(times) - min(times) if len(times) > 1 else 0.0
    send = channel.latencies
    busiest = max_in_window(times)
    # Pacing decides when a send starts; arrivals also carry the HTTP call's jitter.
    busiest_start = max_in_window(channel.starts)
    print(f"sender pacing: {messages} messages to one business number, limit {rate}/s")
    print(f"  delivered to the simulator   {len(times)}")
    print(f"  wall time                    {elapsed:.2f} s")
    print(
        f"  achieved rate (overall)      {len(times) / elapsed:.1f} msg/s"
        "  (a sliding window: the first second's quota leaves at once)"
    )
    print(f"  achieved rate (first→last)   {(len(times) - 1) / span if span else 0:.1f} msg/s")
    print(f"  max sends started in any 1 s {busiest_start}  (limit {rate})")
    print(f"  max arrivals in any 1 s      {busiest}  (plus the send latency's jitter)")
    print(
        f"  send latency p50 / p99       {percentile(send, 50) * 1000:.1f} / "
        f"{percentile(send, 99) * 1000:.1f} ms  (Graph API call)"
    )
    print(
        f"  job latency  p50 / p99       {percentile(jobs, 50) * 1000:.0f} / "
        f"{percentile(jobs, 99) * 1000:.0f} ms  (incl. waiting for a slot)"
    )
    ok = len(times) == messages and busiest_start <= rate
    print(f"  verdict                      {'ok' if ok else 'OVER LIMIT OR MISSING MESSAGES'}")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--rate", type=int, default=80)
    parser.add_argument("--containers", type=int, default=8)
    parser.add_argument("--workers", type=int, default=32)
    args = parser.parse_args(argv)
    return run(args.messages, args.rate, args.containers, args.workers)


if __name__ == "__main__":
    raise SystemExit(main())
