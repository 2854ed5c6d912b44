"""The kb-events queue: S3 object notifications from the knowledge-base bucket.

A notification only says "look again": the run indexes what the bucket holds when it runs, so
notifications can be coalesced, arrive out of order or go missing (a delete on a versioned bucket
may not notify) without leaving the index wrong after the next run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from parley.errors import InvalidInput
from parley.logs import get_logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from chalicelib.knowledge.manager import KnowledgeBaseIndexer


@dataclass(frozen=True)
class ObjectChange:
    key: str
    removed: bool
    event_name: str


def parse_notification(body: str) -> list[ObjectChange]:
    """The object changes in one SQS message body (an S3 event, possibly inside SNS)."""
    try:
        data = json.loads(body)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"not an S3 notification: {exc}") from exc
    if isinstance(data, dict) and data.get("Type") == "Notification" and "Message" in data:
        return parse_notification(data["Message"])
    if not isinstance(data, dict) or (
        "Records" not in data and data.get("Event") != "s3:TestEvent"
    ):
        raise InvalidInput("not an S3 notification: no Records")
    changes = []
    for record in data.get("Records") or []:
        try:
            name = str(record["eventName"])
            key = unquote_plus(record["s3"]["object"]["key"])
        except (KeyError, TypeError) as exc:
            raise InvalidInput(f"S3 notification record without {exc}") from exc
        changes.append(
            ObjectChange(key=key, removed=name.startswith("ObjectRemoved"), event_name=name)
        )
    return changes


def index_from_sqs(
    raw_event: dict[str, Any],
    indexer: Callable[[], KnowledgeBaseIndexer],
    *,
    service: str,
    context: Any = None,
) -> dict[str, Any]:
    """One indexing run for a batch of notifications; partial batch response.

    A malformed message is parked in the DLQ (permanent); when the run fails, every other message
    goes back to the queue (`BatchIncomplete`), so SQS redelivers them and after maxReceiveCount
    parks them.
    """
    from parley.batch import complete_batch, process_sqs_batch

    changes: list[ObjectChange] = []
    parsed: list[str] = []

    def collect(record: SQSRecord) -> None:
        changes.extend(parse_notification(record.body))
        parsed.append(record.message_id)

    response = process_sqs_batch(raw_event, collect, service=service, context=context)
    run = indexer()
    relevant = [c for c in changes if run.store.is_document_key(c.key)]
    if not relevant:  # test events and the index's own objects
        return response
    logger = get_logger(service)
    try:
        result = run.sync()
    except Exception as exc:
        logger.exception("knowledge index run failed", extra={"reason": str(exc)})
        # Every parsed notification comes back (flag or not); malformed ones are already parked.
        return complete_batch(raw_event, parsed, service=service)
    logger.info(
        "knowledge base notifications applied",
        extra={
            "changes": len(relevant),
            "removals": sum(c.removed for c in relevant),
            "version": result.version,
            "published": result.published,
        },
    )
    return response
