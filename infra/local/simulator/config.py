"""Simulator configuration: defaults come from `infra/local/ports.py` and `dev_secrets.json`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.local import ports

_SECRETS_FILE = Path(__file__).resolve().parent.parent / "dev_secrets.json"


def _dev_whatsapp_secrets() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_SECRETS_FILE.read_text(encoding="utf-8"))
    whatsapp: dict[str, Any] = data["whatsapp"]
    return whatsapp


def default_webhook_url() -> str:
    return f"http://127.0.0.1:{ports.SERVICES['ingestion']}/webhooks/meta"


@dataclass
class SimConfig:
    """Everything the simulator needs; every field has a local-development default."""

    webhook_url: str = field(default_factory=default_webhook_url)
    app_secret: str = field(default_factory=lambda: str(_dev_whatsapp_secrets()["app_secret"]))
    access_token: str = field(default_factory=lambda: str(_dev_whatsapp_secrets()["access_token"]))
    phone_number_id: str = ports.DEMO_PHONE_NUMBER_ID
    display_number: str = ports.DEMO_DISPLAY_NUMBER
    waba_id: str = ports.DEMO_WABA_ID
    graph_version: str = ports.GRAPH_API_VERSION
    business_name: str = "Parley Demo"
    default_customer_name: str = "Alex Demo"
    default_customer_number: str = "15551234567"
    # Status webhooks: `sent` after sent_delay, `delivered` delivered_delay later; `read` when the
    # chat page shows the message, or auto_read_delay after delivery when no page is open
    # (None: never read automatically).
    sent_delay: float = 0.05
    delivered_delay: float = 0.15
    auto_read_delay: float | None = 1.0
    typing_timeout: float = 25.0
    webhook_timeout: float = 10.0
    max_recorded_requests: int = 5000
