"""Inbound WhatsApp: webhooks in, normalised events out (exactly once), feedback and rate limit.

| module | what it is |
|---|---|
| `meta` | the Meta webhook routes: verification handshake, size, signature, JSON, dispatch |
| `normalize` | `normalize_change_value(value, channel)`: a Meta `value` -> events |
| `processor` | `InboundProcessor.process(events)`: dedupe, window, opt-out, limit, publish |
| `rate_limit` | `RedisTokenBucket`: per-sender token bucket, one notice per window, fails open |
| `keywords` | STOP/BAJA, START/ALTA |
| `ports` | the Protocols the above depend on |

Imported lazily by app.py's routes (pydantic models cost cold start).
"""

from chalicelib.inbound.meta import MetaWebhook, verify_signature
from chalicelib.inbound.normalize import InboundEvent, event_id, normalize_change_value
from chalicelib.inbound.processor import InboundNotProcessed, InboundProcessor, Outcome
from chalicelib.inbound.rate_limit import NoRateLimit, RedisTokenBucket

__all__ = [
    "InboundEvent",
    "InboundNotProcessed",
    "InboundProcessor",
    "MetaWebhook",
    "NoRateLimit",
    "Outcome",
    "RedisTokenBucket",
    "event_id",
    "normalize_change_value",
    "verify_signature",
]
