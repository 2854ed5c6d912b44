"""The escalation service on the local emulators: what an ordinary message costs it, how fast a
hand-off reaches people, and how fast the detector decides.

    python -m tests.bench.escalation [--messages 200] [--handoffs 40]

Starts a moto server and a redis-server on free ports (tests/bench/emulators.py), provisions them
from infra/template.yaml, then measures through `runtime.consume` (the SQS handler's code path):

(a) AWS API calls the handler makes per ordinary customer message (target: at most 2 in this
    service, counting the delivery's delete, which Lambda's poller makes in batches of up to 10);
(b) hand-off -> notification: from the `handoff.requested` event entering the handler to the
    SNS publish on `human-agents` and the SES e-mail being accepted, p50/p95;
(c) the detector's decision time per message (offline analyser), p50/p95.

The SQS batch events are built in memory (moto's SQS slows down as its queues fill).
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import statistics
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SERVICE_DIR = ROOT / "services" / "escalation"
PNID = "100000000000001"
QUEUE = "parley-local-escalation.fifo"
ORDINARY = [
    "When is the fall application deadline?",
    "cuanto cuesta la matricula??",
    "hi! do u have scholarships for international students",
    "¿Qué programas de posgrado tienen?",
    "can I visit the campus on saturday",
    "thanks, that helps a lot 🙂",
    "necesito saber los requisitos de ingles",
    "what's the application fee",
    "ok perfecto gracias",
    "Is the SAT required?",
]

from tests.bench.emulators import emulators, provision, use_service_stage  # noqa: E402


def configure(endpoint: str, redis_url: str) -> None:
    use_service_stage(SERVICE_DIR, endpoint, redis_url, "WARNING")


def envelope(event_type: str, wa_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4().hex,
        "type": event_type,
        "conversation": f"{PNID}:{wa_id}",
        "occurred_at": datetime.now(UTC).isoformat(),
        "producer": "bench",
        "payload": payload,
    }


def message(wa_id: str, text: str) -> dict[str, Any]:
    return envelope(
        "message.received",
        wa_id,
        {
            "channel": "meta",
            "business_phone_number_id": PNID,
            "wa_id": wa_id,
            "message_id": f"wamid.bench.{uuid.uuid4().hex}",
            "kind": "text",
            "text": text,
            "sent_at": datetime.now(UTC).isoformat(),
        },
    )


def sqs_event(events: list[dict[str, Any]]) -> dict[str, Any]:
    arn = f"arn:aws:sqs:us-east-1:123456789012:{QUEUE}"
    return {
        "Records": [
            {
                "messageId": uuid.uuid4().hex,
                "receiptHandle": uuid.uuid4().hex,
                "body": json.dumps(e),
                "attributes": {"MessageGroupId": e["conversation"], "ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": "us-east-1",
            }
            for e in events
        ]
    }


def new_wa_id() -> str:
    return "1555" + "".join(random.choices("0123456789", k=8))


class CallCounter:
    """Counts botocore API calls by service and operation while installed."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._real: Any = None

    def __enter__(self) -> CallCounter:
        from botocore.client import BaseClient

        self._real = BaseClient._make_api_call
        counter, real = self.calls, self._real

        def counting(client: Any, operation: str, params: Any) -> Any:
            counter[f"{client.meta.service_model.service_name}:{operation}"] += 1
            return real(client, operation, params)

        BaseClient._make_api_call = counting  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        from botocore.client import BaseClient

        BaseClient._make_api_call = self._real  # type: ignore[method-assign]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ordinary_messages(runtime: Any, count: int) -> None:
    events = [message(new_wa_id(), random.choice(ORDINARY)) for _ in range(count)]
    runtime.consume(sqs_event(events[:10]), {**HANDLERS})  # warm: policy, analyser, clients
    batches = [events[i : i + 10] for i in range(10, len(events), 10)]
    with CallCounter() as counter:
        for batch in batches:
            result = runtime.consume(sqs_event(batch), {**HANDLERS})
            assert result == {"batchItemFailures": []}, result
    handled = sum(len(b) for b in batches)
    in_handler = sum(counter.calls.values()) / handled
    delivery = 1.0 / 10  # Lambda's poller deletes a batch of 10 in one DeleteMessageBatch
    print(f"(a) ordinary messages: {handled} through the SQS handler")
    print(f"    AWS calls in the handler per message: {in_handler:.2f} {dict(counter.calls)}")
    print(
        f"    with the delivery's batched delete: {in_handler + delivery:.2f} per message "
        f"(target <= 2; one DeleteMessage each if batches were of one: {in_handler + 1:.2f})"
    )


def handoffs(runtime: Any, count: int) -> None:
    from chalicelib.notify import AwsAgentNotifier

    timings: dict[str, list[float]] = {"sns": [], "ses": []}
    real_publish, real_email = AwsAgentNotifier._publish, AwsAgentNotifier._email
    started = [0.0]

    def publish(self: Any, *args: Any) -> None:
        real_publish(self, *args)
        timings["sns"].append((time.perf_counter() - started[0]) * 1000)

    def email(self: Any, *args: Any) -> None:
        real_email(self, *args)
        timings["ses"].append((time.perf_counter() - started[0]) * 1000)

    AwsAgentNotifier._publish = publish  # type: ignore[method-assign]
    AwsAgentNotifier._email = email  # type: ignore[method-assign]
    try:
        for n in range(count):
            request = envelope(
                "handoff.requested",
                new_wa_id(),
                {"reason": "customer_request", "language": "es" if n % 2 else "en"},
            )
            started[0] = time.perf_counter()
            result = runtime.consume(sqs_event([request]), {**HANDLERS})
            assert result == {"batchItemFailures": []}, result
    finally:
        AwsAgentNotifier._publish = real_publish  # type: ignore[method-assign]
        AwsAgentNotifier._email = real_email  # type: ignore[method-assign]
    print(f"(b) hand-off -> notification, {count} hand-offs (handler start to call accepted):")
    for channel, values in timings.items():
        values = values[1:]  # the first pays for building clients
        print(
            f"    {channel.upper()}: p50 {statistics.median(values):.1f} ms, "
            f"p95 {percentile(values, 0.95):.1f} ms"
        )


def decisions(runtime: Any, count: int) -> None:
    from chalicelib.signals import decide

    policy, analyser = runtime.policy, runtime.sentiment
    texts = [*ORDINARY, "quiero hablar con una persona", "this is useless, I want a refund!!"]
    times = []
    for n in range(count):
        text = texts[n % len(texts)]
        t0 = time.perf_counter()
        decide([text], earlier=(), policy=policy, sentiment=analyser)
        times.append((time.perf_counter() - t0) * 1000)
    print(
        f"(c) detector decision, {count} messages: p50 {statistics.median(times):.2f} ms, "
        f"p95 {percentile(times, 0.95):.2f} ms"
    )


HANDLERS: dict[str, Any] = {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.escalation")
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--handoffs", type=int, default=40)
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    with emulators() as (endpoint, redis_url):
        configure(endpoint, redis_url)
        provision(endpoint)
        sys.path[:0] = [str(SERVICE_DIR), str(SERVICE_DIR / "vendor")]
        from chalicelib import handlers
        from chalicelib.wiring import runtime

        HANDLERS.update(handlers.HANDLERS)
        runtime.reset()
        ordinary_messages(runtime, args.messages)
        handoffs(runtime, args.handoffs)
        decisions(runtime, 2000)
    return 0


if __name__ == "__main__":
    sys.exit(main())
