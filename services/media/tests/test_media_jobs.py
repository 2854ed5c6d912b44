"""A media job through the service's SQS handler, as Lambda runs it: the file comes from the
WhatsApp simulator, is stored once in the media bucket (moto), read by the real offline engines, and
`media.processed` is published; bad media gets an honest answer and never reaches the DLQ."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from chalice.test import Client
from test_engines import aid_docx

from infra.local.probes import subscribe_probe_queue
from infra.local.sample_files import ogg_opus, speak, text_image
from infra.local.service_contract import Service, deliver, drain
from infra.local.simulator import RunningSimulator, SimConfig, start_in_thread

pytest_plugins = ["infra.local.service_contract"]
PNID = "100000000000001"
OK = {"batchItemFailures": []}
needs_tools = pytest.mark.skipif(
    not (shutil.which("espeak-ng") and shutil.which("ffmpeg") and shutil.which("tesseract")),
    reason="espeak-ng, ffmpeg and tesseract come with `make setup`",
)


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    running = start_in_thread(
        SimConfig(webhook_url="http://127.0.0.1:9/none", auto_read_delay=None)
    )
    yield running
    running.stop()


@pytest.fixture
def media(service: Service, sim: RunningSimulator, monkeypatch: pytest.MonkeyPatch) -> Any:
    from chalicelib.wiring import runtime

    monkeypatch.setenv("WHATSAPP_GRAPH_URL", sim.url)
    monkeypatch.setenv("MEDIA_ALLOW_HTTP_HOSTS", json.dumps([sim.url.split("://")[1]]))
    runtime.reset()
    drain("parley-local-outbound.fifo")
    events = subscribe_probe_queue(
        boto3.client("sqs"), boto3.client("sns"), f"probe-media-{uuid.uuid4().hex[:8]}.fifo",
        ["media.processed"],
    )  # fmt: skip
    return {"events": events}


def job(sim: RunningSimulator, data: bytes, mime: str, kind: str, **media: Any) -> dict[str, Any]:
    files = {"file": ("upload.bin", data, mime)}
    uploaded = requests.post(f"{sim.url}/_sim/customer/media", files=files, timeout=5).json()
    wa_id = "1555" + uuid.uuid4().hex[:8].translate(str.maketrans("abcdef", "123456"))
    return {
        "event_id": uuid.uuid4().hex,
        "type": "message.received",
        "conversation": f"{PNID}:{wa_id}",
        "occurred_at": datetime.now(UTC).isoformat(),
        "producer": "test",
        "payload": {
            "channel": "meta",
            "business_phone_number_id": PNID,
            "wa_id": wa_id,
            "message_id": f"wamid.{uuid.uuid4().hex}",
            "kind": kind,
            "media": {"media_id": uploaded["id"], "mime_type": mime, **media},
            "sent_at": datetime.now(UTC).isoformat(),
        },
    }


def processed(media: dict[str, Any]) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    found = []
    for _ in range(20):
        got = sqs.receive_message(QueueUrl=media["events"], MaxNumberOfMessages=10).get("Messages")
        for m in got or []:
            found.append(json.loads(m["Body"])["payload"])
            sqs.delete_message(QueueUrl=media["events"], ReceiptHandle=m["ReceiptHandle"])
        if found:
            return found
    return found


def answers(wa_id: str) -> list[str]:
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName="parley-local-outbound.fifo")["QueueUrl"]
    texts = []
    while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for m in got:
            body = json.loads(m["Body"])
            if body["payload"].get("to") == wa_id:
                texts.append(body["payload"]["text"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return texts


@needs_tools
def test_an_image_of_printed_text_is_read_and_published_for_the_turn(
    client: Client, service: Service, sim: RunningSimulator, media: dict[str, Any]
) -> None:
    event = job(sim, text_image(["Which scholarships can I apply for?"]), "image/png", "image")
    assert deliver(client, service, [json.dumps(event)]) == OK
    [done] = processed(media)
    assert done["status"] == "ok" and done["customer_told"] is False
    assert "scholarships" in done["analysis"]["text"].lower()
    key = done["s3_key"]
    assert key.startswith(f"media/{PNID}/{event['payload']['wa_id']}/")
    head = boto3.client("s3").head_object(Bucket="parley-local-media", Key=key)
    assert head["ContentLength"] == done["size_bytes"]
    assert answers(event["payload"]["wa_id"]) == []  # the AI answers it, not the media service


@needs_tools
def test_an_english_voice_note_is_transcribed(
    client: Client, service: Service, sim: RunningSimulator, media: dict[str, Any], tmp_path: Path
) -> None:
    voice = ogg_opus(speak(tmp_path, "When is the fall application deadline?"))
    event = job(sim, voice, "audio/ogg; codecs=opus", "audio", voice=True)
    assert deliver(client, service, [json.dumps(event)]) == OK
    [done] = processed(media)
    assert done["status"] == "ok"
    heard = set(done["analysis"]["transcript"].lower().split())
    assert len({"fall", "application", "deadline"} & heard) >= 2


def test_a_document_reaches_the_ai_as_text(
    client: Client, service: Service, sim: RunningSimulator, media: dict[str, Any]
) -> None:
    mime = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    event = job(sim, aid_docx(), mime, "document", filename="grades.docx")
    assert deliver(client, service, [json.dumps(event)]) == OK
    [done] = processed(media)
    assert done["status"] == "ok" and done["analysis"]["text"]


def test_a_corrupt_file_is_answered_honestly_and_not_retried(
    client: Client, service: Service, sim: RunningSimulator, media: dict[str, Any]
) -> None:
    from infra.local.service_contract import dlq_messages

    event = job(sim, b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "image/png", "image")
    assert deliver(client, service, [json.dumps(event)]) == OK
    [done] = processed(media)
    assert done["status"] in ("rejected", "unavailable") and done["customer_told"] is True
    [told] = answers(event["payload"]["wa_id"])
    assert "Sorry" in told and "Lo siento" in told
    assert dlq_messages(service) == []  # a customer's mistake never goes to the DLQ


def test_a_redelivered_job_stores_no_second_object(
    client: Client, service: Service, sim: RunningSimulator, media: dict[str, Any]
) -> None:
    event = job(sim, text_image(["Hello"]), "image/png", "image")
    assert deliver(client, service, [json.dumps(event)]) == OK
    assert deliver(client, service, [json.dumps(event)]) == OK
    prefix = f"media/{PNID}/{event['payload']['wa_id']}/"
    listed = boto3.client("s3").list_objects_v2(Bucket="parley-local-media", Prefix=prefix)
    assert listed["KeyCount"] == 1


def test_customer_erased_deletes_the_customer_s_media(
    client: Client, service: Service, sim: RunningSimulator, media: dict[str, Any]
) -> None:
    event = job(sim, text_image(["Hello"]), "image/png", "image")
    assert deliver(client, service, [json.dumps(event)]) == OK
    wa_id = event["payload"]["wa_id"]
    erased = {
        **event,
        "event_id": uuid.uuid4().hex,
        "type": "customer.erased",
        "payload": {"wa_id": wa_id, "requested_by": "test"},
    }
    assert deliver(client, service, [json.dumps(erased)]) == OK
    listed = boto3.client("s3").list_objects_v2(
        Bucket="parley-local-media", Prefix=f"media/{PNID}/{wa_id}/"
    )
    assert listed["KeyCount"] == 0
