"""Idempotency on `event_id`: Powertools' DynamoDB persistence (conditional write with TTL).

A record is INPROGRESS while a handler runs, COMPLETED after; a handler that raises deletes it so a
retry can run. A second delivery of a completed event is skipped; a concurrent one raises
`Conflict` (retryable), so the batch helper leaves it on the queue.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from parley import aws
from parley.errors import Conflict

if TYPE_CHECKING:
    from parley.events import EventBase


class EventIdempotency:
    """Runs a handler at most once per (service, event_id) within the TTL."""

    def __init__(self, table: str, service: str, ttl_seconds: int) -> None:
        self._table = table
        self._service = service
        self._ttl = ttl_seconds
        self._runner: Callable[..., Any] | None = None
        self._config: Any = None

    def register_context(self, context: Any) -> None:
        """Bound in-progress records by the invocation's remaining time, so a container that
        dies mid-event does not block that event's retries until the TTL expires."""
        if context is not None and hasattr(context, "get_remaining_time_in_millis"):
            self._decorated()
            self._config.register_lambda_context(context)

    def run(self, event: EventBase, handler: Callable[[EventBase], None]) -> bool:
        """Run `handler(event)` unless already done; returns False when it was a duplicate."""
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
        )

        calls: list[bool] = []

        def invoke(event_ref: dict[str, Any]) -> dict[str, str]:
            calls.append(True)
            handler(event)
            return {"event_id": event_ref["event_id"]}

        try:
            self._decorated()(invoke, event={"event_id": event.event_id})
        except IdempotencyAlreadyInProgressError as exc:
            raise Conflict(f"event {event.event_id} is being processed elsewhere") from exc
        return bool(calls)

    def _decorated(self) -> Callable[..., Any]:
        if self._runner is None:
            from aws_lambda_powertools.utilities.idempotency import (
                DynamoDBPersistenceLayer,
                IdempotencyConfig,
                idempotent_function,
            )

            store = DynamoDBPersistenceLayer(
                table_name=self._table, boto3_client=aws.client("dynamodb")
            )
            config = self._config = IdempotencyConfig(
                event_key_jmespath="event_id",
                expires_after_seconds=self._ttl,
                raise_on_no_idempotency_key=True,
            )

            @idempotent_function(
                data_keyword_argument="event",
                persistence_store=store,
                config=config,
                key_prefix=self._service,
            )
            def guarded(call: Callable[[dict[str, Any]], Any], *, event: dict[str, Any]) -> Any:
                return call(event)

            self._runner = guarded
        return self._runner
