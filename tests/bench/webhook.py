"""The Meta webhook path (verify, parse, dedupe, publish): latency, throughput and our own CPU.

    python -m tests.bench.webhook [--webhooks 300] [--cpu-webhooks 2000]

(a) Through the HTTP route (chalice.test.Client) against the local emulators this script starts on
    free ports: a moto server (provisioned from infra/template.yaml) and a redis-server. Each
    webhook is a signed text message from its own customer: signature, JSON, normalise, DynamoDB
    claim, 24 h window, Redis rate limit, typing indicator on outbound.fifo, SNS publish.
(b) Our own CPU per webhook with every AWS call (and Redis) stubbed through the wiring seam
    `runtime.override(...)`: `time.process_time` around each call of the webhook logic, and around
    the whole HTTP route (Chalice's dispatch included). Target: p50 <= 1 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SERVICE_DIR = ROOT / "services" / "ingestion"
PHONE_NUMBER_ID = "100000000000001"
CPU_TARGET_MS = 1.0
BATCH = 25
SECRETS = json.loads((ROOT / "infra" / "local" / "dev_secrets.json").read_text())["whatsapp"]


# --- the workload -----------------------------------------------------------------------------


def webhook(n: int, run: str) -> bytes:
    """A text message webhook from customer n, serialised as Meta does."""
    wa_id = f"1555{n:08d}"
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": PHONE_NUMBER_ID,
                            },
                            "contacts": [{"profile": {"name": "Bench Customer"}, "wa_id": wa_id}],
                            "messages": [
                                {
                                    "from": wa_id,
                                    "id": f"wamid.BENCH.{run}.{n}",
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": "Hola, ¿cuándo empiezan las clases?"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def signed_headers(raw: bytes) -> dict[str, str]:
    digest = hmac.new(SECRETS["app_secret"].encode(), raw, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}


# --- emulators ----------------------------------------------------------------------------------

from tests.bench.emulators import emulators, provision, use_service_stage  # noqa: E402


def service_env(endpoint: str, redis_url: str) -> None:
    """The ingestion service's `local` stage, pointed at this script's emulators (INFO, as
    deployed: one log line per webhook, written to /dev/null here)."""
    use_service_stage(SERVICE_DIR, endpoint, redis_url, "INFO")


def load_app() -> Any:
    sys.path.insert(0, str(SERVICE_DIR))
    import app

    return app


# --- stubs for (b) --------------------------------------------------------------------------------


class MemoryStore:
    """The wa-messages calls of the webhook path, in memory."""

    def __init__(self) -> None:
        self.claims: set[str] = set()
        self.contacts: dict[tuple[str, str], float] = {}

    def claim_message(self, wamid: str) -> bool:
        if wamid in self.claims:
            return False
        self.claims.add(wamid)
        return True

    def complete_message(self, wamid: str) -> None:
        pass

    def release_message(self, wamid: str) -> None:
        self.claims.discard(wamid)

    def advance_status(self, wamid: str, status: str, at: float) -> None:
        return None

    def reconcile_send(self, request_id: str, wamid: str, conversation: str, wa_id: str) -> bool:
        return False

    def record_inbound(
        self, phone_number_id: str, wa_id: str, at: float, profile_name: str | None
    ) -> None:
        self.contacts[(phone_number_id, wa_id)] = at

    def set_opt_out(self, phone_number_id: str, wa_id: str, opted_out: bool) -> None:
        return None

    def mark_template_fallback(self, wamid: str) -> bool:
        return False

    def clear_template_fallback(self, wamid: str) -> None:
        return None


class SerialisingSink:
    """Publisher and queue sender: serialises the event as the real ones do, sends nothing."""

    def __init__(self) -> None:
        self.bytes = 0

    def publish(self, event: Any) -> str:
        return self._take(event)

    def send(self, event: Any) -> str:
        return self._take(event)

    def _take(self, event: Any) -> str:
        self.bytes += len(event.model_dump_json())
        return "stub"


class OpenLimiter:
    """The rate limiter without Redis: every message is allowed."""

    def __init__(self) -> None:
        from chalicelib.inbound.ports import ALLOW

        self._allow = ALLOW

    def check(self, sender: str) -> Any:
        return self._allow


# --- measurement ----------------------------------------------------------------------------------


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(calls: list[Callable[[], Any]], clock: Callable[[], float]) -> list[float]:
    samples = []
    for call in calls:
        start = clock()
        call()
        samples.append((clock() - start) * 1000)
    return samples


def post(client: Any, raw: bytes) -> Callable[[], Any]:
    def call() -> None:
        response = client.http.post("/webhooks/meta", headers=signed_headers(raw), body=raw)
        if response.status_code != 200:
            raise SystemExit(f"webhook answered {response.status_code}: {response.body[:300]!r}")

    return call


def http_route(app: Any, webhooks: int) -> dict[str, float]:
    """(a) Wall-clock latency, and the throughput of one container (sequential), over the
    emulators. The queues are emptied between batches, as their consumers would: moto slows down
    as its FIFO queues fill (26 ms to 57 ms a webhook over 60 webhooks), which measures moto."""
    from chalice.test import Client

    samples: list[float] = []
    with Client(app.app, stage_name="bench", project_dir=str(SERVICE_DIR)) as client:
        for call in [post(client, webhook(n, "warm")) for n in range(10)]:
            call()  # clients, connections, secret and settings are per container
        for batch in range(0, webhooks, BATCH):
            drain_queues()
            calls = [post(client, webhook(n, "a")) for n in range(batch, batch + BATCH)]
            samples += timed(calls[: webhooks - batch], time.perf_counter)
    return {"n": webhooks, **summary(samples), "throughput": 1000 / statistics.fmean(samples)}


def drain_queues() -> None:
    """Receive and delete what the batch left (PurgeQueue is allowed once a minute only)."""
    from parley import aws

    sqs = aws.client("sqs")
    for queue in ("context", "escalation", "outbound", "media"):
        url = aws.queue_url(f"parley-local-{queue}.fifo")
        while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            entries = [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)
            ]
            sqs.delete_message_batch(QueueUrl=url, Entries=entries)


def cpu_cost(app: Any, webhooks: int) -> tuple[dict[str, float], dict[str, float]]:
    """(b) process_time per webhook with the AWS calls stubbed: the logic alone, and the route."""
    from chalice.test import Client

    runtime = app.runtime
    runtime.reset()
    sink = SerialisingSink()
    runtime.override(
        store=MemoryStore(),
        publisher=sink,
        outbound=sink,
        media_jobs=sink,
        rate_limiter=OpenLimiter(),
        whatsapp_secret=lambda: SECRETS,
    )
    webhook_logic = runtime.meta_webhook
    bodies = [webhook(n, "b") for n in range(webhooks)]
    for raw in bodies[:50]:
        webhook_logic.receive(raw, signed_headers(raw)["X-Hub-Signature-256"])
    logic = timed(
        [_receive(webhook_logic, raw) for raw in (webhook(n, "b2") for n in range(webhooks))],
        time.process_time,
    )
    with Client(app.app, stage_name="bench", project_dir=str(SERVICE_DIR)) as client:
        route = timed([post(client, webhook(n, "b3")) for n in range(webhooks)], time.process_time)
    runtime.reset()
    return {"n": webhooks, **summary(logic)}, {"n": webhooks, **summary(route)}


def _receive(webhook_logic: Any, raw: bytes) -> Callable[[], Any]:
    signature = signed_headers(raw)["X-Hub-Signature-256"]
    return lambda: webhook_logic.receive(raw, signature)


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "p50": statistics.median(samples),
        "p99": percentile(samples, 0.99),
        "mean": statistics.fmean(samples),
    }


def table(rows: list[tuple[str, dict[str, float], str]]) -> str:
    lines = [
        f"{'webhook path (verify, parse, dedupe, publish)':<52}{'n':>6}{'p50 ms':>9}"
        f"{'p99 ms':>9}{'mean ms':>9}{'per s':>8}  verdict",
    ]
    for name, row, verdict in rows:
        rate = f"{row['throughput']:>8.0f}" if "throughput" in row else f"{'':>8}"
        lines.append(
            f"{name:<52}{row['n']:>6.0f}{row['p50']:>9.3f}{row['p99']:>9.3f}"
            f"{row['mean']:>9.3f}{rate}  {verdict}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--webhooks", type=int, default=300, help="(a) webhooks over HTTP")
    parser.add_argument("--cpu-webhooks", type=int, default=2000, help="(b) stubbed webhooks")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with emulators() as (endpoint, redis_url):
        service_env(endpoint, redis_url)
        provision(endpoint)
        app = load_app()
        with contextlib.redirect_stdout(open(os.devnull, "w")):  # the service's JSON log lines
            route = http_route(app, args.webhooks)
            logic, stubbed_route = cpu_cost(app, args.cpu_webhooks)
    ok = logic["p50"] <= CPU_TARGET_MS
    print(f"Meta webhook benchmark ({time.monotonic() - started:.0f} s; one container, sequential)")
    print(
        table(
            [
                ("(a) HTTP route, moto server + redis-server, wall", route, ""),
                ("(b) our CPU per webhook, AWS stubbed: webhook logic", logic, _verdict(ok)),
                ("(b) our CPU per webhook, AWS stubbed: HTTP route", stubbed_route, ""),
            ]
        )
    )
    return 0 if ok else 1


def _verdict(ok: bool) -> str:
    return f"{'ok' if ok else 'OVER TARGET'} (target p50 <= {CPU_TARGET_MS:.0f} ms)"


if __name__ == "__main__":
    raise SystemExit(main())
