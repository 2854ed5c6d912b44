"""What the hand-off tests share: events to deliver, and probes that see what the service sent
(the outbound queue, the conversation-events topic, the human-agents topic, SES, the CRM jobs)."""

from __future__ import annotations

import json
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3

from infra.local.probes import subscribe_probe_queue

PNID = "100000000000001"
OUTBOUND_QUEUE = "parley-local-outbound.fifo"
ESCALATION_QUEUE = "parley-local-escalation.fifo"
AGENTS_TOPIC = "parley-local-human-agents"
HEADERS = {
    "x-api-key": "local-parley-api-key",
    "x-agent-id": "ana",
    "x-agent-name": "Ana",
    "content-type": "application/json",
}


def new_customer() -> str:
    return "1555" + "".join(random.choices("0123456789", k=8))


def event(event_type: str, wa_id: str, payload: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "event_id": extra.pop("event_id", uuid.uuid4().hex),
        "type": event_type,
        "conversation": f"{PNID}:{wa_id}",
        "occurred_at": extra.pop("occurred_at", datetime.now(UTC).isoformat()),
        "producer": extra.pop("producer", "test"),
        "payload": payload,
    }


def handoff_requested(wa_id: str, **payload: Any) -> dict[str, Any]:
    body = {"reason": "customer_request", "language": "es", **payload}
    return event("handoff.requested", wa_id, body)


def message(wa_id: str, text: str) -> dict[str, Any]:
    return event(
        "message.received",
        wa_id,
        {
            "channel": "meta",
            "business_phone_number_id": PNID,
            "wa_id": wa_id,
            "message_id": f"wamid.{uuid.uuid4().hex}",
            "kind": "text",
            "text": text,
            "sent_at": datetime.now(UTC).isoformat(),
        },
    )


def sqs() -> Any:
    return boto3.client("sqs")


def queue_url(name: str) -> str:
    return str(sqs().get_queue_url(QueueName=name)["QueueUrl"])


def take(url: str, wait: float = 0.5) -> list[dict[str, Any]]:
    """Every message now on the queue (bodies parsed, attributes kept), deleted as read."""
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + wait
    while True:
        got = (
            sqs()
            .receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                MessageAttributeNames=["All"],
                AttributeNames=["All"],
            )
            .get("Messages", [])
        )
        for m in got:
            body = json.loads(m["Body"])
            found.append({"body": body, "attributes": m.get("MessageAttributes", {}), **m})
            sqs().delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        if not got and time.monotonic() >= deadline:
            return found
        if not got:
            time.sleep(0.05)


@dataclass
class Probes:
    """Queues of the test's own that see what the service published."""

    events: str  # conversation-events topic: handoff.*, agent.message
    agents: str  # human-agents topic

    @classmethod
    def create(cls) -> Probes:
        sns = boto3.client("sns")
        suffix = uuid.uuid4().hex[:8]
        events = subscribe_probe_queue(
            sqs(),
            sns,
            f"probe-esc-{suffix}.fifo",
            ["handoff.requested", "handoff.accepted", "handoff.resolved", "agent.message"],
        )
        agents = str(sqs().create_queue(QueueName=f"probe-agents-{suffix}")["QueueUrl"])
        arn = sqs().get_queue_attributes(QueueUrl=agents, AttributeNames=["QueueArn"])
        topic = next(
            t["TopicArn"]
            for t in sns.list_topics()["Topics"]
            if t["TopicArn"].endswith(f":{AGENTS_TOPIC}")
        )
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn["Attributes"]["QueueArn"])
        return cls(events, agents)

    def events_of(self, event_type: str, wait: float = 0.5) -> list[dict[str, Any]]:
        return [m["body"] for m in take(self.events, wait) if m["body"]["type"] == event_type]

    def notifications(self, wait: float = 0.5) -> list[dict[str, Any]]:
        """human-agents messages: (the SNS envelope's) message and attributes."""
        found = []
        for m in take(self.agents, wait):
            envelope = m["body"]
            attributes = {k: v["Value"] for k, v in envelope["MessageAttributes"].items()}
            found.append({"message": json.loads(envelope["Message"]), "attributes": attributes})
        return found


def outbound_replies(wa_id: str) -> list[dict[str, Any]]:
    """reply.requested payloads for the customer now on the outbound queue."""
    return [
        m["body"]["payload"]
        for m in take(queue_url(OUTBOUND_QUEUE))
        if m["body"]["type"] == "reply.requested" and m["body"]["payload"]["to"] == wa_id
    ]


def crm_jobs(wa_id: str) -> list[dict[str, Any]]:
    """crm.sync events for the customer's conversation now on the escalation queue."""
    return [
        {**m["body"], "group": m["Attributes"]["MessageGroupId"]}
        for m in take(queue_url(ESCALATION_QUEUE))
        if m["body"]["type"] == "crm.sync" and m["body"]["conversation"].endswith(wa_id)
    ]


def sent_emails(endpoint: str) -> list[dict[str, Any]]:
    import urllib.request

    with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=5) as got:
        data = json.load(got)
    return list(data.get("ses", {}).get("Message", []))
