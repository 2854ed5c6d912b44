"""SQS batches and SNS notifications that fail closed: a failed record always comes back.

A record whose handler raises a retryable error must be delivered again (after maxReceiveCount it
lands in the DLQ), whatever the event source mapping says: without `ReportBatchItemFailures` Lambda
deletes the whole batch on a normal return, `batchItemFailures` or not. So when a record failed,
the other records are deleted here (DeleteMessageBatch) and `BatchIncomplete` is raised: Lambda
then leaves only the failed records on the queue under either setting. When every record succeeded
the answer is `{"batchItemFailures": []}` and nothing more is called.

A permanent error (`retryable == False`, e.g. an invalid event) is parked in the DLQ at once with
the reason as message attributes, so a poison message never blocks its FIFO group. On FIFO queues
the records after a failure in the same group are failed too, unprocessed (Powertools'
SqsFifoPartialProcessor), keeping the group's order: they come back, they are not deleted.

SNS notifications (Lambda's asynchronous invocation) go through `process_sns_event`: a permanent
error parks the notification in the topic's DLQ `<topic>-dlq`; a retryable one is raised, so Lambda
retries twice and then sends the event to the function's on-failure destination, that same queue.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from parley import aws
from parley.errors import BatchIncomplete, ParleyError, is_retryable
from parley.events import Event, parse_event
from parley.idempotency import EventIdempotency
from parley.logs import conversation_ref, get_logger
from parley.publishing import resolve_body

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

RecordHandler = Callable[["SQSRecord"], None]
EventHandler = Callable[[Event], None]
NotificationHandler = Callable[[str], object]
Parker = Callable[[Mapping[str, Any], BaseException], None]
DELETE_BATCH = 10  # DeleteMessageBatch's limit


def dlq_name_for(source_arn: str) -> str:
    """The DLQ of a queue or topic by the infra/ naming rule: `arn:...:parley-dev-turns.fifo` ->
    `parley-dev-turns-dlq.fifo`; `arn:...:parley-dev-eum-inbound` -> `parley-dev-eum-inbound-dlq`.
    """
    name = source_arn.rsplit(":", 1)[-1]
    if name.endswith(".fifo"):
        return f"{name.removesuffix('.fifo')}-dlq.fifo"
    return f"{name}-dlq"


def failure_attributes(error: BaseException, source: tuple[str, str]) -> dict[str, Any]:
    """Message attributes of a parked message: why it failed, and (attribute, ARN) of its source."""
    code = error.code if isinstance(error, ParleyError) else type(error).__name__
    return {
        "failure_reason": {"DataType": "String", "StringValue": str(error)[:1000] or code},
        "failure_code": {"DataType": "String", "StringValue": code},
        source[0]: {"DataType": "String", "StringValue": source[1]},
        "failed_at": {"DataType": "String", "StringValue": datetime.now(UTC).isoformat()},
    }


def park_in_dlq(record: SQSRecord, error: BaseException) -> None:
    """Send the record's original body to its queue's DLQ with the failure reason attached."""
    dlq = dlq_name_for(record.event_source_arn)
    params: dict[str, Any] = {
        "QueueUrl": aws.queue_url(dlq),
        "MessageBody": record.body,
        "MessageAttributes": failure_attributes(error, ("source_queue", record.event_source_arn)),
    }
    if dlq.endswith(".fifo"):
        params["MessageGroupId"] = record.attributes.message_group_id or "parked"
        params["MessageDeduplicationId"] = record.message_id
    aws.client("sqs").send_message(**params)


def park_notification(record: Mapping[str, Any], error: BaseException) -> None:
    """Send an SNS record's `Message` to its topic's DLQ with the failure reason attached."""
    sns = record.get("Sns") or {}
    topic = str(sns.get("TopicArn", ""))
    aws.client("sqs").send_message(
        QueueUrl=aws.queue_url(dlq_name_for(topic)),
        MessageBody=str(sns.get("Message", "")),
        MessageAttributes=failure_attributes(error, ("source_topic", topic)),
    )


def process_sqs_batch(
    raw_event: dict[str, Any], handle_record: RecordHandler, *, service: str, context: Any = None
) -> dict[str, Any]:
    """Run `handle_record` on each record. Returns `{"batchItemFailures": []}` when none failed;
    raises `BatchIncomplete` (after deleting the others) when some must be retried."""
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        SqsFifoPartialProcessor,
        process_partial_response,
    )

    records = raw_event.get("Records") or []
    fifo = any(str(r.get("eventSourceARN", "")).endswith(".fifo") for r in records)
    processor = (
        SqsFifoPartialProcessor(skip_group_on_error=True) if fifo else BatchProcessor(EventType.SQS)
    )
    # Every failure is listed in the response, even when all records failed: complete_batch decides.
    processor.raise_on_entire_batch_failure = False
    logger = get_logger(service)

    def guarded(record: SQSRecord) -> None:
        try:
            handle_record(record)
        except Exception as exc:
            if is_retryable(exc):
                logger.warning(
                    "record failed, will be retried",
                    extra={
                        "message_id": record.message_id,
                        "reason": str(exc),
                        "receive_count": record.attributes.approximate_receive_count,
                    },
                )
                raise
            park_in_dlq(record, exc)
            logger.error(
                "record parked in DLQ",
                extra={"message_id": record.message_id, "reason": str(exc)},
            )

    response = process_partial_response(
        event=raw_event, record_handler=guarded, processor=processor, context=context
    )
    failed = [str(item["itemIdentifier"]) for item in response.get("batchItemFailures") or []]
    return complete_batch(raw_event, failed, service=service)


def complete_batch(
    raw_event: Mapping[str, Any], failed_ids: Collection[str], *, service: str
) -> dict[str, Any]:
    """The Lambda answer for a processed SQS batch of which `failed_ids` must come back.

    None failed: `{"batchItemFailures": []}`. Otherwise every other record (succeeded or parked) is
    deleted from its queue and `BatchIncomplete` is raised, so Lambda returns only the failed ones
    to SQS with or without `ReportBatchItemFailures`. A record that could not be deleted is merely
    delivered again (handlers are idempotent).
    """
    if not failed_ids:
        return {"batchItemFailures": []}
    records = list(raw_event.get("Records") or [])
    failed = list(dict.fromkeys(failed_ids))
    failing = set(failed)
    done = [r for r in records if r.get("messageId") not in failing]
    undeleted = delete_records(done)
    get_logger(service).warning(
        "batch incomplete: the failed records go back to the queue",
        extra={"failed": failed, "deleted": len(done) - len(undeleted), "undeleted": undeleted},
    )
    raise BatchIncomplete(failed, len(records))


def delete_records(records: Collection[Mapping[str, Any]]) -> list[str]:
    """Delete SQS records from their queues; returns the message ids that were not deleted."""
    by_queue: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        by_queue.setdefault(str(record.get("eventSourceARN", "")), []).append(record)
    undeleted: list[str] = []
    for queue_arn, queued in by_queue.items():
        for start in range(0, len(queued), DELETE_BATCH):
            chunk = queued[start : start + DELETE_BATCH]
            undeleted += _delete_chunk(queue_arn.rsplit(":", 1)[-1], chunk)
    return undeleted


def _delete_chunk(queue: str, chunk: list[Mapping[str, Any]]) -> list[str]:
    entries = [
        {"Id": str(index), "ReceiptHandle": str(record.get("receiptHandle", ""))}
        for index, record in enumerate(chunk)
    ]
    try:
        answer = aws.client("sqs").delete_message_batch(
            QueueUrl=aws.queue_url(queue), Entries=entries
        )
    except Exception:  # not deleted: delivered again, which idempotent handlers absorb
        return [str(record.get("messageId")) for record in chunk]
    return [str(chunk[int(item["Id"])].get("messageId")) for item in answer.get("Failed") or []]


def process_sns_event(
    raw_event: Mapping[str, Any],
    handle_message: NotificationHandler,
    *,
    service: str,
    park: Parker = park_notification,
) -> None:
    """Run `handle_message` on the `Message` of each record of a Lambda SNS event.

    A permanent error parks the notification in the topic's DLQ at once, with the reason; any
    other error is raised: Lambda retries the event twice, then sends it to the function's
    on-failure destination (the same DLQ; infra/template.yaml, infra/package.py).
    """
    logger = get_logger(service)
    for record in raw_event.get("Records") or []:
        sns = record.get("Sns") or {}
        try:
            handle_message(str(sns.get("Message", "")))
        except Exception as exc:
            if is_retryable(exc):
                raise
            park(record, exc)
            logger.error(
                "notification parked in DLQ",
                extra={"message_id": sns.get("MessageId"), "reason": str(exc)},
            )


def event_record_handler(
    handle: EventHandler,
    *,
    idempotency: EventIdempotency | None,
    service: str,
    needs_ledger: Callable[[Event], bool] = lambda event: True,
) -> RecordHandler:
    """A record handler that parses the event (claim-checks resolved) and runs `handle` once:
    through the idempotency ledger, unless `needs_ledger(event)` says applying it twice is
    harmless (two ledger writes saved per event)."""
    logger = get_logger(service)

    def run(record: SQSRecord) -> None:
        event = parse_event(resolve_body(record.body))
        extra = {
            "event_id": event.event_id,
            "event_type": event.type,
            "conversation_ref": conversation_ref(event.conversation),
        }
        if idempotency is None or not needs_ledger(event):
            handle(event)
        elif not idempotency.run(event, handle):
            logger.info("duplicate event skipped", extra=extra)
            return
        logger.info("event applied", extra=extra)

    return run
