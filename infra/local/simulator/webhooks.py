"""Meta webhook payloads (reference §1), their signature and delivery to the webhook URL."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import requests

from .config import SimConfig
from .store import State

Json = dict[str, Any]


def now_ts() -> str:
    return str(int(time.time()))


def sign(app_secret: str, raw: bytes) -> str:
    """The `X-Hub-Signature-256` header value for these exact bytes."""
    digest = hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def encode(payload: Json) -> bytes:
    """Serialise like Meta: compact JSON with non-ASCII escaped (`\\u00e9`)."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def envelope(config: SimConfig, value: Json) -> Json:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": config.waba_id,
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": config.display_number,
                                "phone_number_id": config.phone_number_id,
                            },
                            **value,
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }


def message_payload(config: SimConfig, name: str, message: Json) -> Json:
    """A customer message webhook (`value.contacts` + `value.messages`)."""
    contact = {"profile": {"name": name}, "wa_id": message["from"]}
    return envelope(config, {"contacts": [contact], "messages": [message]})


def status_payload(config: SimConfig, status: Json) -> Json:
    return envelope(config, {"statuses": [status]})


def deliver(config: SimConfig, state: State, payload: Json, label: str) -> Json:
    """POST a signed webhook; returns {status, error, response} and records the attempt."""
    raw = encode(payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "facebookexternalua",
        "X-Hub-Signature-256": sign(config.app_secret, raw),
    }
    result: Json = {"label": label, "url": config.webhook_url, "time": time.time()}
    try:
        response = requests.post(
            config.webhook_url, data=raw, headers=headers, timeout=config.webhook_timeout
        )
        result.update(status=response.status_code, error=None, response=response.text[:500])
        if response.status_code >= 300:
            result["error"] = f"webhook answered HTTP {response.status_code}"
    except requests.ConnectionError:
        error = f"ConnectionError: nothing accepted the connection at {config.webhook_url}"
        result.update(status=None, error=error, response=None)
    except requests.RequestException as exc:
        result.update(status=None, error=f"{type(exc).__name__}: {exc}"[:300], response=None)
    result["ok"] = result["error"] is None
    state.record_webhook({**result, "payload": payload})
    if not result["ok"]:
        state.broker.publish("webhook_error", {k: v for k, v in result.items() if k != "time"})
    return result
