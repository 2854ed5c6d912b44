"""SQS batch handling with partial batch responses and retry-vs-DLQ decided by the error class.

A record whose handler raises a retryable error is reported in `batchItemFailures` (SQS redelivers
it; after maxReceiveCount it lands in the DLQ). A permanent error (`retryable == False`, e.g. an
invalid event) is parked in the DLQ at once with the reason as message attributes, so a poison
message never blocks its FIFO group. On FIFO queues the records after a failure in the same group
are failed too (Powertools' SqsFifoPartialProcessor), keeping the group's order.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from parley import aws
from parley.errors import ParleyError, is_retryable
from parley.events import Event, parse_event
from parley.idempotency import EventIdempotency
from parley.logs import conversation_ref, get_logger
from parley.publishing import resolve_body

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

RecordHandler = Callable[["SQSRecord"], None]
EventHandler = Callable[[Event], None]


def dlq_name_for(queue_arn: str) -> str:
    """`arn:...:parley-dev-turns.fifo` -> `parley-dev-turns-dlq.fifo` (infra/ naming rule)."""
    name = queue_arn.rsplit(":", 1)[-1]
    if name.endswith(".fifo"):
        return f"{name.removesuffix('.fifo')}-dlq.fifo"
    return f"{name}-dlq"


def park_in_dlq(record: SQSRecord, error: BaseException) -> None:
    """Send the record's original body to its queue's DLQ with the failure reason attached."""
    dlq = dlq_name_for(record.event_source_arn)
    code = error.code if isinstance(error, ParleyError) else type(error).__name__
    params: dict[str, Any] = {
        "QueueUrl": aws.queue_url(dlq),
        "MessageBody": record.body,
        "MessageAttributes": {
            "failure_reason": {"DataType": "String", "StringValue": str(error)[:1000] or code},
            "failure_code": {"DataType": "String", "StringValue": code},
            "source_queue": {"DataType": "String", "StringValue": record.event_source_arn},
            "failed_at": {"DataType": "String", "StringValue": datetime.now(UTC).isoformat()},
        },
    }
    if dlq.endswith(".fifo"):
        params["MessageGroupId"] = record.attributes.message_group_id or "parked"
        params["MessageDeduplicationId"] = record.message_id
    aws.client("sqs").send_message(**params)


def process_sqs_batch(
    raw_event: dict[str, Any], handle_record: RecordHandler, *, service: str, context: Any = None
) -> dict[str, Any]:
    """Run `handle_record` on each record; returns the Lambda partial batch response."""
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
    # Report every failure in batchItemFailures, even when all records failed (same effect for
    # Lambda as raising, but one answer shape for callers and logs).
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
    return dict(response)


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
