"""`chalice local --stage local` in services/ingestion serves the Meta webhook against the local
emulator, exactly as the README shows (the `local` stage points at 127.0.0.1:4566 and :6380)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import requests

from infra.local import ports, provisioner
from infra.local.devstack import wait_for_port

ROOT = Path(__file__).resolve().parents[2]
SECRETS = json.loads((ROOT / "infra" / "local" / "dev_secrets.json").read_text())["whatsapp"]


def _free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture(scope="module")
def emulator() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    busy = [p for p in (ports.MOTO, ports.REDIS) if not _free(p)]
    if busy:
        pytest.fail(f"ports {busy} are in use (is `make run` running?); stop it to run this test")
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=ports.MOTO)
    moto.start()
    redis = subprocess.Popen(
        [
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(ports.REDIS),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{ports.MOTO}"
    saved = dict(os.environ)
    os.environ.update(
        AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local", AWS_DEFAULT_REGION="us-east-1"
    )
    try:
        wait_for_port(ports.REDIS)
        provisioner.main(
            [
                "--stage",
                "local",
                "--endpoint",
                endpoint,
                "--output",
                str(ROOT / ".run" / "chalice-local-resources.json"),
            ]
        )
        yield endpoint
    finally:
        os.environ.clear()
        os.environ.update(saved)
        redis.terminate()
        redis.wait(timeout=10)
        moto.stop()


@pytest.fixture(scope="module")
def chalice_local(emulator: str) -> Iterator[str]:
    port = 9001
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "chalice"),
            "local",
            "--stage",
            "local",
            "--port",
            str(port),
            "--no-autoreload",
        ],
        cwd=ROOT / "services" / "ingestion",
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_chalice_local_verifies_and_accepts_a_signed_webhook(
    emulator: str, chalice_local: str
) -> None:
    challenge = requests.get(
        f"{chalice_local}/webhooks/meta",
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": SECRETS["verify_token"],
            "hub.challenge": "1158201444",
        },
        timeout=10,
    )
    assert (challenge.status_code, challenge.text) == (200, "1158201444")

    wamid = f"wamid.{uuid.uuid4().hex}"
    body = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "1",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": ports.DEMO_DISPLAY_NUMBER,
                                    "phone_number_id": ports.DEMO_PHONE_NUMBER_ID,
                                },
                                "contacts": [{"profile": {"name": "Alex"}, "wa_id": "15551234567"}],
                                "messages": [
                                    {
                                        "from": "15551234567",
                                        "id": wamid,
                                        "timestamp": str(int(time.time())),
                                        "type": "text",
                                        "text": {"body": "When is the fall deadline?"},
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        }
    )
    raw = body.encode()
    signature = hmac.new(SECRETS["app_secret"].encode(), raw, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={signature}"}
    accepted = requests.post(
        f"{chalice_local}/webhooks/meta", data=raw, headers=headers, timeout=10
    )
    assert accepted.status_code == 200, accepted.text
    bad = dict(headers, **{"X-Hub-Signature-256": "sha256=" + "0" * 64})
    assert (
        requests.post(
            f"{chalice_local}/webhooks/meta", data=raw, headers=bad, timeout=10
        ).status_code
        == 401
    )

    sqs = boto3.client(
        "sqs",
        endpoint_url=emulator,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    url = sqs.get_queue_url(QueueName="parley-local-context.fifo")["QueueUrl"]
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=2)
    events = [json.loads(m["Body"]) for m in got.get("Messages", [])]
    received = [e for e in events if e["type"] == "message.received"]
    assert [e["payload"]["message_id"] for e in received] == [wamid]
