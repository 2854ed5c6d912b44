"""What escalation does with each customer message: decide whether a person is needed, and if
so publish `handoff.requested` (the desk then opens the hand-off when the event comes back).

An ordinary message costs no AWS call here besides its queue delivery: the offline analyser and
Redis decide (Comprehend, when configured, adds one call).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.handoffs.desk import EventPublisher, stable_id
from chalicelib.recent import RecentMessages
from parley.events import HandoffRequestedEvent, MessageReceivedEvent
from parley.logs import conversation_ref
from parley.payloads import HandoffRequested, HandoffSignal

PRODUCER = "escalation"
Decide = Callable[..., Any]  # chalicelib.signals.detector.decide, bound to policy and analyser


def message_text(event: MessageReceivedEvent) -> str | None:
    """What the customer wrote: text, a caption, a button's title."""
    p = event.payload
    if p.text:
        return p.text
    media = getattr(p, "media", None)
    caption = getattr(media, "caption", None) if media is not None else None
    if caption:
        return str(caption)
    interactive = getattr(p, "interactive", None)
    title = getattr(interactive, "title", None) if interactive is not None else None
    return str(title) if title else None


@dataclass
class Intake:
    decide: Decide
    recent: RecentMessages
    events: EventPublisher
    logger: Any

    def on_message(self, event: MessageReceivedEvent) -> HandoffRequestedEvent | None:
        text = message_text(event)
        if not text:
            return None
        earlier = self.recent.earlier(event.conversation)
        decision = self.decide(
            [text],
            earlier=earlier,
            language=None,
            wa_id=event.payload.wa_id,
        )
        self.recent.remember(event.conversation, [text])
        if not decision.escalate:
            return None
        request = self._request(event, decision)
        self.events.publish(request)
        self.logger.info(
            "person needed",
            extra={
                "conversation_ref": conversation_ref(event.conversation),
                "reason": decision.reason,
                "priority": decision.priority,
                "topic": decision.topic,
            },
        )
        return request

    @staticmethod
    def _request(event: MessageReceivedEvent, decision: Any) -> HandoffRequestedEvent:
        signals = [
            HandoffSignal(kind=s.kind, evidence="; ".join(s.evidence) or None, score=s.score)
            for s in decision.signals
        ]
        payload = HandoffRequested(
            reason=decision.reason,
            detail=f"detected in message {event.payload.message_id}",
            language=decision.language,
            priority=decision.priority,
            topic=decision.topic,
            signals=signals,
        )
        return HandoffRequestedEvent(
            event_id=stable_id("detected", event.event_id),
            conversation=event.conversation,
            producer=PRODUCER,
            trace=event.trace,
            payload=payload,
        )
