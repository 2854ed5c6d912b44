"""Build the simulator Flask app, and run it in a background thread (for tests and `make run`)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, Response, jsonify
from werkzeug.serving import BaseWSGIServer, make_server

from . import business_api, control, crm, customer, graph, media_api, twilio_api
from .config import SimConfig
from .statuses import Scheduler, StatusEngine
from .store import State

STATIC = Path(__file__).resolve().parent / "static"


def create_app(config: SimConfig | None = None) -> Flask:
    """The WhatsApp simulator: fake Graph API, customer webhooks, chat page, controls."""
    config = config or SimConfig()
    app = Flask(__name__, static_folder=str(STATIC), static_url_path="/_sim/static")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    state = State(config.max_recorded_requests)
    scheduler = Scheduler()
    app.extensions.update(
        sim_config=config,
        sim_state=state,
        sim_scheduler=scheduler,
        sim_engine=StatusEngine(config, state, scheduler),
    )
    graph.register(app)
    app.register_blueprint(customer.bp)
    app.register_blueprint(control.bp)
    twilio_api.register(app)
    media_api.register(app)  # after twilio_api: Twilio media reuses its credentials
    app.register_blueprint(business_api.bp)
    crm.register(app)

    @app.get("/_sim/health")
    def health() -> Response:
        return jsonify(ok=True, webhook_url=config.webhook_url)

    return app


def shutdown_app(app: Flask) -> None:
    """Stop the status worker and end open SSE streams."""
    app.extensions["sim_scheduler"].stop()
    app.extensions["sim_state"].broker.close_all()


@dataclass
class RunningSimulator:
    app: Flask
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://{self.server.host}:{self.server.port}"

    @property
    def config(self) -> SimConfig:
        config: SimConfig = self.app.extensions["sim_config"]
        return config

    @property
    def graph_url(self) -> str:
        return f"{self.url}/{self.config.graph_version}"

    def stop(self) -> None:
        shutdown_app(self.app)
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start_in_thread(
    config: SimConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> RunningSimulator:
    """Serve the simulator on host:port (0 = a free port) in a daemon thread."""
    app = create_app(config)
    server = make_server(host, port, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="whatsapp-simulator", daemon=True
    )
    thread.start()
    return RunningSimulator(app, server, thread)
