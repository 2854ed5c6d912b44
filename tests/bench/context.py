"""The context service's consumer and turn assembly, on the local emulators.

    python -m tests.bench.context [--busy 150] [--conversations 100] [--per-conversation 2]
                                  [--samples 200] [--samples-without-redis 50]

Starts a moto server and a redis-server on free ports (tests/bench/emulators.py),
provisions them from infra/template.yaml, then measures:

(a) events applied per second for ONE busy conversation: customer messages through
    `runtime.consume` (the SQS handler's code path: parse, idempotency, sequencer, DynamoDB,
    Redis, turn.requested sent to turns.fifo), in batches of 10 as Lambda delivers them;
(b) the same for 100 conversations, their messages interleaved at random in the batches;
(c) turn assembly (`Sequencer.turn_event`: recent history, rolling summary, bounded context) for
    a conversation of 60 messages, p50/p99, with the Redis cache and without it (REDIS_URL
    unset: every read goes to DynamoDB).

The SQS batch events are built in memory: moto's SQS slows down as its queues fill, so pushing
the input through moto's queues would measure moto. The turns the sequencer emits do go to
moto's turns.fifo. Everything runs in one process, moto included: absolute numbers are a
laptop's, the comparisons are what matter.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SERVICE_DIR = ROOT / "services" / "context"
PHONE_NUMBER_ID = "100000000000001"
BATCH = 10
ASSEMBLY_HISTORY = 60


# --- emulators ----------------------------------------------------------------------------------

from tests.bench.emulators import emulators, use_service_stage  # noqa: E402


def configure(endpoint: str, redis_url: str) -> None:
    """The context service's local-stage environment, pointed at these emulators."""
    use_service_stage(SERVICE_DIR, endpoint, redis_url, "WARNING")


def fresh_emulators(endpoint: str, redis_url: str) -> None:
    """Empty moto and Redis, then provision every resource again.

    Each phase starts from empty tables: moto's TransactWriteItems deep-copies the tables it
    touches (for rollback), so its cost grows with everything written before."""
    import redis
    import requests

    from infra.local import provisioner

    requests.post(f"{endpoint}/moto-api/reset", timeout=30).raise_for_status()
    redis.Redis.from_url(redis_url).flushall()
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(io.StringIO()):
        provisioner.main(["--stage", "local", "--endpoint", endpoint, "--output", f"{tmp}/r.json"])
    from chalicelib.wiring import runtime

    runtime.reset()


# --- the workload -------------------------------------------------------------------------------


def new_wa_id() -> str:
    return "1555" + "".join(random.choices("0123456789", k=8))


def received(conversation: str, n: int, at: datetime) -> dict[str, Any]:
    wa_id = conversation.split(":")[1]
    return {
        "event_id": uuid.uuid4().hex,
        "type": "message.received",
        "conversation": conversation,
        "occurred_at": at.isoformat(),
        "producer": "bench",
        "payload": {
            "channel": "meta",
            "business_phone_number_id": PHONE_NUMBER_ID,
            "wa_id": wa_id,
            "message_id": f"wamid.bench.{uuid.uuid4().hex}",
            "kind": "text",
            "text": f"message {n}: hola, tengo una pregunta sobre mi pedido número {n}",
            "profile_name": "Bench",
            "sent_at": at.isoformat(),
        },
    }


def conversation_events(key: str, count: int) -> list[dict[str, Any]]:
    return [received(key, n, datetime.now(UTC) + timedelta(milliseconds=n)) for n in range(count)]


def sqs_event(events: list[dict[str, Any]], queue: str) -> dict[str, Any]:
    """The SQS event Lambda would pass for these messages (context.fifo, group = conversation)."""
    arn = f"arn:aws:sqs:us-east-1:123456789012:{queue}"
    return {
        "Records": [
            {
                "messageId": uuid.uuid4().hex,
                "receiptHandle": uuid.uuid4().hex,
                "body": json.dumps(event),
                "attributes": {
                    "MessageGroupId": event["conversation"],
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": str(int(time.time() * 1000)),
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": "us-east-1",
            }
            for event in events
        ]
    }


class LambdaContext:
    """What the consumer reads of Lambda's context: the time left (idempotency bounds its
    in-progress records by it)."""

    function_name = "parley-context-bench-apply_context_events"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@dataclass
class Run:
    """One throughput measurement, with the time spent inside AWS (moto) calls."""

    name: str
    events: int
    seconds: float
    aws_calls: int
    aws_seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds

    @property
    def own_ms_per_event(self) -> float:
        return (self.seconds - self.aws_seconds) * 1000 / self.events


@contextlib.contextmanager
def aws_call_timer() -> Iterator[list[float]]:
    """Counts botocore API calls and the seconds spent in them (the bench's own hook)."""
    import botocore.client

    original = botocore.client.BaseClient._make_api_call
    spent: list[float] = []

    def timed(self: Any, operation: str, params: dict[str, Any]) -> Any:
        started = time.perf_counter()
        try:
            return original(self, operation, params)
        finally:
            spent.append(time.perf_counter() - started)

    botocore.client.BaseClient._make_api_call = timed
    try:
        yield spent
    finally:
        botocore.client.BaseClient._make_api_call = original


def apply(events: list[dict[str, Any]], name: str = "") -> Run:
    """Apply events through the consumer in batches of 10. Every event must succeed (a failure
    would make the rate meaningless)."""
    from chalicelib import handlers
    from chalicelib.wiring import runtime

    batches = [
        sqs_event(events[i : i + BATCH], runtime.settings.context_queue)
        for i in range(0, len(events), BATCH)
    ]
    with aws_call_timer() as spent:
        started = time.perf_counter()
        for batch in batches:
            result = runtime.consume(batch, handlers.HANDLERS, LambdaContext())
            if result["batchItemFailures"]:
                raise SystemExit(f"events failed: {result['batchItemFailures']}")
        seconds = time.perf_counter() - started
    return Run(name, len(events), seconds, len(spent), sum(spent))


def throughput_busy(count: int) -> Run:
    key = f"{PHONE_NUMBER_ID}:{new_wa_id()}"
    return apply(conversation_events(key, count), "(a) 1 busy conversation")


def throughput_many(conversations: int, per_conversation: int) -> Run:
    streams = [
        conversation_events(f"{PHONE_NUMBER_ID}:{new_wa_id()}", per_conversation)
        for _ in range(conversations)
    ]
    events: list[dict[str, Any]] = []
    while any(streams):  # interleaved at random, each conversation's own order kept
        stream = random.choice([s for s in streams if s])
        events.append(stream.pop(0))
    return apply(events, f"(b) {conversations} conversations")


# --- turn assembly ------------------------------------------------------------------------------


def use_redis(url: str | None) -> None:
    """Rebuild the runtime with or without the Redis cache."""
    from chalicelib.wiring import runtime

    if url is None:
        os.environ.pop("REDIS_URL", None)
    else:
        os.environ["REDIS_URL"] = url
    runtime.reset()


def assembly_latencies(samples: int) -> tuple[list[float], int]:
    """`turn_event` timings (ms) for a conversation with a turn in flight; and its tokens."""
    from chalicelib.assembly import turn_tokens
    from chalicelib.wiring import runtime

    key = f"{PHONE_NUMBER_ID}:{new_wa_id()}"
    apply(conversation_events(key, ASSEMBLY_HISTORY))
    session = runtime.sessions.get(key)
    if session is None or session.turn is None:
        raise SystemExit("the seeded conversation has no turn in flight")
    sequencer = runtime.sequencer
    now = datetime.now(UTC)
    sequencer.turn_event(session.model_copy(deep=True), now)  # warm
    timings: list[float] = []
    tokens = 0
    for _ in range(samples):
        copy = session.model_copy(deep=True)
        started = time.perf_counter()
        turn = sequencer.turn_event(copy, now)
        timings.append((time.perf_counter() - started) * 1000)
        tokens = turn_tokens(turn.payload)
    return timings, tokens


def percentile(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, round(q * (len(values) - 1)))]


# --- report -------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--busy", type=int, default=150, help="events in the busy conversation")
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--per-conversation", type=int, default=2)
    parser.add_argument("--samples", type=int, default=200, help="turn assemblies with Redis")
    parser.add_argument(
        "--samples-without-redis",
        type=int,
        default=50,
        help="turn assemblies without Redis (each is a DynamoDB query, ~0.2 s on moto)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(SERVICE_DIR))  # chalicelib, as the service sees it
    quiet_logs()
    began = time.perf_counter()
    with emulators() as (endpoint, redis_url):
        configure(endpoint, redis_url)
        fresh_emulators(endpoint, redis_url)
        use_redis(redis_url)
        throughput_busy(BATCH)  # warm: imports, clients, connections
        runs = [throughput_busy(args.busy)]
        fresh_emulators(endpoint, redis_url)
        runs.append(throughput_many(args.conversations, args.per_conversation))
        fresh_emulators(endpoint, redis_url)
        with_redis, tokens = assembly_latencies(args.samples)
        use_redis(None)
        without_redis, _ = assembly_latencies(args.samples_without_redis)
    print_report(runs, with_redis, without_redis, tokens, args, time.perf_counter() - began)
    return 0


def quiet_logs() -> None:
    """Warnings only: the service logs every event at INFO, the provisioner every resource."""
    handler = logging.StreamHandler()
    handler.setLevel(logging.WARNING)
    logging.basicConfig(level=logging.WARNING, handlers=[handler])


def print_report(
    runs: list[Run],
    with_redis: list[float],
    without_redis: list[float],
    tokens: int,
    args: argparse.Namespace,
    elapsed: float,
) -> None:
    print("context consumer: message.received events through runtime.consume, batches of 10")
    print("(SQS batch events built in memory: moto's SQS slows as its queues fill; each run")
    print(" starts from empty tables; 'in AWS' = time inside botocore calls to moto)")
    print(
        f"{'workload':<28}{'events':>7}{'seconds':>9}{'events/s':>10}"
        f"{'AWS calls/ev':>14}{'in AWS':>8}{'other ms/ev':>13}"
    )
    for r in runs:
        share = r.aws_seconds / r.seconds
        print(
            f"{r.name:<28}{r.events:>7}{r.seconds:>9.2f}{r.rate:>10.1f}"
            f"{r.aws_calls / r.events:>14.1f}{share:>8.0%}{r.own_ms_per_event:>13.2f}"
        )
    print()
    print(
        f"turn assembly (Sequencer.turn_event: recent history, summary, bounded context; "
        f"{ASSEMBLY_HISTORY}-message conversation, ~{tokens} tokens of context)"
    )
    print(f"{'cache':<28}{'samples':>8}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>10}")
    for name, values in (("Redis", with_redis), ("none (REDIS_URL unset)", without_redis)):
        p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
        mean = statistics.fmean(values)
        print(f"{name:<28}{len(values):>8}{p50:>9.2f}{p99:>9.2f}{mean:>10.2f}")
    print("(without Redis each assembly is one DynamoDB Query for the last messages: on moto")
    print(" ~0.1-0.2 s, on DynamoDB a few ms; with Redis it is one GET)")
    print(f"\nmoto server + redis-server on loopback; {elapsed:.0f} s")


if __name__ == "__main__":
    raise SystemExit(main())
