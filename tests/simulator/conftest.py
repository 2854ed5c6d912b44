"""Fixtures for the WhatsApp simulator tests: a running simulator and a webhook receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from infra.local.simulator import RunningSimulator, SimConfig, start_in_thread

APP_SECRET = "test-app-secret"
TOKEN = "test-access-token"
PHONE_ID = "100000000000001"
Json = dict[str, Any]


@dataclass
class Hook:
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> Json:
        data: Json = json.loads(self.raw)
        return data

    @property
    def value(self) -> Json:
        value: Json = self.body["entry"][0]["changes"][0]["value"]
        return value

    def signature_ok(self, secret: str = APP_SECRET) -> bool:
        expected = hmac.new(secret.encode(), self.raw, hashlib.sha256).hexdigest()
        header = self.headers.get("X-Hub-Signature-256", "")
        return header.startswith("sha256=") and hmac.compare_digest(header[7:], expected)


@dataclass
class Receiver:
    """A loopback HTTP server standing in for the ingestion webhook."""

    url: str = ""
    hooks: list[Hook] = field(default_factory=list)
    status: int = 200
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, hook: Hook) -> None:
        with self.lock:
            self.hooks.append(hook)

    def messages(self) -> list[Hook]:
        with self.lock:
            return [h for h in self.hooks if "messages" in h.value]

    def statuses(self, wamid: str | None = None) -> list[Json]:
        with self.lock:
            found = [s for h in self.hooks for s in h.value.get("statuses", [])]
        return [s for s in found if wamid in (None, s["id"])]

    def wait_for(self, check: Callable[[], Any], timeout: float = 5.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = check()
            if result:
                return result
            time.sleep(0.02)
        raise AssertionError("timed out waiting for a webhook")


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            receiver.add(Hook(dict(self.headers.items()), raw))
            self.send_response(receiver.status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(rec))
    rec.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/meta"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield rec
    server.shutdown()
    server.server_close()


def make_config(webhook_url: str, **overrides: Any) -> SimConfig:
    settings: Json = {
        "webhook_url": webhook_url,
        "app_secret": APP_SECRET,
        "access_token": TOKEN,
        "phone_number_id": PHONE_ID,
        "sent_delay": 0.01,
        "delivered_delay": 0.02,
        "auto_read_delay": 0.05,
        "webhook_timeout": 3.0,
        **overrides,
    }
    return SimConfig(**settings)


@pytest.fixture
def sim(receiver: Receiver) -> Iterator[RunningSimulator]:
    running = start_in_thread(make_config(receiver.url))
    yield running
    running.stop()


class Graph:
    """A tiny Graph API client for the simulator, like the gateway's."""

    def __init__(self, sim: RunningSimulator, token: str = TOKEN) -> None:
        self.base = sim.graph_url
        self.sim_url = sim.url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def send(self, body: Json) -> requests.Response:
        payload = {"messaging_product": "whatsapp", **body}
        return self.session.post(f"{self.base}/{PHONE_ID}/messages", json=payload, timeout=5)

    def text(self, to: str, text: str = "hello") -> requests.Response:
        return self.send({"to": to, "type": "text", "text": {"body": text}})

    def customer(self, **body: Any) -> requests.Response:
        return requests.post(f"{self.sim_url}/_sim/customer/messages", json=body, timeout=10)

    def customer_upload(self, data: bytes, mime: str, name: str) -> Json:
        files = {"file": (name, data, mime)}
        response = requests.post(f"{self.sim_url}/_sim/customer/media", files=files, timeout=5)
        response.raise_for_status()
        result: Json = response.json()
        return result

    def fault(self, **spec: Any) -> requests.Response:
        return requests.post(f"{self.sim_url}/_sim/faults", json=spec, timeout=5)


@pytest.fixture
def graph(sim: RunningSimulator) -> Graph:
    return Graph(sim)
