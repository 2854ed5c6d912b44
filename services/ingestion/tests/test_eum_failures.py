"""The EUM SNS handler as app.py wires it fails closed: an invalid notification is parked in
`eum-inbound-dlq` at once with its reason; a failure worth retrying is raised, so Lambda retries
the event and then keeps it in the function's on-failure destination (that same queue)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client
from inbound_support import CONTEXT_QUEUE, load, personalise, sqs, take
from test_inbound_entry_points import eum_notification

from infra.local.service_contract import Service
from parley.errors import StorageError

EUM_DLQ = "parley-local-eum-inbound-dlq"
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:parley-local-eum-inbound"


def sns_event(client: Client, message: str) -> dict[str, Any]:
    event: dict[str, Any] = client.events.generate_sns_event(message)
    event["Records"][0]["Sns"]["TopicArn"] = TOPIC_ARN  # the test client's default is another
    return event


def parked() -> list[dict[str, Any]]:
    url = sqs().get_queue_url(QueueName=EUM_DLQ)["QueueUrl"]
    found: list[dict[str, Any]] = []
    while True:
        answer = sqs().receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        )
        got = answer.get("Messages", [])
        if not got:
            return found
        for message in got:
            sqs().delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        found += got


@pytest.fixture
def eum_dlq(service: Service, queues: None) -> Iterator[None]:
    parked()
    yield


def test_invalid_notification_is_parked_at_once_with_its_reason(
    client: Client, eum_dlq: None
) -> None:
    client.lambda_.invoke("receive_eum_inbound", sns_event(client, "not an EUM notification"))

    [message] = parked()
    assert message["Body"] == "not an EUM notification"
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes["failure_code"] == "invalid_input"
    assert attributes["failure_reason"] == "the EUM notification is not JSON"
    assert attributes["source_topic"] == TOPIC_ARN
    assert take(CONTEXT_QUEUE) == []


def test_processing_failure_is_raised_for_lambda_to_retry_not_parked(
    client: Client, eum_dlq: None, customer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.wiring import runtime

    def unavailable(events: Any) -> Any:
        raise StorageError("wa-messages unreachable")

    monkeypatch.setattr(runtime.inbound, "process", unavailable)
    entry = personalise(load("text"), customer)["entry"][0]

    with pytest.raises(StorageError):
        client.lambda_.invoke("receive_eum_inbound", sns_event(client, eum_notification(entry)))

    assert parked() == []
