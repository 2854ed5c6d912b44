"""The contract every Parley service keeps, as tests each service's suite runs against itself.

A service's `tests/test_contract.py` star-imports this module; the fixtures below start from its own
`app.py` and `.chalice/config.json` (stage `local`), a real moto server provisioned from
infra/template.yaml, and a real redis-server.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from chalice.test import Client

from infra.local import provisioner

pytest_plugins = ["infra.local.pytest_fixtures"]


@dataclass
class Service:
    """The service under test: its app module, its directory and its queue."""

    app: Any
    directory: Path
    queue: str
    handlers: dict[str, Any]

    @property
    def name(self) -> str:
        return self.directory.name

    def stage_env(self) -> dict[str, str]:
        config = json.loads((self.directory / ".chalice" / "config.json").read_text())
        return {
            **config.get("environment_variables", {}),
            **config["stages"]["local"]["environment_variables"],
        }


@pytest.fixture(scope="session")
def provisioned(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    output = tmp_path_factory.mktemp("stack") / "resources.json"
    provisioner.main(["--stage", "local", "--endpoint", moto_endpoint, "--output", str(output)])
    return moto_endpoint


@pytest.fixture
def service(provisioned: str, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    import app as app_module
    from chalicelib import handlers
    from chalicelib.wiring import runtime

    directory = Path(app_module.__file__).resolve().parent
    queue = next(s.queue for s in app_module.app.event_sources if hasattr(s, "queue"))
    svc = Service(app_module.app, directory, queue, handlers.HANDLERS)
    for key, value in svc.stage_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", provisioned)
    monkeypatch.setenv("REDIS_URL", redis_url)
    runtime.reset()
    for name in (queue, queue.removesuffix(".fifo") + "-dlq.fifo"):
        drain(name)
    yield svc
    forget_in_flight()
    runtime.reset()


@pytest.fixture
def client(service: Service) -> Iterator[Client]:
    # A stage that config.json lacks: the client then sets no stage variables of its own, so the
    # test's endpoints (set above) are the ones used.
    with Client(service.app, stage_name="contract-test", project_dir=str(service.directory)) as c:
        yield c


def sqs() -> Any:
    return boto3.client("sqs")


_IN_FLIGHT: list[tuple[str, str]] = []


def forget_in_flight() -> None:
    """Delete what a test received and left failed: the queue is shared with later tests, and the
    message would come back after the visibility timeout, in the middle of one of them."""
    while _IN_FLIGHT:
        url, handle = _IN_FLIGHT.pop()
        try:
            sqs().delete_message(QueueUrl=url, ReceiptHandle=handle)
        except Exception:  # already deleted by the handler's success path
            continue


def drain(queue: str) -> None:
    """Delete what earlier tests left visible (PurgeQueue is allowed once a minute only)."""
    url = sqs().get_queue_url(QueueName=queue)["QueueUrl"]
    while got := sqs().receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for message in got:
            sqs().delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _event(event_type: str = "message.received", event_id: str | None = None) -> dict[str, Any]:
    return {
        "event_id": event_id or uuid.uuid4().hex,
        "type": event_type,
        "conversation": "100000000000001:15551234567",
        "occurred_at": datetime.now(UTC).isoformat(),
        "producer": "contract-test",
        "payload": {"wa_id": "15551234567", "requested_by": "test"}
        if event_type == "customer.erased"
        else {
            "channel": "meta",
            "business_phone_number_id": "100000000000001",
            "wa_id": "15551234567",
            "message_id": f"wamid.{uuid.uuid4().hex}",
            "kind": "text",
            "text": "hello",
            "sent_at": datetime.now(UTC).isoformat(),
        },
    }


def deliver(client: Client, service: Service, bodies: list[str]) -> Any:
    """Send bodies to the service's queue, receive them as Lambda would, invoke the handler."""
    url = sqs().get_queue_url(QueueName=service.queue)["QueueUrl"]
    group = uuid.uuid4().hex
    for body in bodies:
        sqs().send_message(
            QueueUrl=url,
            MessageBody=body,
            MessageGroupId=group,
            MessageDeduplicationId=uuid.uuid4().hex,
        )
    received = sqs().receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=1
    )["Messages"]
    assert len(received) == len(bodies)
    _IN_FLIGHT.extend((url, m["ReceiptHandle"]) for m in received)
    arn = f"arn:aws:sqs:us-east-1:123456789012:{service.queue}"
    records = [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": m["Attributes"],
            "messageAttributes": {},
            "md5OfBody": m["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": arn,
            "awsRegion": "us-east-1",
        }
        for m in received
    ]
    handler = next(
        s.handler_string.split(".")[-1]
        for s in service.app.event_sources
        if getattr(s, "queue", None) == service.queue
    )
    return invoke_with_its_timeout(client, handler, {"Records": records})


def invoke_with_its_timeout(client: Client, function: str, payload: dict[str, Any]) -> Any:
    """`client.lambda_.invoke`, with the function's configured timeout as the context's remaining
    time (Chalice's test client gives every invocation 3 s, whatever its config says)."""
    import functools

    import chalice.test as chalice_test

    config = client.lambda_._config
    timeout = config.scope(config.chalice_stage, function).lambda_timeout or 60
    original = chalice_test.LambdaContext
    namespace = vars(chalice_test)
    namespace["LambdaContext"] = functools.partial(original, max_runtime_ms=timeout * 1000)
    try:
        return client.lambda_.invoke(function, payload).payload
    finally:
        namespace["LambdaContext"] = original


def dlq_messages(service: Service) -> list[dict[str, Any]]:
    name = service.queue.removesuffix(".fifo") + "-dlq.fifo"
    url = sqs().get_queue_url(QueueName=name)["QueueUrl"]
    got = sqs().receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=1
    )
    messages: list[dict[str, Any]] = got.get("Messages", [])
    for message in messages:
        sqs().delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return messages


API_KEY = {"x-api-key": "local-parley-api-key"}  # the local stage's API_KEY


def details(client: Client) -> Any:
    return client.http.get("/health/details", headers=API_KEY)


def test_health_is_liveness_only_no_aws_call_no_names(
    client: Client, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.client import BaseClient

    calls: list[str] = []

    def record(self: Any, operation: str, params: Any) -> Any:
        calls.append(operation)
        raise AssertionError(f"GET /health called AWS: {operation}")

    monkeypatch.setattr(BaseClient, "_make_api_call", record)
    response = client.http.get("/health")
    assert response.status_code == 200
    assert response.json_body == {"service": service.name, "status": "alive"}
    assert calls == []


def test_health_details_need_the_api_key(client: Client, service: Service) -> None:
    for headers in ({}, {"x-api-key": "wrong"}):
        response = client.http.get("/health/details", headers=headers)
        assert response.status_code == 401
        assert "dependencies" not in response.json_body


def test_health_details_report_name_version_stage_and_every_dependency_reachable(
    client: Client, service: Service
) -> None:
    response = details(client)
    body = response.json_body
    assert response.status_code == 200, body
    assert (body["service"], body["stage"], body["healthy"]) == (service.name, "local", True)
    assert body["version"]
    kinds = {d["kind"] for d in body["dependencies"]}
    assert {"queue", "topic", "table", "bucket", "redis"} <= kinds
    assert all(d["reachable"] for d in body["dependencies"] if d.get("required", True))
    names = {d["name"] for d in body["dependencies"]}
    assert service.queue in names


def test_health_details_name_an_unreachable_dependency_with_503(
    client: Client, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDEMPOTENCY_TABLE", "parley-local-no-such-table")
    response = details(client)
    assert response.status_code == 503
    down = [d for d in response.json_body["dependencies"] if not d["reachable"]]
    assert [d["name"] for d in down] == ["parley-local-no-such-table"]


def test_missing_setting_is_a_500_that_names_the_variable(
    client: Client, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EVENTS_TOPIC")
    response = details(client)
    assert response.status_code == 500
    assert response.json_body["error"] == "configuration_error"
    assert "EVENTS_TOPIC (missing)" in response.json_body["message"]


def test_malformed_event_is_parked_in_the_dlq_with_its_reason(
    client: Client, service: Service
) -> None:
    result = deliver(client, service, ["{not json"])
    assert result == {"batchItemFailures": []}
    [parked] = dlq_messages(service)
    assert parked["Body"] == "{not json"
    assert parked["MessageAttributes"]["failure_code"]["StringValue"] == "invalid_input"
    assert "invalid event" in parked["MessageAttributes"]["failure_reason"]["StringValue"]


def test_event_is_applied_once_however_often_it_is_delivered(
    client: Client, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.wiring import runtime

    seen: list[str] = []
    monkeypatch.setitem(service.handlers, "message.received", lambda e: seen.append(e.event_id))
    # Through the ledger, as every type is unless the service says its handling is idempotent.
    monkeypatch.setattr(runtime, "needs_ledger", lambda event: True)
    body = json.dumps(_event(event_id="dup-" + uuid.uuid4().hex))
    assert deliver(client, service, [body]) == {"batchItemFailures": []}
    assert deliver(client, service, [body]) == {"batchItemFailures": []}
    assert len(seen) == 1


def test_retryable_failure_is_retried_and_holds_back_only_its_conversation(
    client: Client, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    from parley.errors import BatchIncomplete, DependencyError

    applied: list[str] = []

    def flaky(event: Any) -> None:
        if event.payload.text == "fail":
            raise DependencyError("downstream timed out")
        applied.append(event.payload.text)

    monkeypatch.setitem(service.handlers, "message.received", flaky)
    failing, after = _event(), _event()
    failing["payload"]["text"], after["payload"]["text"] = "fail", "after"
    with pytest.raises(BatchIncomplete) as incomplete:
        deliver(client, service, [json.dumps(failing), json.dumps(after)])
    # The failed head and the one behind it; raised, so Lambda leaves both on the queue.
    assert len(incomplete.value.failed_ids) == 2
    url = sqs().get_queue_url(QueueName=service.queue)["QueueUrl"]
    counts = sqs().get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert int(counts["ApproximateNumberOfMessagesNotVisible"]) == 2
    assert applied == []
    assert dlq_messages(service) == []


def test_event_type_the_service_does_not_handle_is_parked_not_retried(
    client: Client, service: Service
) -> None:
    unhandled = next(
        t
        for t in ("turn.requested", "session.closed", "reply.requested")
        if t not in service.handlers
    )
    event = _event()
    event["type"] = unhandled
    result = deliver(client, service, [json.dumps(event)])
    assert result == {"batchItemFailures": []}
    [parked] = dlq_messages(service)
    assert parked["MessageAttributes"]["failure_code"]["StringValue"] == "invalid_input"


def test_every_queue_consumer_times_out_well_within_its_queue_visibility(
    service: Service,
) -> None:
    config = json.loads((service.directory / ".chalice" / "config.json").read_text())
    functions = config.get("lambda_functions", {})
    checked = 0
    for source in service.app.event_sources:
        if not hasattr(source, "queue"):
            continue
        handler = source.handler_string.split(".")[-1]
        timeout = functions.get(handler, {}).get("lambda_timeout", config["lambda_timeout"])
        url = sqs().get_queue_url(QueueName=source.queue)["QueueUrl"]
        attributes = sqs().get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
        visibility = int(attributes["Attributes"]["VisibilityTimeout"])
        assert visibility >= 6 * timeout, f"{handler}: {timeout} s vs {source.queue} {visibility} s"
        checked += 1
    assert checked >= 1
    assert os.environ["PARLEY_STAGE"] == "local"
