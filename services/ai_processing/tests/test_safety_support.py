"""Helpers of the safety tests (it holds no tests): an OpenAI-compatible server that plays a model
copying what it reads into its tool calls, and the simulator's business API on a loopback port."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Body = dict[str, Any]

APPLICATION_ID = re.compile(r"NB-\d{4}-\d{4}")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
CLOCK = re.compile(r"\b\d{1,2}:\d{2}\b")
PLACEHOLDER = re.compile(r"\[[A-Z_]+_\d+\]")


def copying_model(body: Body) -> Body:
    """A model that copies: from the customer's message, the application id it sees (status), or
    the date, time and phone placeholder it sees (visit); from tool results, their fields."""
    messages = body["messages"]
    if messages[-1]["role"] == "tool":
        return _completion(text=_from_results(messages))
    text = next(m["content"] for m in reversed(messages) if m["role"] == "user")
    offered = {t["function"]["name"] for t in body.get("tools", [])}
    found = APPLICATION_ID.search(text)
    if found and "get_application_status" in offered:
        return _completion(calls=[("get_application_status", {"application_id": found.group(0)})])
    day, clock = ISO_DATE.search(text), CLOCK.search(text)
    if day and clock and "book_campus_visit" in offered:
        arguments: dict[str, Any] = {"date": day.group(0), "time": clock.group(0)}
        phone = PLACEHOLDER.search(text)
        if phone:
            arguments["contact_phone"] = phone.group(0)
        return _completion(calls=[("book_campus_visit", arguments)])
    return _completion(text="I could not find what you need.")


def _from_results(messages: list[Body]) -> str:
    result = json.loads(messages[-1]["content"])
    if result.get("booked"):
        reminders = (
            f" Reminders go to {result['reminders_to']}." if "reminders_to" in result else ""
        )
        return f"Booked: {result['confirmation_code']} on {result['date']}.{reminders}"
    if result.get("found"):
        return f"Application {result['application_id']}: {result['stage']} ({result['program']})."
    return "That did not work."


def _completion(text: str | None = None, calls: list[tuple[str, Body]] | None = None) -> Body:
    tool_calls = [
        {"id": f"call_{i}", "type": "function", "function": {"name": n, "arguments": json.dumps(a)}}
        for i, (n, a) in enumerate(calls or [])
    ]
    message: Body = {"role": "assistant", "content": text}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {
        "model": "copying",
        "choices": [{"message": message, "finish_reason": "tool_calls" if calls else "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5},
    }


class ModelServer:
    """An OpenAI-compatible `/v1/chat/completions` on a loopback port: records every request body
    and answers with `respond(body)`."""

    def __init__(self, respond: Callable[[Body], Body]) -> None:
        self.bodies: list[Body] = []
        self.raw: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                server.raw.append(raw)
                server.bodies.append(json.loads(raw))
                data = json.dumps(respond(server.bodies[-1])).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def business_api() -> Iterator[str]:
    """The simulator's business API (only it) served on a loopback port; yields the status URL."""
    from flask import Flask
    from werkzeug.serving import make_server

    from infra.local.simulator import business_api as api

    app = Flask("business_api")
    app.register_blueprint(api.bp)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/_business/applications"
    finally:
        server.shutdown()
