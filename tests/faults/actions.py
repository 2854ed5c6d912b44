"""The faults of the suite (tests/faults/faults.py): each makes one happen on a `FaultStack`
while the customers write, and says how it hit."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.faults.faults import FaultAction, FaultStack, post


def graph_storm(code: int, http_status: int, seconds: float) -> FaultAction:
    """Every send to WhatsApp fails with `code` for `seconds` (read receipts are not sends)."""

    def action(stack: FaultStack) -> str:
        url = f"{stack.simulator_url}/_sim/faults"
        body = json.dumps({"code": code, "http_status": http_status, "times": None}).encode()
        status, fault = post(url, body, {"Content-Type": "application/json"})
        if status != 201:
            raise RuntimeError(f"the simulator refused the fault: {status} {fault}")
        time.sleep(seconds)
        with urllib.request.urlopen(url, timeout=10) as response:
            faults = json.loads(response.read())["faults"]
        urllib.request.urlopen(urllib.request.Request(url, method="DELETE"), timeout=10).close()
        failed = sum(f["triggered"] for f in faults if f["id"] == fault["id"])
        return f"{failed} sends answered {http_status} ({code}) in {seconds:.0f} s"

    return action


def crash(part: str, queue: str, down_seconds: float, wait: float = 15.0) -> FaultAction:
    """SIGKILL `part` as soon as a batch of `queue` is in flight in it (abandoned: it comes back
    after the visibility timeout), start it again `down_seconds` later."""

    def action(stack: FaultStack) -> str:
        deadline = time.monotonic() + wait
        while (in_flight := stack.in_flight(queue)) == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        stack.kill(part)
        time.sleep(down_seconds)
        stack.restart(part)
        return f"killed with {in_flight} {queue} messages in flight"

    return action


def aws_outage(seconds: float) -> FaultAction:
    """The AWS emulator unreachable (connections reset) for `seconds`."""

    def action(stack: FaultStack) -> str:
        before = stack.proxy.refused
        stack.proxy.outage(seconds)
        return f"{stack.proxy.refused - before} connections refused in {seconds:.0f} s"

    return action


def redis_down(seconds: float) -> FaultAction:
    """redis-server killed (its data gone: it keeps none on disk) and started `seconds` later."""

    def action(stack: FaultStack) -> str:
        stack.kill("redis")
        time.sleep(seconds)
        stack.restart("redis")
        return f"redis-server down {seconds:.0f} s, restarted empty"

    return action


class _Hang(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # an OpenAI-compatible server that never answers in time
        time.sleep(120)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        return


def model_timeouts(seconds: float) -> FaultAction:
    """ai_processing restarted on an OpenAI-compatible endpoint that hangs: every model call
    times out for `seconds`, then it is restarted on the local provider again."""

    def action(stack: FaultStack) -> str:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Hang)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        hanging = {
            "LLM_PROVIDER": "openai",
            "OPENAI_BASE_URL": f"http://127.0.0.1:{server.server_address[1]}/v1",
            "MODEL_TIMEOUT_SECONDS": "2",
            "MODEL_RETRY_BUDGET_SECONDS": "4",
        }
        try:
            stack.restart("ai_processing", hanging)
            time.sleep(seconds)
            stack.restart("ai_processing")
        finally:
            server.shutdown()
            server.server_close()
        return f"every model call hung for {seconds:.0f} s (2 s model timeout)"

    return action
