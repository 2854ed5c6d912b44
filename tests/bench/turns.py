"""End-to-end turns over `make run`'s stack: latency, AWS API calls per message, load.

    python -m tests.bench.turns [--quick] [--customers 50] [--seconds 180] [--turns 20] [--rate R]

The whole local runtime (infra/local/devstack.py: moto, redis-server, the five services in their
Lambda-like runners, the WhatsApp simulator, the demo knowledge base, the local AI provider) is
started on free ports. Every AWS call the runtime makes goes through a counting reverse proxy in
front of moto (the children get the proxy as AWS_ENDPOINT_URL).

(1) Latency: --turns demo questions one after the other, rotating over 5 returning customers (one
    customer asking every second would pass the per-customer inbound rate limit); each is timed
    from the POST to the simulator's customer API (webhook -> ingestion) to the moment the simulator
    records the bot's reply to that customer (its chat entry timestamp). The per-stage breakdown is
    TurnCompleted.latency_ms, read from a probe FIFO queue subscribed to the conversation-events
    topic (filtered on turn.completed; the probe talks to moto directly and is not counted).
(1b) Voice note -> reply: --voice customers each send a ~10 s spoken question as an OGG/Opus voice
    note (tests/bench/voice_turns.py); timed from the POST to the first bot message, media included.
(2) AWS API calls per customer message during (1), by service and operation (DynamoDB by table),
    counted at the proxy; then by the Parley service that made them (each signs with its name).
    The runners' SQS polling (ReceiveMessage, what the Lambda event source mappings do on AWS) is
    shown apart, empty polls separately: they depend on time, not on traffic.
(3) Load: (3a) a capacity probe, --probe-customers customers (10) asking with no think time for
    --probe seconds: the runtime saturated, its reply rate after a warm-up is what it sustains;
    (3b) --customers customers (50) paced together at --headroom (65 %) of that rate (or at
    --rate) for --seconds, each waiting for its reply before its next question. A message is
    lost if no reply arrived within --timeout (or by the end plus --grace); must be 0.
Full run: about 8 minutes (start ~40 s, latency ~90 s, probe 60 s, load 180 s); --quick ~3.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import queue
import re
import statistics
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from infra.local.devstack import DevStack, StackPorts
from infra.local.probes import subscribe_probe_queue
from infra.local.pytest_fixtures import free_port
from tests.bench.voice_turns import GOAL_MS as VOICE_GOAL_MS
from tests.bench.voice_turns import SEED_TARGET_MS as VOICE_SEED_TARGET_MS
from tests.bench.voice_turns import voice_phase

SERVICES = ("ingestion", "ai_processing", "context", "media", "escalation")
REGION = "us-east-1"
QUESTIONS = (
    "When is the fall application deadline?",
    "¿Cuánto cuesta la matrícula?",
    "What are the admission requirements for undergraduates?",
    "¿Qué becas ofrecen?",
    "How much are tuition and fees for international students?",
    "Can I visit the campus?",
    "¿Qué programas de posgrado tienen?",
    "Do international students need a visa letter?",
    "¿Cuándo empiezan las clases?",
    "What scholarships and financial aid are available?",
    "¿Cuáles son los requisitos de admisión?",
    "Which programs do you offer?",
)
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "content-length",
}
SCOPE = re.compile(r"Credential=([^/]+)/\d{8}/[^/]+/([^/]+)/aws4_request")
POLLING = {("sqs", "ReceiveMessage"), ("sqs", "ReceiveMessage (empty)")}
LATENCY_CUSTOMERS = 5


# --- the counting proxy in front of moto --------------------------------------------------------


class CallCounter:
    """Calls by (AWS service, operation), and by the Parley service that made them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[tuple[str, str]] = Counter()
        self._callers: Counter[tuple[str, str, str]] = Counter()

    def add(self, caller: str, service: str, operation: str) -> None:
        with self._lock:
            self._calls[(service, operation)] += 1
            self._callers[(caller, service, operation)] += 1

    def snapshot(self) -> Counter[tuple[str, str]]:
        with self._lock:
            return Counter(self._calls)

    def callers(self) -> Counter[tuple[str, str, str]]:
        with self._lock:
            return Counter(self._callers)


def caller(headers: Any) -> str:
    """The Parley service that signed the request (each child signs with its name as key id)."""
    found = SCOPE.search(headers.get("Authorization", ""))
    key = found.group(1) if found else ""
    return key.removeprefix("bench-") if key.startswith("bench-") else "other"


def classify(method: str, path: str, headers: Any, body: bytes) -> tuple[str, str]:
    """(service, operation) of one AWS request, from its SigV4 scope and protocol."""
    found = SCOPE.search(headers.get("Authorization", ""))
    service = found.group(2) if found else "unsigned"
    target = headers.get("X-Amz-Target")
    if target:
        return service, target.rsplit(".", 1)[-1] + _table_of(service, body)
    url = urllib.parse.urlsplit(path)
    query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
    if "Action" in query:
        return service, query["Action"][0]
    content_type = headers.get("Content-Type", "")
    if body and "x-www-form-urlencoded" in content_type:
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        if "Action" in form:
            return service, form["Action"][0]
    if service == "s3":
        return service, _s3_operation(method, url.path, query)
    return service, f"{method} {url.path}"


def _table_of(service: str, body: bytes) -> str:
    """` (table)` for a single-table DynamoDB call: which store the message costs on."""
    if service != "dynamodb":
        return ""
    with contextlib.suppress(ValueError):
        table = json.loads(body or b"{}").get("TableName")
        if isinstance(table, str):
            return f" ({table.removeprefix('parley-local-')})"
    return ""


def _s3_operation(method: str, path: str, query: dict[str, list[str]]) -> str:
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2:  # path-style: /bucket/key
        names = {"GET": "GetObject", "PUT": "PutObject", "HEAD": "HeadObject"}
        return names.get(method, f"{method.title()}Object")
    if method == "GET" and query.get("list-type") == ["2"]:
        return "ListObjectsV2"
    names = {"GET": "ListObjects", "PUT": "CreateBucket", "HEAD": "HeadBucket"}
    return names.get(method, f"{method} bucket")


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    upstream_port: int
    counter: CallCounter

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # a client gone while the stack stops: nothing to report


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ProxyServer
    _upstream: http.client.HTTPConnection | None = None

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length is not None:
            return self.rfile.read(int(length))
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():  # trailers
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return b""

    def _send_upstream(self, body: bytes, headers: dict[str, str]) -> http.client.HTTPResponse:
        for attempt in (1, 2):
            if self._upstream is None:
                self._upstream = http.client.HTTPConnection(
                    "127.0.0.1", self.server.upstream_port, timeout=60
                )
            try:
                self._upstream.request(self.command, self.path, body, headers)
                return self._upstream.getresponse()
            except (ConnectionError, http.client.HTTPException):
                self._upstream.close()
                self._upstream = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _forward(self) -> None:
        body = self._body()
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        if body or self.command in ("POST", "PUT"):
            headers["Content-Length"] = str(len(body))
        try:
            response = self._send_upstream(body, headers)
            data = response.read()
        except (OSError, http.client.HTTPException):  # moto is gone (the stack is stopping)
            with contextlib.suppress(OSError):
                self.send_error(502, "AWS emulator unreachable")
            return
        service, operation = classify(self.command, self.path, self.headers, body)
        if (service, operation) == ("sqs", "ReceiveMessage") and b"ReceiptHandle" not in data:
            operation = "ReceiveMessage (empty)"
        self.server.counter.add(caller(self.headers), service, operation)
        self.send_response_only(response.status, response.reason)
        for key, value in response.getheaders():
            if key.lower() not in HOP_BY_HOP:
                self.send_header(key, value)
        upstream_length = response.getheader("Content-Length")
        if self.command == "HEAD" and upstream_length is not None:
            self.send_header("Content-Length", upstream_length)
        else:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _forward


@contextlib.contextmanager
def counting_proxy(upstream_port: int) -> Iterator[tuple[int, CallCounter]]:
    server = _ProxyServer(("127.0.0.1", 0), _ProxyHandler)
    server.upstream_port = upstream_port
    server.counter = CallCounter()
    thread = threading.Thread(target=server.serve_forever, name="aws-proxy", daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1]), server.counter
    finally:
        server.shutdown()
        server.server_close()


class CountedStack(DevStack):
    """`make run`'s stack whose children reach moto through the counting proxy."""

    def __init__(self, stack_ports: StackPorts, run_dir: Path, proxy_port: int) -> None:
        super().__init__(stack_ports, run_dir)
        self.proxy_port = proxy_port

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.proxy_port}"

    @property
    def moto_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports.moto}"

    def environment(self) -> dict[str, str]:
        env = super().environment()
        env["APPLICATION_STATUS_URL"] = f"{self.simulator_url}/_business/applications"
        return env

    def child_environment(self, name: str) -> dict[str, str]:
        return {"AWS_ACCESS_KEY_ID": f"bench-{name}"}  # moto takes any key; the proxy reads it


def aws(stack: CountedStack, service: str) -> Any:
    """A client straight to moto: the benchmark's own calls are not counted."""
    import boto3

    return boto3.client(
        service,
        endpoint_url=stack.moto_endpoint,
        region_name=REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def wait_for_index(stack: CountedStack, timeout: float = 90.0) -> None:
    s3 = aws(stack, "s3")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(s3.exceptions.NoSuchKey):
            got = s3.get_object(Bucket="parley-local-knowledge-base", Key="index/current.json")
            if len(json.loads(got["Body"].read()).get("documents", {})) >= 8:
                return
        time.sleep(0.5)
    raise SystemExit("the demo knowledge base was not indexed in time")


# --- replies at the simulator and turn.completed events -----------------------------------------


class ReplyWatcher:
    """Follows the simulator's chat stream (SSE); hands each bot message to its customer."""

    def __init__(self, simulator_url: str) -> None:
        self.url = f"{simulator_url}/_sim/stream"
        self._lock = threading.Lock()
        self._inboxes: dict[str, queue.Queue[float]] = {}
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="replies", daemon=True)

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(10):
            raise SystemExit("could not follow the simulator's chat stream")

    def stop(self) -> None:
        self._stop.set()

    def inbox(self, wa_id: str) -> queue.Queue[float]:
        with self._lock:
            return self._inboxes.setdefault(wa_id, queue.Queue())

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with urllib.request.urlopen(self.url, timeout=30) as stream:
                    self._ready.set()
                    self._follow(stream)
            except OSError:
                time.sleep(0.2)

    def _follow(self, stream: Any) -> None:
        event = ""
        while not self._stop.is_set():
            line = stream.readline()
            if not line:
                return
            text = line.decode("utf-8").rstrip("\r\n")
            if text.startswith("event:"):
                event = text[6:].strip()
            elif text.startswith("data:") and event == "message":
                entry = json.loads(text[5:])
                if entry.get("direction") == "out":
                    self.inbox(str(entry["wa_id"])).put(float(entry["timestamp"]))


class TurnProbe:
    """A FIFO queue of our own on conversation-events, filtered on turn.completed."""

    def __init__(self, stack: CountedStack) -> None:
        self.sqs = aws(stack, "sqs")
        self.url = subscribe_probe_queue(
            self.sqs, aws(stack, "sns"), "bench-turns.fifo", ["turn.completed"]
        )

    def drain(self, wanted: int, timeout: float = 15.0) -> list[dict[str, float]]:
        """latency_ms of the turn.completed events waiting in the probe queue."""
        found: list[dict[str, float]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(found) < wanted:
            got = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10)
            messages = got.get("Messages", [])
            for message in messages:
                event = json.loads(message["Body"])
                event = json.loads(event["Message"]) if "Message" in event else event
                if event.get("type") == "turn.completed":
                    found.append(dict(event["payload"].get("latency_ms", {})))
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
            if not messages:
                time.sleep(0.2)
        return found


# --- customers ----------------------------------------------------------------------------------


@dataclass
class Sample:
    wa_id: str
    sent: float
    webhook_ms: float
    reply_ms: float | None = None
    late: bool = False


@dataclass
class Results:
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)


def send(simulator_url: str, wa_id: str, text: str) -> float:
    """POST the customer's message (the simulator delivers the webhook synchronously); ms taken."""
    body = json.dumps({"from": wa_id, "text": text}).encode()
    request = urllib.request.Request(
        f"{simulator_url}/_sim/customer/messages",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        result = json.loads(response.read())
    if not result.get("webhook", {}).get("ok"):
        raise RuntimeError(f"webhook not accepted: {result.get('webhook')}")
    return (time.perf_counter() - started) * 1000


def ask(simulator_url: str, watcher: ReplyWatcher, wa_id: str, text: str, timeout: float) -> Sample:
    """One question, waiting for the reply; reply_ms stays None on timeout."""
    inbox = watcher.inbox(wa_id)
    while not inbox.empty():  # a stray second bubble of an earlier turn
        inbox.get_nowait()
    sent = time.time()
    sample = Sample(wa_id, sent, send(simulator_url, wa_id, text))
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            at = inbox.get(timeout=left)
        except queue.Empty:
            break
        if at >= sent:
            sample.reply_ms = (at - sent) * 1000
            break
    return sample


def await_late(watcher: ReplyWatcher, sample: Sample, until: float) -> None:
    inbox = watcher.inbox(sample.wa_id)
    while (left := until - time.monotonic()) > 0:
        try:
            at = inbox.get(timeout=left)
        except queue.Empty:
            return
        if at >= sample.sent:
            sample.reply_ms, sample.late = (at - sample.sent) * 1000, True
            return


@dataclass(frozen=True)
class LoadRun:
    """One load run: `customers` distinct wa_ids (numbered from `first`), closed loop when
    `rate` is None, else paced at `rate` messages/s in total."""

    name: str
    customers: int
    rate: float | None
    seconds: float
    first: int = 0


def customer(
    run: LoadRun,
    timeout: float,
    stack: CountedStack,
    watcher: ReplyWatcher,
    results: Results,
    index: int,
    stop_at: float,
    grace_until: list[float],
) -> None:
    wa_id = f"1555020{run.first + index:04d}"
    turn = index  # customers start at different questions
    every = run.customers / run.rate if run.rate else 0.0  # paced: one send per `every` s
    next_at = time.monotonic() + every * index / max(1, run.customers)
    while time.monotonic() < stop_at:
        if every:
            time.sleep(max(0.0, next_at - time.monotonic()))
            next_at += every
            if time.monotonic() >= stop_at:
                return
        text = QUESTIONS[turn % len(QUESTIONS)]
        turn += 1
        try:
            sample = ask(stack.simulator_url, watcher, wa_id, text, timeout)
        except (OSError, RuntimeError) as error:
            with results.lock:
                results.errors.append(f"{wa_id}: {error}")
            time.sleep(1)
            continue
        results.add(sample)
        if sample.reply_ms is None:  # the next question would blur which reply is which
            while not grace_until:
                time.sleep(0.2)
            await_late(watcher, sample, grace_until[0])
            return


# --- output -------------------------------------------------------------------------------------


def pct(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print(f"\n{title}")
    for n, row in enumerate(cells):
        left = row[0].ljust(widths[0])
        rest = "  ".join(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))
        print(f"  {left}  {rest}")
        if n == 0:
            print("  " + "  ".join("-" * w for w in widths))


def ms(value: float) -> str:
    return f"{value:,.1f}"


def latency_rows(name: str, values: Sequence[float]) -> list[object]:
    if not values:
        return [name, 0, "-", "-", "-", "-"]
    return [
        name,
        len(values),
        ms(pct(values, 50)),
        ms(pct(values, 95)),
        ms(max(values)),
        ms(statistics.fmean(values)),
    ]


def print_callers(calls: Counter[tuple[str, str, str]], messages: int) -> None:
    rows: list[list[object]] = []
    for (who, service, operation), count in sorted(
        calls.items(), key=lambda kv: (kv[0][0], -kv[1])
    ):
        if (service, operation) not in POLLING:
            rows.append([who, service, operation, count, f"{count / messages:.2f}"])
    table(
        "    the same calls by the Parley service that made them (no polling)",
        ["caller", "service", "operation", "calls", "per message"],
        rows,
    )


def print_calls(calls: Counter[tuple[str, str]], messages: int, seconds: float) -> None:
    rows: list[list[object]] = []
    total = polling = 0
    for (service, operation), count in sorted(calls.items(), key=lambda kv: (-kv[1], kv[0])):
        label = "runner polling" if (service, operation) in POLLING else ""
        rows.append([service, operation, label, count, f"{count / messages:.2f}"])
        total += count
        polling += count if (service, operation) in POLLING else 0
    rows.append(["all", "", "", total, f"{total / messages:.2f}"])
    rows.append(["all but polling", "", "", total - polling, f"{(total - polling) / messages:.2f}"])
    table(
        f"(2) AWS API calls at the emulator: {messages} messages in {seconds:.1f} s",
        ["service", "operation", "", "calls", "per message"],
        rows,
    )


# --- the benchmark ------------------------------------------------------------------------------


def settle(counter: CallCounter, quiet: float = 2.0, limit: float = 30.0) -> None:
    """Wait until `quiet` seconds pass with no AWS call but the runners' polling."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = counter.snapshot()
        time.sleep(quiet)
        if not [k for k in counter.snapshot() - before if k not in POLLING]:
            return


def latency_phase(
    args: argparse.Namespace, stack: CountedStack, watcher: ReplyWatcher, counter: CallCounter
) -> None:
    probe = TurnProbe(stack)
    # Questions rotate over a few returning customers: one customer asking every second would
    # pass the per-customer inbound limit (INBOUND_MESSAGES_PER_MINUTE) and be rate-limited.
    customers = [f"155501000{n:02d}" for n in range(1, LATENCY_CUSTOMERS + 1)]
    for n, wa_id in enumerate(customers):  # warm-up: imports, clients, caches, the profiles
        text = QUESTIONS[n % len(QUESTIONS)]
        if ask(stack.simulator_url, watcher, wa_id, text, args.timeout).reply_ms is None:
            raise SystemExit("warm-up: no reply from the local runtime")
    probe.drain(len(customers), timeout=5)

    settle(counter)
    idle_before, idle_started = counter.snapshot(), time.monotonic()
    time.sleep(args.idle)
    idle = counter.snapshot() - idle_before
    idle_seconds = time.monotonic() - idle_started

    before, started, callers_before = counter.snapshot(), time.monotonic(), counter.callers()
    samples = [
        ask(
            stack.simulator_url,
            watcher,
            customers[i % len(customers)],
            QUESTIONS[i % len(QUESTIONS)],
            args.timeout,
        )
        for i in range(args.turns)
    ]
    settle(counter)  # the delayed work of these messages (delivery/read statuses) counts too
    elapsed = time.monotonic() - started
    calls = counter.snapshot() - before
    stages = probe.drain(args.turns)

    replies = [s.reply_ms for s in samples if s.reply_ms is not None]
    missing = len(samples) - len(replies)
    table(
        f"(1) Turn latency, {len(customers)} returning customers, {args.turns} questions one at a"
        " time (ms)",
        ["measure", "n", "p50", "p95", "max", "mean"],
        [
            latency_rows("webhook -> reply at simulator", replies),
            latency_rows("webhook POST answered", [s.webhook_ms for s in samples]),
        ],
    )
    if missing:
        print(f"  !! {missing} of {len(samples)} questions got no reply within {args.timeout} s")
    if replies and stages:
        own = pct([lat.get("total", 0.0) for lat in stages], 50)
        outside = pct(replies, 50) - own
        print(
            f"  ai_processing's own total is {own:.1f}"
            f" ms at p50; the other ~{outside:,.0f} ms are webhook, context, the FIFO hops"
            " (short-polled by the runners) and the outbound send."
        )
    names = sorted({k for latency in stages for k in latency}, key=lambda k: (k == "total", k))
    table(
        f"    per stage in ai_processing (TurnCompleted.latency_ms, {len(stages)} turns, ms)",
        ["stage", "n", "p50", "p95", "max", "mean"],
        [latency_rows(n, [lat[n] for lat in stages if n in lat]) for n in names],
    )
    print_calls(calls, args.turns, elapsed)
    print_callers(counter.callers() - callers_before, args.turns)
    table(
        f"    idle baseline: calls/s with no traffic, {idle_seconds:.1f} s (runner polling only)",
        ["service", "operation", "calls/s"],
        [[s, o, f"{c / idle_seconds:.2f}"] for (s, o), c in sorted(idle.items())]
        or [["-", "-", "0"]],
    )


def run_customers(
    run: LoadRun,
    args: argparse.Namespace,
    stack: CountedStack,
    watcher: ReplyWatcher,
    counter: CallCounter,
) -> tuple[Results, Counter[tuple[str, str]], float]:
    """The run's samples, the AWS calls made meanwhile, and when it started (monotonic)."""
    results = Results()
    before = counter.snapshot()
    started = time.monotonic()
    stop_at = started + run.seconds
    grace_until: list[float] = []
    threads = [
        threading.Thread(
            target=customer,
            args=(run, args.timeout, stack, watcher, results, i, stop_at, grace_until),
            daemon=True,
        )
        for i in range(run.customers)
    ]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, stop_at - time.monotonic()))
    grace_until.append(time.monotonic() + args.grace)
    for thread in threads:  # in-flight questions finish within --timeout, late ones in --grace
        thread.join(timeout=max(0.0, grace_until[0] - time.monotonic()) + args.timeout + 5)
    return results, counter.snapshot() - before, started


def capacity(results: Results, started: float, seconds: float, warm_up: float) -> float:
    """Replies per second received in the run's window, after its warm-up."""
    began = time.time() - (time.monotonic() - started)  # the window's start on the wall clock
    window = (began + warm_up, began + seconds)
    replied = [s.sent + s.reply_ms / 1000 for s in results.samples if s.reply_ms is not None]
    return sum(1 for at in replied if window[0] <= at <= window[1]) / (seconds - warm_up)


def report_run(
    run: LoadRun, args: argparse.Namespace, results: Results, calls: Counter[tuple[str, str]]
) -> int:
    """Prints the run's figures; returns the messages lost."""
    samples = list(results.samples)
    answered = [s for s in samples if s.reply_ms is not None]
    on_time = [s.reply_ms for s in answered if not s.late and s.reply_ms is not None]
    lost = len(samples) - len(answered)
    sent = max(1, len(samples))
    late = sum(1 for s in answered if s.late)
    pacing = f"paced at {run.rate:.2f} msg/s" if run.rate else "closed loop"
    table(
        f"{run.name}: {run.customers} customers, {pacing}, {run.seconds:.0f} s "
        f"(+ in-flight replies, {args.grace:.0f} s grace)",
        ["measure", "value"],
        [
            ["messages sent", len(samples)],
            ["replies received", len(answered)],
            ["rate (messages sent/s in the window)", f"{len(samples) / run.seconds:.2f}"],
            ["latency p50 (ms)", ms(pct(on_time, 50))],
            ["latency p95 (ms)", ms(pct(on_time, 95))],
            ["latency max (ms)", ms(max(on_time) if on_time else float("nan"))],
            [f"timeouts (> {args.timeout:.0f} s, replied later)", late],
            ["messages lost", lost],
            ["send errors", len(results.errors)],
            ["AWS calls per message (all)", f"{sum(calls.values()) / sent:.2f}"],
            [
                "AWS calls per message (no polling)",
                f"{sum(c for k, c in calls.items() if k not in POLLING) / sent:.2f}",
            ],
        ],
    )
    for error in results.errors[:5]:
        print(f"  !! {error}")
    return lost + len(results.errors)


def voice_rows(times: Sequence[float]) -> None:
    table(
        "    voice note -> reply at simulator (ms)",
        ["measure", "n", "p50", "p95", "max", "mean"],
        [latency_rows("webhook -> first reply", times)],
    )
    if times:
        verdict = "within" if pct(times, 95) <= VOICE_GOAL_MS else "OVER"
        print(
            f"  p95 {verdict} the {VOICE_GOAL_MS / 1000:.0f} s local goal"
            f" (the seed's target: < {VOICE_SEED_TARGET_MS / 1000:.0f} s)"
        )


def load_phase(
    args: argparse.Namespace, stack: CountedStack, watcher: ReplyWatcher, counter: CallCounter
) -> bool:
    """(3a) the capacity probe: a few customers with no think time saturate the runtime; its
    reply rate is what the runtime sustains. (3b) the load run: --customers paced at
    --headroom of that rate (or at --rate) for --seconds; nothing may be lost."""
    rate = args.rate
    if rate is None:
        probe = LoadRun("(3a) Capacity probe", args.probe_customers, None, args.probe, first=5000)
        results, calls, started = run_customers(probe, args, stack, watcher, counter)
        report_run(probe, args, results, calls)
        measured = capacity(results, started, probe.seconds, warm_up=min(10.0, probe.seconds / 3))
        rate = round(measured * args.headroom, 2)
        print(
            f"  saturated reply rate {measured:.2f} msg/s (after the warm-up);"
            f" the load run is paced at {args.headroom:.0%} of it: {rate:.2f} msg/s"
        )
        settle(counter)
    load = LoadRun("(3b) Load", args.customers, rate, args.seconds)
    results, calls, _ = run_customers(load, args, stack, watcher, counter)
    lost = report_run(load, args, results, calls)
    print(f"  => {rate:.2f} msg/s sustained by {args.customers} customers, {lost} lost (must be 0)")
    return lost == 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.turns", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10 customers for 30 s, 10 turns")
    parser.add_argument("--customers", type=int, help="default 50 (10 with --quick)")
    parser.add_argument("--seconds", type=float, help="default 180 (30 with --quick)")
    parser.add_argument("--turns", type=int, help="questions timed one at a time (20; 10)")
    parser.add_argument(
        "--rate", type=float, help="pace the load run at this many messages/s (no probe)"
    )
    parser.add_argument("--probe", type=float, help="capacity probe seconds (60; 30)")
    parser.add_argument(
        "--probe-customers", type=int, default=10, help="closed-loop customers of the probe"
    )
    parser.add_argument(
        "--headroom", type=float, default=0.65, help="load rate as a share of the probed capacity"
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for a reply")
    parser.add_argument("--grace", type=float, default=30.0, help="seconds for late replies")
    parser.add_argument("--idle", type=float, default=5.0, help="seconds of idle-call baseline")
    parser.add_argument("--voice", type=int, help="voice notes timed one at a time (10; 3)")
    args = parser.parse_args(argv)
    defaults = (10, 30.0, 10, 30.0, 3) if args.quick else (50, 180.0, 20, 60.0, 10)
    names = ("customers", "seconds", "turns", "probe", "voice")
    for name, default in zip(names, defaults, strict=True):
        if getattr(args, name) is None:
            setattr(args, name, default)

    began = time.monotonic()
    ports = StackPorts(
        moto=free_port(),
        redis=free_port(),
        simulator=free_port(),
        services={s: free_port() for s in SERVICES},
    )
    with (
        tempfile.TemporaryDirectory(prefix="parley-bench-") as run_dir,
        counting_proxy(ports.moto) as (proxy_port, counter),
    ):
        stack = CountedStack(ports, Path(run_dir), proxy_port)
        watcher = ReplyWatcher(stack.simulator_url)
        ok = False
        try:
            print("Starting the local runtime (moto behind a counting proxy, redis, 5 services,")
            print("the WhatsApp simulator) and indexing the demo knowledge base...", flush=True)
            stack.start()
            wait_for_index(stack)
            watcher.start()
            print(f"Ready in {time.monotonic() - began:.1f} s.", flush=True)
            latency_phase(args, stack, watcher, counter)
            voice_rows(voice_phase(stack.simulator_url, watcher.inbox, args.voice, args.timeout))
            settle(counter)
            ok = load_phase(args, stack, watcher, counter)
        except (RuntimeError, TimeoutError) as error:
            print(f"\n!! {error}")
            for log in sorted((Path(run_dir) / "logs").glob("*.log")):
                tail = log.read_text(errors="replace").splitlines()[-5:]
                print(f"--- {log.name}\n" + "\n".join(tail))
        finally:
            watcher.stop()
            stack.stop()
    print(f"\nTotal run time {time.monotonic() - began:.0f} s; {'PASS' if ok else 'FAIL'}.")
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
