"""Pacing of the sender: per business number (messages per second) and per customer (pair limit),
shared across containers through a real redis-server, with a local fallback when Redis is down.

The burst here is 120 messages at 40/s to keep the suite quick; `python -m tests.bench.sender`
measures the full 400 messages at 80/s.
"""

# ruff: noqa: F811 - fixtures imported from test_sender_delivery are test parameters

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from test_sender_delivery import (  # noqa: F401 - outbound and sim are fixtures
    OK,
    PNID,
    Outbound,
    job,
    outbound,
    sim,
)

pytest_plugins = ["infra.local.service_contract"]


def max_in_any_window(times: list[float], window: float) -> int:
    """The most events inside any window of `window` seconds (each event opens one)."""
    ordered = sorted(times)
    best, start = 0, 0
    for end, at in enumerate(ordered):
        while at - ordered[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_max_in_any_window_counts_a_sliding_window() -> None:
    assert max_in_any_window([0.0, 0.5, 0.99, 1.0, 1.5], 1.0) == 3
    assert max_in_any_window([], 1.0) == 0


class ListLogger:
    def __init__(self) -> None:
        self.records: list[tuple[str, str]] = []

    def warning(self, message: str, **_: Any) -> None:
        self.records.append(("warning", message))

    def info(self, message: str, **_: Any) -> None:
        self.records.append(("info", message))


def test_a_burst_to_one_number_is_paced_across_containers(
    outbound: Outbound,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GIVEN 4 containers (senders with their own process state, one Redis) and 40 messages/s
    WHEN 120 jobs to 120 customers arrive at once THEN no 1-second window holds more than 40.

    The store and publisher are the in-memory ones: moto's DynamoDB transactions are not safe
    under this much concurrency, and they are not what is measured here."""
    from chalicelib.outbound import ChannelRegistry, Pacer, Sender, as_reply_event, rate_limiter
    from chalicelib.outbound.memory import InMemoryOutboundStore, InMemoryStatusPublisher
    from chalicelib.wiring import runtime
    from parley.events import parse_event

    monkeypatch.setenv("BUSINESS_NUMBERS", f'{{"{PNID}": {{"messages_per_second": 40}}}}')
    runtime.reset()
    settings, store = runtime.settings, InMemoryOutboundStore()
    published = InMemoryStatusPublisher()
    channels = ChannelRegistry.from_settings(settings)
    containers = [
        Sender(
            settings=settings,
            store=store,
            publisher=published,
            channels=channels,
            pacer=Pacer(rate_limiter(settings.redis_url, runtime.logger)),
            logger=runtime.logger,
        )
        for _ in range(4)
    ]
    jobs: list[Any] = []
    for _ in range(120):
        wa_id = f"1666{len(jobs):08d}"
        store.add_contact(PNID, wa_id)
        jobs.append(as_reply_event(parse_event(job({"to": wa_id, "text": "hi"}))))

    with ThreadPoolExecutor(max_workers=24) as pool:
        results = list(pool.map(lambda i: containers[i % 4].handle(jobs[i]), range(120)))

    assert all(len(wamids) == 1 for wamids in results) and len(published.events) == 120
    sent = [r["time"] for r in outbound.requests() if r["status"] == 200]
    assert len(sent) == 120
    # Arrival times at the simulator: a loaded machine can bunch a few arrivals together, so allow
    # that jitter; the achieved rate is a benchmark figure (tests/bench/sender.py), not asserted.
    assert max_in_any_window(sent, 1.0) <= 42
    span = max(sent) - min(sent)
    assert span >= 2.0  # 120 at 40/s take at least (120 - 40) / 40 s


def test_the_pair_limit_spaces_messages_to_one_customer_but_not_receipts(
    outbound: Outbound,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """1 message per 6 s to one customer: the second reply waits; read/typing do not."""
    from chalicelib.wiring import runtime

    monkeypatch.setenv("RECIPIENT_MESSAGES_PER_6S", "1")
    runtime.reset()
    wa_id = outbound.customer()
    assert outbound.send({"to": wa_id, "text": "first"}) == OK
    wamid = outbound.requests(wa_id)[0]["response"]["messages"][0]["id"]  # the simulator knows it
    assert outbound.send({"to": wa_id, "kind": "typing", "reply_to": wamid}) == OK
    assert outbound.send({"to": wa_id, "text": "second"}) == OK
    [first, typing, second] = outbound.requests(wa_id)
    assert typing["body"].get("typing_indicator") and typing["time"] - first["time"] < 5.0
    assert second["time"] - first["time"] >= 6.0


def test_the_pair_limit_is_shared_through_redis(redis_url: str) -> None:
    from chalicelib.outbound import Pacer, RedisRateLimiter
    from parley.cache import redis_client

    containers = [Pacer(RedisRateLimiter(lambda: redis_client(redis_url)), margin=0) for _ in "ab"]
    key, taken = f"parley:pace:test:{time.time_ns()}", []
    deadline = time.monotonic() + 5
    for i in range(4):
        containers[i % 2].acquire(key, 2, 0.5, deadline)
        taken.append(time.monotonic())
    # `taken` is read after acquire() returns, a few ms after the slot was stamped in Redis, so a
    # window a little shorter than the limiter's 0.5 s is what the test can assert exactly.
    assert max_in_any_window(taken, 0.45) <= 2
    assert taken[-1] - taken[0] >= 0.5


def test_without_redis_pacing_falls_back_to_this_process_and_says_so() -> None:
    from chalicelib.outbound import FallbackRateLimiter, LocalRateLimiter, Pacer, RedisRateLimiter
    from infra.local.pytest_fixtures import free_port
    from parley.cache import redis_client

    logger = ListLogger()
    down = RedisRateLimiter(lambda: redis_client(f"redis://127.0.0.1:{free_port()}/0"))
    pacer = Pacer(FallbackRateLimiter(down, LocalRateLimiter(), logger), margin=0)
    deadline, taken = time.monotonic() + 5, []
    for _ in range(6):
        pacer.acquire("parley:pace:test:local", 3, 0.3, deadline)
        taken.append(time.monotonic())
    assert max_in_any_window(taken, 0.27) <= 3  # read after acquire() returns: allow its jitter
    assert logger.records == [
        ("warning", "redis unavailable for pacing; pacing in this process only")
    ]


def test_no_slot_within_the_budget_is_a_retryable_throttle() -> None:
    from chalicelib.outbound import LocalRateLimiter, Pacer
    from parley.errors import Throttled, is_retryable

    pacer = Pacer(LocalRateLimiter(), margin=0)
    deadline = time.monotonic() + 0.2
    pacer.acquire("parley:pace:test:budget", 1, 6.0, deadline)
    with pytest.raises(Throttled) as caught:
        pacer.acquire("parley:pace:test:budget", 1, 6.0, deadline)
    assert is_retryable(caught.value)
