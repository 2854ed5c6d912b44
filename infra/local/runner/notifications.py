"""`@app.on_sns_message` and `@app.on_s3_event`: an internal queue per handler, Lambda's shapes.

SNS and S3 invoke Lambda asynchronously: one record per invocation, retried twice on error, then
sent to the function's on-failure destination (EventInvokeConfig), or dropped when it has none. The
runner reproduces that with an internal queue subscribed to the topic (or named in the bucket's
notification configuration) whose messages it turns into Lambda events; an SNS handler's on-failure
destination is its topic's DLQ `<topic>-dlq` when that queue exists (the rule the deploy applies,
infra/deploy_config.py).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from infra.local.runner.aws import (
    Clients,
    QueueInfo,
    describe_queue,
    ensure_queue,
    send_policy,
    topic_arn,
)
from infra.local.runner.invoke import Invoker, Outcome
from infra.local.runner.logs import JsonLog
from infra.local.runner.poller import Message, delete_messages
from infra.local.runner.sqs_source import receive_count

ASYNC_MAX_ATTEMPTS = 3
"""Lambda's asynchronous invocation: the first attempt and two retries."""
S3_TEST_EVENT = "s3:TestEvent"
EventBuilder = Callable[[Message], list[dict[str, Any]]]


def internal_queue_name(base: str, kind: str, fifo: bool = False) -> str:
    """A valid, stable SQS name such as `<app>-<stage>-<handler>-sns` (80 characters at most)."""
    name = re.sub(r"[^A-Za-z0-9_-]", "-", f"{base}-{kind}")
    if len(name) > 70:
        digest = hashlib.sha1(name.encode()).hexdigest()[:8]
        name = f"{name[:61]}-{digest}"
    return f"{name}.fifo" if fifo else name


def setup_sns(
    clients: Clients, topic: str, queue_base: str, visibility: int
) -> tuple[QueueInfo, str]:
    """Create the internal queue and subscribe it to the topic; returns (queue, subscription)."""
    arn = topic_arn(clients, topic)
    queue = ensure_queue(
        clients,
        internal_queue_name(queue_base, "sns", fifo=arn.endswith(".fifo")),
        {"VisibilityTimeout": str(visibility)},
    )
    clients.get("sqs", queue.region).set_queue_attributes(
        QueueUrl=queue.url,
        Attributes={"Policy": send_policy(queue.arn, "sns.amazonaws.com", arn)},
    )
    response = clients.get("sns").subscribe(
        TopicArn=arn, Protocol="sqs", Endpoint=queue.arn, ReturnSubscriptionArn=True
    )
    return queue, str(response["SubscriptionArn"])


class SnsSetup:
    """`setup_sns` as a retryable callable (the poller retries it until the topic exists)."""

    def __init__(self, clients: Clients, topic: str, queue_base: str, visibility: int) -> None:
        self._args = (clients, topic, queue_base, visibility)
        self.subscription_arn = ""

    def __call__(self) -> QueueInfo:
        queue, self.subscription_arn = setup_sns(*self._args)
        return queue


def sns_events(subscription: Callable[[], str]) -> EventBuilder:
    """Builds Lambda's SNS event from an SNS-to-SQS (non-raw) delivery."""

    def build(message: Message) -> list[dict[str, Any]]:
        body = json.loads(message["Body"])
        sns = {
            "Type": body.get("Type", "Notification"),
            "MessageId": body.get("MessageId"),
            "TopicArn": body.get("TopicArn"),
            "Subject": body.get("Subject"),
            "Message": body.get("Message"),
            "Timestamp": body.get("Timestamp"),
            "SignatureVersion": body.get("SignatureVersion"),
            "Signature": body.get("Signature"),
            "SigningCertUrl": body.get("SigningCertURL"),
            "UnsubscribeUrl": body.get("UnsubscribeURL"),
            "MessageAttributes": body.get("MessageAttributes", {}),
        }
        record = {
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": subscription(),
            "Sns": sns,
        }
        return [{"Records": [record]}]

    return build


def setup_s3(
    clients: Clients,
    bucket: str,
    notification: dict[str, Any],
    queue_base: str,
    visibility: int,
) -> QueueInfo:
    """Create the internal queue; merge its QueueConfiguration into the bucket's notifications."""
    queue = ensure_queue(
        clients, internal_queue_name(queue_base, "s3"), {"VisibilityTimeout": str(visibility)}
    )
    clients.get("sqs", queue.region).set_queue_attributes(
        QueueUrl=queue.url,
        Attributes={"Policy": send_policy(queue.arn, "s3.amazonaws.com", f"arn:aws:s3:::{bucket}")},
    )
    ours = {"Id": queue_base, "QueueArn": queue.arn, **notification}
    s3 = clients.get("s3")
    current = s3.get_bucket_notification_configuration(Bucket=bucket)
    current.pop("ResponseMetadata", None)
    existing = current.get("QueueConfigurations", [])
    if ours not in existing:
        others = [item for item in existing if item.get("Id") != queue_base]
        current["QueueConfigurations"] = [*others, ours]
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=current)
    return queue


def s3_notification(events: list[str], prefix: str | None, suffix: str | None) -> dict[str, Any]:
    """The Events and Filter parts of a QueueConfiguration."""
    config: dict[str, Any] = {"Events": list(events)}
    rules = [
        {"Name": name, "Value": value}
        for name, value in (("prefix", prefix), ("suffix", suffix))
        if value
    ]
    if rules:
        config["Filter"] = {"Key": {"FilterRules": rules}}
    return config


def s3_events(message: Message) -> list[dict[str, Any]]:
    """One Lambda event per S3 record; none for the `s3:TestEvent` S3 sends on configuration."""
    body = json.loads(message["Body"])
    if body.get("Event") == S3_TEST_EVENT:
        return []
    events = []
    for record in body.get("Records", []):
        record.setdefault("userIdentity", {"principalId": "AWS:LOCAL"})
        record.setdefault("requestParameters", {"sourceIPAddress": "127.0.0.1"})
        record.setdefault("responseElements", {})
        s3 = record.get("s3", {})
        s3.get("bucket", {}).setdefault("ownerIdentity", {"principalId": "LOCAL"})
        key = s3.get("object", {})
        if "key" in key:  # moto encodes "/" too; S3 keeps it (`a/b c` -> `a/b+c`)
            key["key"] = re.sub("%2F", "/", key["key"], flags=re.IGNORECASE)
        events.append({"Records": [record]})
    return events


class OnFailureDestination:
    """The SQS queue that gets an event after its last asynchronous attempt; looked up when first
    needed (the provisioner may create it after the runner started)."""

    def __init__(self, clients: Clients, name: str | None) -> None:
        self._clients = clients
        self.name = name
        self._queue: QueueInfo | None = None

    def queue(self) -> QueueInfo | None:
        if self._queue is None and self.name:
            sqs = self._clients.get("sqs")
            try:
                self._queue = describe_queue(self._clients, self.name)
            except sqs.exceptions.QueueDoesNotExist:
                return None
        return self._queue

    def send(self, queue: QueueInfo, record: dict[str, Any]) -> None:
        sqs = self._clients.get("sqs", queue.region)
        sqs.send_message(QueueUrl=queue.url, MessageBody=json.dumps(record))


def destination_record(
    event: dict[str, Any], outcome: Outcome, function_arn: str, attempts: int
) -> dict[str, Any]:
    """The invocation record Lambda sends to an on-failure destination."""
    error = outcome.error or "failed"
    error_type, _, message = error.partition(": ")
    payload: dict[str, str] = {"errorMessage": error}
    if message and not outcome.timed_out:
        payload = {"errorType": error_type, "errorMessage": message}
    return {
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {
            "requestId": outcome.request_id,
            "functionArn": f"{function_arn}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": payload,
    }


class AsyncDispatcher:
    """Invokes the handler once per record; deletes on success or after the last attempt."""

    def __init__(
        self,
        clients: Clients,
        invoker: Invoker,
        log: JsonLog,
        build: EventBuilder,
        event_source: str,
        max_attempts: int = ASYNC_MAX_ATTEMPTS,
        on_failure: OnFailureDestination | None = None,
    ) -> None:
        self._clients = clients
        self._invoker = invoker
        self._log = log
        self._build = build
        self._source = event_source
        self._max_attempts = max_attempts
        self._on_failure = on_failure

    def __call__(self, queue: QueueInfo, messages: list[Message]) -> None:
        done = [message for message in messages if self._process(message)]
        if done:
            delete_messages(self._clients, queue, done)

    def _process(self, message: Message) -> bool:
        """True when the message can be deleted."""
        try:
            events = self._build(message)
        except (ValueError, KeyError, TypeError) as exc:
            self._log.error(
                "undecodable notification dropped", event_source=self._source, error=repr(exc)
            )
            return True
        if not events:
            self._log.info("test event skipped", event_source=self._source)
            return True
        outcomes = [(event, self._invoke(event, message)) for event in events]
        failures = [(event, outcome) for event, outcome in outcomes if not outcome.ok]
        attempt = receive_count(message)
        if not failures or attempt < self._max_attempts:
            return not failures
        return self._give_up(failures, attempt)

    def _give_up(self, failures: list[tuple[dict[str, Any], Outcome]], attempts: int) -> bool:
        """After the last attempt: to the on-failure destination (True once sent), else dropped."""
        fields = {
            "handler": self._invoker.settings.handler,
            "event_source": self._source,
            "attempts": attempts,
        }
        destination = self._on_failure.queue() if self._on_failure else None
        if self._on_failure is None or destination is None:
            self._log.error("event dropped after the last asynchronous attempt", **fields)
            return True
        try:
            for event, outcome in failures:
                record = destination_record(event, outcome, self._invoker.function_arn, attempts)
                self._on_failure.send(destination, record)
        except Exception as exc:  # kept on the internal queue: tried again on its next receive
            self._log.error("on-failure destination unreachable", error=repr(exc), **fields)
            return False
        self._log.error(
            "event sent to the on-failure destination", destination=destination.name, **fields
        )
        return True

    def _invoke(self, event: dict[str, Any], message: Message) -> Outcome:
        outcome = self._invoker.invoke(event)
        status = "success" if outcome.ok else ("timeout" if outcome.timed_out else "error")
        log = self._log.info if outcome.ok else self._log.warning
        log(
            "invocation",
            handler=self._invoker.settings.handler,
            event_source=self._source,
            outcome=status,
            duration_ms=outcome.duration_ms,
            request_id=outcome.request_id,
            attempt=receive_count(message),
            max_attempts=self._max_attempts,
            error=outcome.error,
            traceback=outcome.trace,
        )
        return outcome
