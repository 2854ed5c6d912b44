"""Faults on the local runtime and what the customers see of them (shared by
tests/faults/test_faults.py, the short run, and tests/bench/faults.py, the full table).

For one fault, N customers each send M messages through the WhatsApp simulator while the fault
happens; then the suite waits until the runtime is quiet and counts, from the simulator's chat
records and the `turn.completed` events (a probe queue of ours on the conversation-events topic):

- sent: the customers' messages.
- replies: the bot's reply bubbles the customers received. Each one the simulator recorded carries
  the sender's part id in `biz_opaque_callback_data`: `turn:<turn id>` (`#n` for the n-th part of a
  split reply).
- lost: messages answered by no received reply: no `turn.completed` naming the message
  (`answered_message_ids`) has a reply bubble of its turn in the customer's chat.
- duplicated: reply bubbles whose part id the customer had already received (the same reply
  sent twice), plus messages answered by more than one received turn (answered twice).
- silent: customers with messages sent and not one reply bubble.

Meta retries a webhook its endpoint did not take (non-2xx, or no answer); the simulator does
not, so the suite does: the same signed payload (same wamid) until ingestion answers 2xx.
Quiet: every message answered (or the timeout) and nothing left in the service queues.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.local.devstack import DevStack, StackPorts
from infra.local.probes import subscribe_probe_queue
from infra.local.simulator.config import SimConfig
from infra.local.simulator.webhooks import encode, message_payload, sign
from parley.routing import CONSUMER_TIMEOUT_SECONDS
from tests.faults.proxy import PausableProxy

# A failed or abandoned batch comes back after its queue's visibility timeout: 6x the consumer's
# Lambda timeout in the template (3 to 6 minutes). The suite sets the least AWS allows, 1x, to
# keep a run short; an abandoned invocation's idempotency lease (at most that timeout) has then
# expired when its batch comes back, as it has on AWS.
SERVICE_QUEUES = ("turns", "outbound", "context", "media", "escalation")
# Far over what the suite sends: the per-customer inbound limit would hold messages for 60 s.
INBOUND_LIMITS = {"INBOUND_MESSAGES_PER_MINUTE": "10000", "INBOUND_BURST": "10000"}
QUESTIONS = (
    "When is the fall application deadline?",
    "How much is tuition for international students?",
    "¿Qué becas ofrecen?",
    "What are the admission requirements for undergraduates?",
    "Can I visit the campus?",
    "¿Cuándo empiezan las clases?",
    "Which graduate programs do you offer?",
    "Do international students need a visa letter?",
)
Json = dict[str, Any]


class FaultStack(DevStack):
    """`make run`'s stack whose services reach moto through a `PausableProxy`, with the
    queues' redelivery shortened and the inbound rate limit out of the way."""

    def __init__(self, stack_ports: StackPorts, run_dir: Path) -> None:
        super().__init__(stack_ports, run_dir)
        self.proxy = PausableProxy(stack_ports.moto)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.proxy.port}"

    def start(self) -> None:
        self.proxy.start()
        super().start()

    def stop(self) -> None:
        super().stop()
        self.proxy.close()

    def child_environment(self, name: str) -> dict[str, str]:
        return dict(INBOUND_LIMITS) if name == "ingestion" else {}

    def moto(self, service: str) -> Any:
        """A client straight to moto: it works while the proxy is down."""
        import boto3

        return boto3.client(
            service,
            endpoint_url=f"http://127.0.0.1:{self.ports.moto}",
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def _provision(self) -> None:
        super()._provision()
        sqs = self.moto("sqs")
        for name in SERVICE_QUEUES:
            url = sqs.get_queue_url(QueueName=f"parley-{self.stage}-{name}.fifo")["QueueUrl"]
            visibility = str(CONSUMER_TIMEOUT_SECONDS[name])
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": visibility})

    def in_flight(self, queue: str) -> int:
        """Messages of service queue `queue` received and not yet deleted."""
        sqs = self.moto("sqs")
        url = sqs.get_queue_url(QueueName=f"parley-{self.stage}-{queue}.fifo")["QueueUrl"]
        attrs = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessagesNotVisible"])

    def queued(self) -> int:
        """Messages waiting or in flight in the service queues."""
        sqs, total = self.moto("sqs"), 0
        for name in SERVICE_QUEUES:
            url = sqs.get_queue_url(QueueName=f"parley-{self.stage}-{name}.fifo")["QueueUrl"]
            attrs = sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )["Attributes"]
            total += sum(int(v) for v in attrs.values())
        return total


class TurnLedger:
    """turn id -> the customer message ids it answered, from `turn.completed` events."""

    def __init__(self, stack: FaultStack, name: str = "faults-turns.fifo") -> None:
        self.sqs = stack.moto("sqs")
        self.url = subscribe_probe_queue(self.sqs, stack.moto("sns"), name, ["turn.completed"])
        self.answered: dict[str, list[str]] = {}
        self.texts: dict[str, str] = {}

    def collect(self) -> None:
        while True:
            got = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10)
            messages = got.get("Messages", [])
            if not messages:
                return
            for message in messages:
                event = json.loads(message["Body"])
                event = json.loads(event["Message"]) if "Message" in event else event
                payload = event.get("payload", {})
                self.answered[payload["turn_id"]] = list(payload.get("answered_message_ids", []))
                self.texts[payload["turn_id"]] = payload.get("reply_text") or ""
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])


# --- customers -----------------------------------------------------------------------------


def post(url: str, body: bytes, headers: dict[str, str], timeout: float = 30) -> tuple[int, Json]:
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def redeliver(stack: DevStack, message: Json, deadline: float) -> int:
    """Meta's retries of one customer message's webhook: same payload, until ingestion takes it.
    Returns the attempts made."""
    config = SimConfig()
    raw = encode(message_payload(config, config.default_customer_name, message))
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": sign(config.app_secret, raw),
    }
    url = f"{stack.service_url('ingestion')}/webhooks/meta"
    attempts, wait = 0, 0.5
    while time.monotonic() < deadline:
        attempts += 1
        try:
            status, _ = post(url, raw, headers, timeout=15)
        except OSError:
            status = 0
        if 200 <= status < 300:
            return attempts
        time.sleep(wait)
        wait = min(wait * 2, 4.0)
    raise TimeoutError(f"ingestion never took message {message['id']}")


def send(stack: DevStack, wa_id: str, text: str, retry_for: float = 90.0) -> str:
    """The customer writes `text` (simulator -> signed webhook -> ingestion); its wamid."""
    status, answer = post(
        f"{stack.simulator_url}/_sim/customer/messages",
        json.dumps({"from": wa_id, "text": text}).encode(),
        {"Content-Type": "application/json"},
    )
    if "message" not in answer:
        raise RuntimeError(f"the simulator refused the message: {status} {answer}")
    if not answer.get("webhook", {}).get("ok"):
        redeliver(stack, answer["message"], time.monotonic() + retry_for)
    return str(answer["wamid"])


def chat(stack: DevStack, wa_id: str) -> list[Json]:
    with urllib.request.urlopen(f"{stack.simulator_url}/_sim/chat?wa_id={wa_id}", timeout=10) as r:
        return list(json.loads(r.read())["messages"])


# --- one fault, counted --------------------------------------------------------------------


@dataclass
class Tally:
    fault: str
    customers: int = 0
    sent: int = 0
    replies: int = 0
    lost: int = 0
    duplicated: int = 0
    silent: int = 0
    seconds: float = 0.0
    hit: str = ""
    problems: list[str] = field(default_factory=list)
    reply_texts: list[str] = field(default_factory=list)

    def row(self) -> list[object]:
        return [self.fault, self.sent, self.replies, self.lost, self.duplicated, self.silent]


def bot_parts(entries: list[Json]) -> list[str]:
    """Part ids (`turn:<id>[#n]`) of the bot's reply bubbles, in the order received."""
    parts = []
    for entry in entries:
        callback = entry.get("payload", {}).get("biz_opaque_callback_data") or ""
        if entry.get("direction") == "out" and callback.startswith("turn:"):
            parts.append(str(callback))
    return parts


def turn_of(part: str) -> str:
    return part.removeprefix("turn:").split("#", 1)[0]


def count(
    tally: Tally, sent: dict[str, list[str]], chats: dict[str, list[Json]], ledger: TurnLedger
) -> None:
    """Fills the tally's replies, lost, duplicated and silent (definitions: module docstring)."""
    for wa_id, wamids in sent.items():
        parts = bot_parts(chats[wa_id])
        tally.replies += len(parts)
        repeats = [p for p, n in Counter(parts).items() if n > 1]
        tally.duplicated += sum(Counter(parts)[p] - 1 for p in repeats)
        tally.problems += [f"{wa_id}: reply part {p} received twice" for p in repeats]
        received = {turn_of(p) for p in parts}
        tally.reply_texts += [ledger.texts.get(t, "") for t in received]
        answers = Counter(m for t in received for m in ledger.answered.get(t, []))
        for wamid in wamids:
            if answers[wamid] == 0:
                tally.lost += 1
                tally.problems.append(f"{wa_id}: message {wamid[-12:]} got no reply")
            elif answers[wamid] > 1:
                tally.duplicated += answers[wamid] - 1
                tally.problems.append(
                    f"{wa_id}: message {wamid[-12:]} answered {answers[wamid]} times"
                )
        if wamids and not parts:
            tally.silent += 1


def settle(
    stack: FaultStack, ledger: TurnLedger, sent: dict[str, list[str]], timeout: float
) -> dict[str, list[Json]]:
    """Wait until every message is answered and the queues are empty (or `timeout`); the chats."""
    deadline = time.monotonic() + timeout
    wanted = {w for wamids in sent.values() for w in wamids}
    quiet_since: float | None = None
    while True:
        ledger.collect()
        chats = {wa_id: chat(stack, wa_id) for wa_id in sent}
        answered = {
            m
            for wa_id in sent
            for p in bot_parts(chats[wa_id])
            for m in ledger.answered.get(turn_of(p), [])
        }
        done = wanted <= answered and stack.queued() == 0
        quiet_since = (quiet_since or time.monotonic()) if done else None
        if quiet_since is not None and time.monotonic() - quiet_since >= 2.0:
            return chats
        if time.monotonic() > deadline:
            return chats
        time.sleep(0.5)


@dataclass(frozen=True)
class Load:
    customers: int = 3
    messages: int = 3  # per customer
    gap: float = 2.0  # seconds between one customer's messages
    settle_timeout: float = 90.0


FaultAction = Callable[[FaultStack], str]
"""Makes the fault happen; says how it hit (e.g. how many sends it failed)."""


def run_fault(
    stack: FaultStack,
    ledger: TurnLedger,
    name: str,
    action: FaultAction,
    load: Load,
    first_customer: int,
    lead: float = 1.0,
) -> Tally:
    """Customers write while `action` (started `lead` s after the first message) runs."""
    started = time.monotonic()
    customers = [f"1555{first_customer + n:08d}" for n in range(load.customers)]
    sent: dict[str, list[str]] = {wa_id: [] for wa_id in customers}
    errors: list[str] = []

    def customer(index: int, wa_id: str) -> None:
        time.sleep(load.gap * index / max(1, load.customers))  # spread the customers
        for n in range(load.messages):
            text = QUESTIONS[(index + n) % len(QUESTIONS)]
            try:
                sent[wa_id].append(send(stack, wa_id, text))
            except (OSError, RuntimeError) as error:
                errors.append(f"{wa_id}: {error}")
            time.sleep(load.gap)

    threads = [
        threading.Thread(target=customer, args=(i, w), daemon=True) for i, w in enumerate(customers)
    ]
    for thread in threads:
        thread.start()
    time.sleep(lead)
    hit = action(stack)
    for thread in threads:
        thread.join()
    chats = settle(stack, ledger, sent, load.settle_timeout)
    tally = Tally(name, customers=len(customers), sent=sum(len(v) for v in sent.values()))
    count(tally, sent, chats, ledger)
    tally.problems += errors
    tally.hit = hit
    tally.seconds = time.monotonic() - started
    return tally
