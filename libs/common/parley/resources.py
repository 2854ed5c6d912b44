"""Names of the shared AWS resources, derived from one prefix and the stage.

`infra/template.yaml` builds every name with the same rule (`${Prefix}-${Stage}-<logical>`), so the
services, the local provisioner and CloudFormation agree without a lookup table.
"""

from __future__ import annotations

from dataclasses import dataclass

QUEUES: tuple[str, ...] = ("turns", "media", "outbound", "context", "escalation")
"""FIFO work queues; each has a `<name>-dlq.fifo` dead-letter queue."""
KB_EVENTS_QUEUE = "kb-events"
"""Standard queue fed by the knowledge-base bucket's object notifications."""
EVENTS_TOPIC = "conversation-events"
STANDARD_TOPICS: tuple[str, ...] = ("human-agents", "eum-inbound")
TABLES: tuple[str, ...] = ("wa-messages", "conversations", "sessions", "handoffs", "idempotency")
BUCKETS: tuple[str, ...] = ("media", "knowledge-base", "event-payloads")
SECRETS: tuple[str, ...] = ("whatsapp", "twilio", "crm", "log-salt")


@dataclass(frozen=True)
class ResourceNames:
    """Physical names for one deployment (prefix + stage)."""

    stage: str
    prefix: str = "parley"

    @property
    def base(self) -> str:
        return f"{self.prefix}-{self.stage}"

    def queue(self, name: str) -> str:
        if name == KB_EVENTS_QUEUE:
            return f"{self.base}-{name}"
        return f"{self.base}-{name}.fifo"

    def dlq(self, name: str) -> str:
        if name == KB_EVENTS_QUEUE:
            return f"{self.base}-{name}-dlq"
        return f"{self.base}-{name}-dlq.fifo"

    def topic(self, name: str) -> str:
        return f"{self.base}-{name}.fifo" if name == EVENTS_TOPIC else f"{self.base}-{name}"

    def table(self, name: str) -> str:
        return f"{self.base}-{name}"

    def bucket(self, name: str) -> str:
        return f"{self.base}-{name}"

    def secret(self, name: str) -> str:
        return f"{self.prefix}/{self.stage}/{name}"


def configured_name(variable: str, kind: str, logical: str) -> str:
    """A resource name for an event-source decorator, read when app.py is imported.

    `chalice deploy/package/local` set the stage's variables before importing app.py; the test
    client does not, so fall back to the naming rule for `PARLEY_STAGE` (default `local`).
    """
    import os

    value = os.environ.get(variable)
    if value:
        return value
    names = ResourceNames(
        stage=os.environ.get("PARLEY_STAGE", "local"),
        prefix=os.environ.get("PARLEY_PREFIX", "parley"),
    )
    build = {"queue": names.queue, "topic": names.topic, "bucket": names.bucket}[kind]
    return build(logical)
