"""What the inbound path depends on, as Protocols: the real adapters (`WaMessagesStore`,
`TopicPublisher`, `QueueSender`, `RedisTokenBucket`) and test or benchmark fakes both fit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from parley.errors import Conflict

if TYPE_CHECKING:
    from chalicelib.store import TrackedMessage
    from parley.events import EventBase


class MessageInProgress(Conflict):
    """Another invocation holds the message's claim: Meta is asked to retry later (503)."""

    code = "message_in_progress"
    http_status = 503
    message_is_public = True


class InboundStore(Protocol):
    """The part of the `wa-messages` table the inbound path uses."""

    def claim_message(self, wamid: str) -> bool:
        """True to process, False for a duplicate; MessageInProgress while another holds it."""
        ...

    def complete_message(self, wamid: str) -> None: ...

    def release_message(self, wamid: str) -> None: ...

    def advance_status(self, wamid: str, status: str, at: float) -> TrackedMessage | None: ...

    def reconcile_send(self, request_id: str, wamid: str, conversation: str, wa_id: str) -> bool:
        """Confirm an outbox attempt from a status webhook naming its request id."""
        ...

    def record_inbound(
        self, phone_number_id: str, wa_id: str, at: float, profile_name: str | None
    ) -> None: ...

    def set_opt_out(self, phone_number_id: str, wa_id: str, opted_out: bool) -> None: ...

    def mark_template_fallback(self, wamid: str) -> bool: ...

    def clear_template_fallback(self, wamid: str) -> None: ...


class EventPublisher(Protocol):
    """The `conversation-events` topic."""

    def publish(self, event: EventBase) -> str: ...


class EventSender(Protocol):
    """One SQS queue (outbound.fifo, media.fifo)."""

    def send(self, event: EventBase) -> str: ...


@dataclass(frozen=True)
class Verdict:
    """A rate-limit decision: forward the message or not, and whether to tell the sender now."""

    allowed: bool
    notify: bool = False


ALLOW = Verdict(allowed=True)


class RateLimiter(Protocol):
    def check(self, sender: str) -> Verdict: ...
