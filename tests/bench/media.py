"""The media service on the local emulators: from a media job entering the handler to the
`media.processed` publish, per type, and what a 10 s voice note adds to a reply.

    python -m tests.bench.media [--samples 10]

Starts a moto server and a redis-server on free ports (tests/bench/emulators.py), provisions them
from infra/template.yaml, and starts the WhatsApp simulator in a thread. The media service's local
stage points at both (the simulator serves the customer's media, as Meta's Graph API would). For
each type - voice note (OGG/Opus, ~10 s of espeak-ng speech), image (PNG of printed text), sticker
(WebP), PDF, DOCX, XLSX - --samples files are uploaded to the simulator as customer media, then
one `message.received` job per file goes through `runtime.consume` (the SQS handler's code path):
download from the simulator, store in the media bucket (moto S3), read back, the offline engines
(pocketsphinx, tesseract, the document readers), `media.processed` published to the topic (moto
SNS).

Measured: from `runtime.consume` being called to the processor's `media.processed` publish
returning (the processor's publisher is wrapped), p50/p95 per type; the whole consume call is
shown beside it. Goal: <= 5 s locally (the seed's target: < 30 s).

Voice note -> reply, the whole path (context, the AI, the sender included), is measured over the
local stack by `python -m tests.bench.turns` (phase 1b, tests/bench/voice_turns.py).

The SQS event is built in memory (moto's SQS slows down as its queues fill). Everything but the
engines' subprocesses runs in one process, moto included: absolute numbers are a laptop's.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SERVICE_DIR = ROOT / "services" / "media"
PNID = "100000000000001"
QUEUE = "parley-local-media.fifo"
GOAL_MS = 5000.0
SEED_TARGET_MS = 30000.0
# ~10 s at espeak-ng's 140 words a minute.
VOICE_QUESTION = (
    "I am an international student applying for the fall semester. When is the "
    "application deadline, and do I need English test scores for a scholarship?"
)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

from tests.bench.emulators import emulators, provision, use_service_stage  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def sqs_event(event: dict[str, Any]) -> dict[str, Any]:
    arn = f"arn:aws:sqs:us-east-1:123456789012:{QUEUE}"
    return {
        "Records": [
            {
                "messageId": uuid.uuid4().hex,
                "receiptHandle": uuid.uuid4().hex,
                "body": json.dumps(event),
                "attributes": {
                    "MessageGroupId": event["conversation"],
                    "ApproximateReceiveCount": "1",
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": "us-east-1",
            }
        ]
    }


def job(sim_url: str, data: bytes, mime: str, kind: str, **media: Any) -> dict[str, Any]:
    """Upload the file to the simulator as customer media; the media job ingestion would send."""
    import requests

    files = {"file": ("upload.bin", data, mime)}
    uploaded = requests.post(f"{sim_url}/_sim/customer/media", files=files, timeout=10)
    uploaded.raise_for_status()
    wa_id = "1555" + uuid.uuid4().hex[:8].translate(str.maketrans("abcdef", "123456"))
    now = datetime.now(UTC).isoformat()
    return {
        "event_id": uuid.uuid4().hex,
        "type": "message.received",
        "conversation": f"{PNID}:{wa_id}",
        "occurred_at": now,
        "producer": "bench",
        "payload": {
            "channel": "meta",
            "business_phone_number_id": PNID,
            "wa_id": wa_id,
            "message_id": f"wamid.bench.{uuid.uuid4().hex}",
            "kind": kind,
            "media": {"media_id": uploaded.json()["id"], "mime_type": mime, **media},
            "sent_at": now,
        },
    }


def samples(tmp: Path) -> dict[str, tuple[bytes, str, str, dict[str, Any]]]:
    """type -> (bytes, mime, kind, extra media fields), made as the media tests make them."""
    from infra.local.sample_files import (
        docx_bytes,
        ogg_opus,
        pdf_bytes,
        speak,
        text_image,
        xlsx_bytes,
    )

    docx = docx_bytes("Financial aid", ["The merit scholarship covers half of tuition."])
    xlsx = xlsx_bytes("Deadlines", [["Term", "Deadline"], ["Fall", "March 1"]])
    pdf = pdf_bytes([["Fall application deadline: March 1", "Application fee: 50 dollars"]])
    return {
        "voice note": (ogg_opus(speak(tmp, VOICE_QUESTION)), "audio/ogg; codecs=opus", "audio",
                       {"voice": True}),
        "image (PNG)": (text_image(["Which scholarships can I apply for?", "Deadline: March 1"]),
                        "image/png", "image", {}),
        "sticker (WebP)": (text_image(["Scholarships"], fmt="WEBP"), "image/webp", "sticker", {}),
        "PDF": (pdf, "application/pdf", "document", {"filename": "deadlines.pdf"}),
        "DOCX": (docx, DOCX, "document", {"filename": "aid.docx"}),
        "XLSX": (xlsx, XLSX, "document", {"filename": "dates.xlsx"}),
    }  # fmt: skip


def voice_seconds(ogg: bytes, tmp: Path) -> float:
    import subprocess

    path = tmp / "voice.ogg"
    path.write_bytes(ogg)
    probe = ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0"]
    out = subprocess.run([*probe, str(path)], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


class PublishClock:
    """Wraps the processor's publisher: records when each `media.processed` publish returned."""

    def __init__(self, processor: Any) -> None:
        self.published: list[tuple[float, str]] = []
        real: Callable[[Any], Any] = processor.events.publish
        clock = self

        class Timed:
            def publish(self, event: Any) -> Any:
                result = real(event)
                clock.published.append((time.perf_counter(), event.payload.status))
                return result

        processor.events = Timed()


def measure(
    runtime: Any,
    handlers: dict[str, Any],
    clock: PublishClock,
    jobs: list[dict[str, Any]],
) -> tuple[list[float], list[float], list[str]]:
    to_publish, whole, statuses = [], [], []
    for event in jobs:
        clock.published.clear()
        t0 = time.perf_counter()
        result = runtime.consume(sqs_event(event), handlers)
        t1 = time.perf_counter()
        assert result == {"batchItemFailures": []}, result
        [(published, status)] = clock.published
        to_publish.append((published - t0) * 1000)
        whole.append((t1 - t0) * 1000)
        statuses.append(status)
    return to_publish, whole, statuses


def verdict(p95_ms: float) -> str:
    if p95_ms <= GOAL_MS:
        return "meets the 5 s goal"
    if p95_ms < SEED_TARGET_MS:
        return "MISSES the 5 s goal (within the seed's 30 s)"
    return "MISSES the 5 s goal and the seed's 30 s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.media")
    parser.add_argument("--samples", type=int, default=10, help="files per type (default 10)")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    import os

    from infra.local.simulator import SimConfig, start_in_thread

    with emulators() as (endpoint, redis_url), tempfile.TemporaryDirectory() as tmp:
        sim = start_in_thread(
            SimConfig(webhook_url="http://127.0.0.1:9/none", auto_read_delay=None)
        )
        try:
            use_service_stage(SERVICE_DIR, endpoint, redis_url, "WARNING")
            os.environ["WHATSAPP_GRAPH_URL"] = sim.url
            os.environ["MEDIA_ALLOW_HTTP_HOSTS"] = json.dumps([sim.url.split("://")[1]])
            provision(endpoint)
            sys.path[:0] = [str(SERVICE_DIR), str(SERVICE_DIR / "vendor")]
            from chalicelib import handlers
            from chalicelib.wiring import runtime

            runtime.reset()
            made = samples(Path(tmp))
            seconds = voice_seconds(made["voice note"][0], Path(tmp))
            clock = PublishClock(runtime.processor)
            table = dict(handlers.HANDLERS)
            # Warm: clients, engines (pocketsphinx's model), imports; one job per type.
            for data, mime, kind, extra in made.values():
                measure(runtime, table, clock, [job(sim.url, data, mime, kind, **extra)])
            print(
                f"media job -> media.processed, {args.samples} samples per type, after one warm "
                "job each (from runtime.consume called to the processor's publish returning; "
                "the whole consume call beside it):"
            )
            voice: list[float] = []
            for name, (data, mime, kind, extra) in made.items():
                jobs = [job(sim.url, data, mime, kind, **extra) for _ in range(args.samples)]
                to_publish, whole, statuses = measure(runtime, table, clock, jobs)
                p50, p95 = statistics.median(to_publish), percentile(to_publish, 0.95)
                label = f"{name} ({seconds:.1f} s)" if name == "voice note" else name
                print(
                    f"    {label:<22} {len(data) / 1024:7.1f} KiB  p50 {p50:7.1f} ms  "
                    f"p95 {p95:7.1f} ms  (consume p95 {percentile(whole, 0.95):7.1f} ms)  "
                    f"status {dict((s, statuses.count(s)) for s in set(statuses))}  "
                    f"{verdict(p95)}"
                )
                if name == "voice note":
                    voice = to_publish
        finally:
            sim.stop()
    v50, v95 = statistics.median(voice), percentile(voice, 0.95)
    print(
        f"voice note ({seconds:.1f} s), the media share (job -> media.processed): "
        f"p50 {v50:.1f} ms, p95 {v95:.1f} ms; the whole voice note -> reply is measured by "
        "`python -m tests.bench.turns` (1b)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
