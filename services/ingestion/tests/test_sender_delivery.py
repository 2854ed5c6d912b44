"""The sender against the WhatsApp simulator (fake Graph API), moto (SQS, DynamoDB, SNS, Secrets
Manager) and a real redis-server, driven through the real SQS consumer path (the app's handler).

The fixtures and helpers here are shared with test_sender_pacing.py.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
import pytest
import requests
from chalice.test import Client

from infra.local.simulator import RunningSimulator, SimConfig, start_in_thread
from parley.errors import BatchIncomplete

if TYPE_CHECKING:
    from infra.local.service_contract import Service

# The contract's fixtures (moto provisioned from infra/template.yaml, redis, the app's `service`);
# its helpers are imported where used, after pytest has loaded it as a plugin.
pytest_plugins = ["infra.local.service_contract"]

PNID = "100000000000001"  # the simulator's business number, configured for the `local` stage
CONTEXT_QUEUE = "parley-local-context.fifo"  # receives message.status from the events topic


@pytest.fixture(scope="module")
def sim() -> Iterator[RunningSimulator]:
    # No status webhooks during these tests (nothing listens): `sent` would come after an hour.
    config = SimConfig(webhook_url="http://127.0.0.1:9/none", sent_delay=3600, auto_read_delay=None)
    running = start_in_thread(config)
    yield running
    running.stop()


@dataclass
class Outbound:
    """The sender under test, and what it did (as the simulator and the queues saw it)."""

    sim: RunningSimulator
    service: Service
    client: Client

    def customer(self, *, window: bool = True, opted_out: bool = False) -> str:
        """A fresh customer (own pacing counters); `window`: wrote to us a minute ago."""
        from chalicelib.store import WaMessagesStore

        wa_id = "1555" + "".join(random.choices("0123456789", k=8))
        store = WaMessagesStore("parley-local-wa-messages")
        if window:
            store.record_inbound(PNID, wa_id, time.time() - 60, "Test Customer")
        if opted_out:
            store.set_opt_out(PNID, wa_id, True)
        return wa_id

    def send(self, *payloads: dict[str, Any]) -> dict[str, Any]:
        """Queue reply.requested jobs and run the app's SQS handler on them, as Lambda would."""
        from infra.local.service_contract import deliver

        result: dict[str, Any] = deliver(self.client, self.service, [job(p) for p in payloads])
        return result

    def requests(self, to: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
        params = {k: v for k, v in (("to", to), ("kind", kind)) if v}
        answer = requests.get(f"{self.sim.url}/_sim/requests", params=params, timeout=5)
        found: list[dict[str, Any]] = answer.json()["requests"]
        return [r for r in found if r["path"].endswith("/messages")]

    def bodies(self, to: str) -> list[dict[str, Any]]:
        """Bodies Meta accepted, without the request id every message carries for reconciling
        (biz_opaque_callback_data: test_sender_outbox.py)."""
        found = [dict(r["body"]) for r in self.requests(to) if r["status"] == 200]
        for body in found:
            if "to" in body:  # a message, not a read receipt or typing indicator
                assert body.pop("biz_opaque_callback_data")
        return found

    def fault(self, wa_id: str, code: int | None = None, **spec: Any) -> None:
        body = {"recipient": wa_id, "code": code, **spec}
        answer = requests.post(f"{self.sim.url}/_sim/faults", json=body, timeout=5)
        assert answer.status_code == 201, answer.text

    def upload_media(self) -> str:
        answer = requests.post(
            f"{self.sim.graph_url}/{PNID}/media",
            headers={"Authorization": f"Bearer {self.sim.config.access_token}"},
            data={"messaging_product": "whatsapp", "type": "image/png"},
            files={"file": ("p.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png")},
            timeout=5,
        )
        media_id: str = answer.json()["id"]
        return media_id

    def on_the_queue(self) -> int:
        """Messages of the outbound queue not deleted (in flight after the handler ran)."""
        sqs = boto3.client("sqs")
        url = sqs.get_queue_url(QueueName=self.service.queue)["QueueUrl"]
        attributes = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(value) for value in attributes.values())

    def in_flight(self) -> list[dict[str, Any]]:
        """What this test received and the handler left on the queue, received again."""
        from infra.local.service_contract import _IN_FLIGHT

        sqs = boto3.client("sqs")
        url = sqs.get_queue_url(QueueName=self.service.queue)["QueueUrl"]
        handles = [handle for queue_url, handle in _IN_FLIGHT if queue_url == url]
        entries = [
            {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0}
            for i, handle in enumerate(handles)
        ]
        sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)  # deleted ones fail
        got: list[dict[str, Any]] = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", [])
        _IN_FLIGHT.extend((url, m["ReceiptHandle"]) for m in got)  # deleted at teardown
        return got

    def parked(self) -> list[dict[str, Any]]:
        from infra.local.service_contract import dlq_messages

        return dlq_messages(self.service)

    def statuses(self) -> list[dict[str, Any]]:
        """message.status events published since the test started (context.fifo gets them)."""
        sqs = boto3.client("sqs")
        url = sqs.get_queue_url(QueueName=CONTEXT_QUEUE)["QueueUrl"]
        found: list[dict[str, Any]] = []
        while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            for message in got:
                event = json.loads(message["Body"])
                if event.get("type") == "message.status":
                    found.append(event)
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return found


@pytest.fixture
def outbound(
    service: Service, client: Client, sim: RunningSimulator, monkeypatch: pytest.MonkeyPatch
) -> Outbound:
    from chalicelib.wiring import runtime
    from infra.local.service_contract import drain

    requests.post(f"{sim.url}/_sim/reset", timeout=5)
    monkeypatch.setenv("WHATSAPP_GRAPH_URL", sim.url)
    monkeypatch.setenv("RECIPIENT_MESSAGES_PER_6S", "45")  # the pair limit has its own test
    runtime.reset()
    drain(CONTEXT_QUEUE)
    return Outbound(sim, service, client)


def job(payload: dict[str, Any], event_id: str | None = None) -> str:
    """A reply.requested event for `payload` (needs `to`; request_id and kind have defaults)."""
    full = {"request_id": uuid.uuid4().hex, "kind": "text", **payload}
    return json.dumps(
        {
            "event_id": event_id or uuid.uuid4().hex,
            "type": "reply.requested",
            "conversation": f"{PNID}:{full['to']}",
            "occurred_at": datetime.now(UTC).isoformat(),
            "producer": "test",
            "payload": full,
        }
    )


def envelope(to: str) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}


def parked_reason(service: Service) -> tuple[str, str]:
    from infra.local.service_contract import dlq_messages

    [parked] = dlq_messages(service)
    attributes = parked["MessageAttributes"]
    return attributes["failure_code"]["StringValue"], attributes["failure_reason"]["StringValue"]


OK: dict[str, Any] = {"batchItemFailures": []}

# --- 24 h window and opt-out -------------------------------------------------------------


@pytest.mark.parametrize("known", [True, False], ids=["window-expired", "unknown-contact"])
def test_outside_the_window_the_number_fallback_template_is_sent_instead(
    outbound: Outbound, known: bool
) -> None:
    from chalicelib.store import WaMessagesStore

    wa_id = outbound.customer(window=False)
    if known:
        WaMessagesStore("parley-local-wa-messages").record_inbound(
            PNID, wa_id, time.time() - 25 * 3600, None
        )
    assert outbound.send({"to": wa_id, "text": "Your answer is ready"}) == OK
    template = {"name": "parley_reengage", "language": {"code": "en_US"}}
    assert outbound.bodies(wa_id) == [{**envelope(wa_id), "type": "template", "template": template}]


def test_opted_out_customer_receives_only_system_confirmations(outbound: Outbound) -> None:
    wa_id = outbound.customer(opted_out=True)
    assert outbound.send({"to": wa_id, "text": "bot reply"}) == OK
    assert outbound.send({"to": wa_id, "kind": "typing", "reply_to": "wamid.IN4"}) == OK
    assert outbound.bodies(wa_id) == []
    assert outbound.send({"to": wa_id, "text": "You will get no more messages", "origin": "system"})
    assert [b["text"]["body"] for b in outbound.bodies(wa_id)] == ["You will get no more messages"]


# --- errors by Meta code -----------------------------------------------------------------------


def test_rate_limit_130429_is_retried_with_backoff_and_delivered(outbound: Outbound) -> None:
    wa_id = outbound.customer()
    outbound.fault(wa_id, 130429, times=2)
    assert outbound.send({"to": wa_id, "text": "hello"}) == OK
    assert [r["status"] for r in outbound.requests(wa_id)] == [429, 429, 200]
    assert len(outbound.statuses()) == 1


@pytest.mark.parametrize(("code", "http_status"), [(131000, None), (131016, None), (None, 500)])
def test_transient_errors_are_retried_and_delivered(
    outbound: Outbound, code: int | None, http_status: int | None
) -> None:
    wa_id = outbound.customer()
    outbound.fault(wa_id, code, http_status=http_status, times=1)
    assert outbound.send({"to": wa_id, "text": "hello"}) == OK
    assert [r["status"] >= 400 for r in outbound.requests(wa_id)] == [True, False]


def test_retries_are_bounded_then_sqs_redelivers_the_job(
    outbound: Outbound, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.wiring import runtime

    monkeypatch.setenv("SEND_MAX_ATTEMPTS", "3")
    runtime.reset()
    wa_id = outbound.customer()
    outbound.fault(wa_id, 130429, times=None)
    with pytest.raises(BatchIncomplete) as incomplete:
        outbound.send({"to": wa_id, "text": "hello"})
    assert len(incomplete.value.failed_ids) == 1  # raised: Lambda leaves it on the queue for SQS
    assert outbound.on_the_queue() == 1
    assert len(outbound.requests(wa_id)) == 3
    assert outbound.parked() == []


def test_a_retried_job_comes_back_alone_the_sent_one_is_deleted(outbound: Outbound) -> None:
    # Lambda deletes nothing when the handler raises (with or without ReportBatchItemFailures):
    # the job that was sent is deleted by the handler itself, so it is not sent twice.
    sent_to, failing = outbound.customer(), outbound.customer()
    outbound.fault(failing, 131000, times=None)
    with pytest.raises(BatchIncomplete) as incomplete:
        outbound.send({"to": sent_to, "text": "first"}, {"to": failing, "text": "second"})
    (failed_id,) = incomplete.value.failed_ids
    assert outbound.on_the_queue() == 1
    assert len(outbound.bodies(sent_to)) == 1
    assert outbound.parked() == []
    [left] = outbound.in_flight()
    assert left["MessageId"] == failed_id
    assert json.loads(left["Body"])["payload"]["to"] == failing


@pytest.mark.parametrize(
    ("code", "named"),
    [(131026, "not a WhatsApp user"), (131051, "not currently supported"), (132001, "not exist")],
)
def test_permanent_meta_error_is_parked_in_the_dlq_with_code_and_details_not_retried(
    outbound: Outbound, code: int, named: str
) -> None:
    wa_id = outbound.customer()
    outbound.fault(wa_id, code, times=1)
    assert outbound.send({"to": wa_id, "text": "hello"}) == OK
    assert len(outbound.requests(wa_id)) == 1
    failure_code, reason = parked_reason(outbound.service)
    assert failure_code == "whatsapp_api_error"
    assert f"WhatsApp error {code}" in reason and named in reason
    assert outbound.statuses() == []


def test_reengagement_error_131047_sends_the_template_instead(outbound: Outbound) -> None:
    from chalicelib.store import WaMessagesStore

    wa_id, request_id = outbound.customer(), uuid.uuid4().hex  # our window says open; Meta not
    outbound.fault(wa_id, 131047, times=1)
    assert outbound.send({"to": wa_id, "request_id": request_id, "text": "hello"}) == OK
    requests_seen = outbound.requests(wa_id)
    assert [(r["body"]["type"], r["status"]) for r in requests_seen] == [
        ("text", 400),
        ("template", 200),
    ]
    wamid = requests_seen[1]["response"]["messages"][0]["id"]
    assert WaMessagesStore("parley-local-wa-messages").sent_wamid(request_id) == wamid


def test_reengagement_job_for_a_failed_status_sends_the_template_once(outbound: Outbound) -> None:
    from chalicelib.outbound import reengagement_reply
    from parley.settings import BusinessNumber

    wa_id = outbound.customer(window=False)
    reply = reengagement_reply(BusinessNumber(), wa_id, "wamid.FAILED1").model_dump(mode="json")
    assert outbound.send(reply) == OK
    assert outbound.send(reply) == OK  # the same failed status again
    assert [b["type"] for b in outbound.bodies(wa_id)] == ["template"]


# --- long text, limits, idempotency ---------------------------------------------------------


def test_text_over_4096_characters_is_split_at_sentences_and_sent_in_order(
    outbound: Outbound,
) -> None:
    wa_id = outbound.customer()
    sentences = [f"Sentence number {i} says something useful." for i in range(250)]
    text = " ".join(sentences)  # about 11,000 characters
    assert outbound.send({"to": wa_id, "text": text, "reply_to": "wamid.IN5"}) == OK
    bodies = outbound.bodies(wa_id)
    parts = [b["text"]["body"] for b in bodies]
    assert len(parts) == 3 and all(len(p) <= 4096 for p in parts)
    assert " ".join(parts) == text
    assert all(p.endswith(".") for p in parts)
    assert [("context" in b) for b in bodies] == [True, False, False]  # quote once
    assert len(outbound.statuses()) == 3


def test_a_redelivered_request_is_not_sent_twice(outbound: Outbound) -> None:
    wa_id, request_id = outbound.customer(), uuid.uuid4().hex
    payload = {"to": wa_id, "request_id": request_id, "text": "only once"}
    assert outbound.send(payload) == OK
    assert outbound.send(payload) == OK  # a new event id: the event dedupe does not catch it
    assert len(outbound.bodies(wa_id)) == 1


def test_customer_erased_deletes_the_contact_and_outbound_tracking(outbound: Outbound) -> None:
    from chalicelib.store import WaMessagesStore

    wa_id, request_id = outbound.customer(), uuid.uuid4().hex
    assert outbound.send({"to": wa_id, "request_id": request_id, "text": "hi"}) == OK
    erased = {
        "event_id": uuid.uuid4().hex,
        "type": "customer.erased",
        "conversation": f"{PNID}:{wa_id}",
        "producer": "test",
        "payload": {"wa_id": wa_id},
    }
    from infra.local.service_contract import deliver

    assert deliver(outbound.client, outbound.service, [json.dumps(erased)]) == OK
    store = WaMessagesStore("parley-local-wa-messages")
    assert store.get_contact(PNID, wa_id) is None
    assert store.sent_wamid(request_id) is None


def test_an_opt_out_outlives_the_customers_erasure(outbound: Outbound) -> None:
    from chalicelib.store import WaMessagesStore
    from infra.local.service_contract import deliver

    wa_id = outbound.customer(opted_out=True)
    erased = {
        "event_id": uuid.uuid4().hex,
        "type": "customer.erased",
        "conversation": f"{PNID}:{wa_id}",
        "producer": "test",
        "payload": {"wa_id": wa_id},
    }
    assert deliver(outbound.client, outbound.service, [json.dumps(erased)]) == OK

    contact = WaMessagesStore("parley-local-wa-messages").get_contact(PNID, wa_id)
    assert contact is not None and contact.opted_out
    assert (contact.profile_name, contact.last_inbound_at) == (None, None)  # nothing else kept
    assert outbound.send({"to": wa_id, "text": "bot reply"}) == OK
    assert outbound.bodies(wa_id) == []  # still never written to


# --- hand-off: the bot pauses while people have the conversation -------------------------------


def handoff_event(event_type: str, wa_id: str, at: datetime, **payload: Any) -> str:
    return json.dumps(
        {
            "event_id": uuid.uuid4().hex,
            "type": event_type,
            "conversation": f"{PNID}:{wa_id}",
            "occurred_at": at.isoformat(),
            "producer": "test",
            "payload": payload,
        }
    )


def test_ai_reply_in_flight_when_a_handoff_starts_never_reaches_the_customer(
    outbound: Outbound,
) -> None:
    wa_id = outbound.customer()
    started = datetime.now(UTC)
    requested = handoff_event("handoff.requested", wa_id, started, reason="customer_request")
    # The hand-off event reaches the sender first, the AI's reply (already on its way) after it.
    from infra.local.service_contract import deliver

    assert deliver(outbound.client, outbound.service, [requested]) == OK
    assert outbound.send({"to": wa_id, "text": "AI answer", "origin": "bot"}) == OK
    assert outbound.send({"to": wa_id, "text": "Una persona le atenderá", "origin": "system"})
    assert outbound.send({"to": wa_id, "text": "Hola, soy Ana", "origin": "agent"}) == OK
    texts = [b["text"]["body"] for b in outbound.bodies(wa_id)]
    assert texts == ["Una persona le atenderá", "Hola, soy Ana"]


def test_bot_answers_again_after_the_handoff_is_resolved_and_old_events_do_not_undo_it(
    outbound: Outbound,
) -> None:
    from infra.local.service_contract import deliver

    wa_id = outbound.customer()
    t0 = datetime.now(UTC)
    later = datetime.fromtimestamp(t0.timestamp() + 5, UTC)
    requested = handoff_event("handoff.requested", wa_id, t0, reason="customer_request")
    resolved = handoff_event("handoff.resolved", wa_id, later, handoff_id="ho_1")
    assert deliver(outbound.client, outbound.service, [requested, resolved]) == OK
    # A redelivered (older) request after the resolution must not pause the bot again.
    assert deliver(outbound.client, outbound.service, [requested]) == OK
    assert outbound.send({"to": wa_id, "text": "AI answer again", "origin": "bot"}) == OK
    assert [b["text"]["body"] for b in outbound.bodies(wa_id)] == ["AI answer again"]
