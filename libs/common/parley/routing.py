"""Which event types reach which service queue through the `conversation-events` topic.

The infra template's subscription filter policies are checked against this table by a test, so
the routing in CloudFormation, in the local emulator and in the code is the same.
"""

from __future__ import annotations

EVENT_TYPE_ATTRIBUTE = "event_type"
"""SNS message attribute the filter policies match on."""

TOPIC_SUBSCRIPTIONS: dict[str, tuple[str, ...]] = {
    # queue logical name -> event types delivered to it from the topic
    "context": (
        "message.received",
        "media.processed",
        "turn.completed",
        "message.status",
        "handoff.requested",
        "handoff.accepted",
        "handoff.resolved",
        "agent.message",
    ),
    # Escalation reads what a customer writes (signals) and the hand-off lifecycle; not statuses,
    # turns or media results, so an ordinary message costs it one delivery.
    "escalation": (
        "message.received",
        "handoff.requested",
        "session.closed",
        "customer.erased",
    ),
    "media": ("customer.erased",),
    # The sender pauses the bot's replies while people have the conversation.
    "outbound": ("handoff.requested", "handoff.accepted", "handoff.resolved", "customer.erased"),
}

QUEUE_CONSUMERS: dict[str, str] = {
    # queue logical name -> the service that consumes it
    "turns": "ai_processing",
    "media": "media",
    "outbound": "ingestion",
    "context": "context",
    "escalation": "escalation",
    "kb-events": "ai_processing",
}

CONSUMER_TIMEOUT_SECONDS: dict[str, int] = {
    # queue logical name -> Lambda timeout of its consumer; visibility timeout is 6x this
    "turns": 60,
    "media": 120,
    "outbound": 30,
    "context": 30,
    "escalation": 30,
    "kb-events": 300,
}

MAX_RECEIVE_COUNT = 5
