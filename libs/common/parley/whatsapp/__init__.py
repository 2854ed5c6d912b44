"""WhatsApp (Meta Cloud API) models and clients shared by the services.

| module | what it is |
|---|---|
| `webhook` | the webhook POST body as tolerant pydantic models (`Value`, `Message`, `Status`) |
| `graph` | the Graph API transport (dicts in, dicts out, one place that raises) |
| `meta_errors` | Meta's error codes and what a sender does about each |
| `ids` | ids that go into URL paths: validated (`phone_number_id`) and escaped (`url_path`) |

The webhook models are re-exported lazily, so `import parley.whatsapp` costs nothing until a
name is used.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Notification": "webhook",
    "Entry": "webhook",
    "Change": "webhook",
    "Value": "webhook",
    "Message": "webhook",
    "Status": "webhook",
    "WebhookError": "webhook",
    "MEDIA_TYPES": "webhook",
    "WHATSAPP_OBJECT": "webhook",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
