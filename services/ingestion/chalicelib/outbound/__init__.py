"""The outbound half of the WhatsApp gateway: the sender (consumer of outbound.fifo).

`build_sender(runtime).handle(event)` sends one `reply.requested` job; `ChannelRegistry` picks the
channel per business number; `reengagement_reply` is the job that answers a 131047 failure.
"""

from chalicelib.outbound.build import build_sender, rate_limiter
from chalicelib.outbound.messages import build_bodies, reengagement_reply
from chalicelib.outbound.pacing import (
    FallbackRateLimiter,
    LocalRateLimiter,
    Pacer,
    RateLimiter,
    RedisRateLimiter,
)
from chalicelib.outbound.registry import ChannelRegistry
from chalicelib.outbound.retry import RetryPolicy
from chalicelib.outbound.sender import Sender, as_reply_event

__all__ = [
    "ChannelRegistry",
    "FallbackRateLimiter",
    "LocalRateLimiter",
    "Pacer",
    "RateLimiter",
    "RedisRateLimiter",
    "RetryPolicy",
    "Sender",
    "as_reply_event",
    "build_bodies",
    "build_sender",
    "rate_limiter",
    "reengagement_reply",
]
