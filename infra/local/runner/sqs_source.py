"""`@app.on_sqs_message`: Lambda's SQS event shape and its partial-batch-failure semantics.

With partial batch responses (the event source mapping's `FunctionResponseTypes:
[ReportBatchItemFailures]`, what the deploy configures) the ids in a returned `batchItemFailures`
stay on the queue. Without them Lambda ignores the answer: a normal return deletes the whole batch,
an error leaves the whole batch. Either way an error or a timeout leaves the whole batch.
"""

from __future__ import annotations

import base64
from typing import Any

from infra.local.runner.aws import Clients, QueueInfo
from infra.local.runner.invoke import Invoker, Outcome
from infra.local.runner.logs import JsonLog
from infra.local.runner.poller import Message, delete_messages

EVENT_SOURCE = "aws:sqs"


def lambda_message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """SQS API attribute (`StringValue`, `DataType`) -> Lambda's camelCase shape."""
    shaped: dict[str, Any] = {}
    if "StringValue" in value:
        shaped["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        raw = value["BinaryValue"]
        shaped["binaryValue"] = base64.b64encode(raw).decode() if isinstance(raw, bytes) else raw
    shaped["stringListValues"] = list(value.get("StringListValues", []))
    shaped["binaryListValues"] = list(value.get("BinaryListValues", []))
    shaped["dataType"] = value.get("DataType", "String")
    return shaped


def sqs_record(message: Message, queue: QueueInfo) -> dict[str, Any]:
    """One record of the event Lambda builds from a received SQS message."""
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: lambda_message_attribute(value)
            for name, value in message.get("MessageAttributes", {}).items()
        },
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    record.update(
        md5OfBody=message.get("MD5OfBody", ""),
        eventSource=EVENT_SOURCE,
        eventSourceARN=queue.arn,
        awsRegion=queue.region,
    )
    return record


def receive_count(message: Message) -> int:
    return int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))


def failed_ids(
    outcome: Outcome, messages: list[Message], report_batch_item_failures: bool = True
) -> tuple[set[str], str | None]:
    """Ids Lambda would leave on the queue, and why."""
    every = {message["MessageId"] for message in messages}
    if not outcome.ok:
        return every, outcome.error
    if not report_batch_item_failures:
        return set(), None
    result = outcome.result
    if not isinstance(result, dict) or "batchItemFailures" not in result:
        return set(), None
    items = result.get("batchItemFailures") or []
    ids = {item.get("itemIdentifier") if isinstance(item, dict) else None for item in items}
    if not ids <= every:
        # Lambda fails the whole batch when an identifier is missing or unknown.
        return every, f"invalid batchItemFailures {items!r}: whole batch fails"
    return {str(i) for i in ids}, "reported in batchItemFailures"


def ignored_failures(outcome: Outcome) -> list[Any]:
    """The `batchItemFailures` of a normal return (what Lambda ignores without the flag)."""
    result = outcome.result if outcome.ok else None
    items = result.get("batchItemFailures") if isinstance(result, dict) else None
    return list(items) if isinstance(items, list) else []


class SqsDispatcher:
    """Invokes the handler with one batch; deletes the successes; logs every failure."""

    def __init__(
        self,
        clients: Clients,
        invoker: Invoker,
        log: JsonLog,
        report_batch_item_failures: bool = True,
    ) -> None:
        self._clients = clients
        self._invoker = invoker
        self._log = log
        self.report_batch_item_failures = report_batch_item_failures

    @property
    def handler(self) -> str:
        return self._invoker.settings.handler

    def __call__(self, queue: QueueInfo, messages: list[Message]) -> None:
        event = {"Records": [sqs_record(message, queue) for message in messages]}
        outcome = self._invoker.invoke(event)
        failed, reason = failed_ids(outcome, messages, self.report_batch_item_failures)
        if not self.report_batch_item_failures and ignored_failures(outcome):
            self._log.error(
                "batchItemFailures ignored: the event source does not report batch item failures, "
                "so the whole batch is deleted",
                handler=self.handler,
                queue=queue.name,
                ignored=ignored_failures(outcome),
            )
        done = [message for message in messages if message["MessageId"] not in failed]
        undeleted = delete_messages(self._clients, queue, done) if done else []
        self._log_invocation(queue, messages, outcome, failed)
        for message in messages:
            if message["MessageId"] in failed:
                self._log_failure(queue, message, reason or "failed")
        if queue.fifo:
            self._check_fifo_order(messages, failed)
            release_followers(self._clients, queue, messages, failed)
        if undeleted:
            self._log.error("delete failed", handler=self.handler, message_ids=undeleted)

    def _log_invocation(
        self, queue: QueueInfo, messages: list[Message], outcome: Outcome, failed: set[str]
    ) -> None:
        if outcome.timed_out:
            status = "timeout"
        elif not outcome.ok:
            status = "error"
        elif failed:
            status = "partial_failure"
        else:
            status = "success"
        log = self._log.info if status == "success" else self._log.warning
        log(
            "invocation",
            handler=self.handler,
            event_source=EVENT_SOURCE,
            queue=queue.name,
            batch_size=len(messages),
            failed=len(failed),
            outcome=status,
            duration_ms=outcome.duration_ms,
            request_id=outcome.request_id,
            error=outcome.error,
            traceback=outcome.trace,
        )

    def _log_failure(self, queue: QueueInfo, message: Message, reason: str) -> None:
        count = receive_count(message)
        fields: dict[str, Any] = {
            "handler": self.handler,
            "event_source": EVENT_SOURCE,
            "queue": queue.name,
            "message_id": message["MessageId"],
            "group": message.get("Attributes", {}).get("MessageGroupId"),
            "receive_count": count,
            "max_receive_count": queue.max_receive_count,
            "reason": reason,
        }
        if queue.max_receive_count is not None and count >= queue.max_receive_count:
            dlq = queue.dlq_arn.rsplit(":", 1)[-1] if queue.dlq_arn else None
            self._log.error("message goes to the DLQ", dlq=dlq, **fields)
        else:
            retry = f"visible again after {queue.visibility_timeout}s"
            self._log.warning("message failed", retry=retry, **fields)

    def _check_fifo_order(self, messages: list[Message], failed: set[str]) -> None:
        """Warn when a handler let a group's later message succeed after an earlier one failed."""
        broken: set[str] = set()
        for message in messages:
            group = message.get("Attributes", {}).get("MessageGroupId", "")
            if message["MessageId"] in failed:
                broken.add(group)
            elif group in broken:
                self._log.warning(
                    "FIFO order broken by the handler: a later message of a failed group succeeded",
                    handler=self.handler,
                    group=group,
                    message_id=message["MessageId"],
                )


def release_followers(
    clients: Clients, queue: QueueInfo, messages: list[Message], failed: set[str]
) -> None:
    """Make the failed messages behind each group's first failure visible again at once.

    They cannot be delivered before the group's head (SQS blocks a group while a message of it is
    in flight), so this changes nothing on AWS. It works around moto 5.2.5, whose receive skips the
    head when later messages of its group are still in flight and so delivers them out of order.
    """
    heads: set[str] = set()
    followers: list[Message] = []
    for message in messages:
        if message["MessageId"] not in failed:
            continue
        group = message.get("Attributes", {}).get("MessageGroupId", "")
        if group in heads:
            followers.append(message)
        heads.add(group)
    if not followers:
        return
    entries = [
        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
        for i, m in enumerate(followers)
    ]
    sqs = clients.get("sqs", queue.region)
    for start in range(0, len(entries), 10):
        # An entry fails (no exception) when the handler deleted that message itself.
        sqs.change_message_visibility_batch(QueueUrl=queue.url, Entries=entries[start : start + 10])
