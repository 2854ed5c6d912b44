"""What every service's wiring shares: settings, logger, publishers, idempotency, health, and the
SQS consumer that dispatches events by type. Built lazily, so importing app.py stays cheap."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from parley import health
from parley.cache import reset_redis_clients
from parley.errors import InvalidInput
from parley.idempotency import EventIdempotency
from parley.logs import get_logger
from parley.publishing import ClaimCheckStore, QueueSender, TopicPublisher

SettingsT = TypeVar("SettingsT", bound="ServiceSettings")
if TYPE_CHECKING:
    from parley.batch import EventHandler
    from parley.events import Event
    from parley.settings import ServiceSettings

DependencyList = Callable[[Any], list[health.Dependency]]


class ServiceRuntime(Generic[SettingsT]):
    """One per service process/container; `reset()` rebuilds everything (tests).

    A service's runtime names its own cached parts in `PARTS`: `override(...)` may replace them
    (tests and benchmarks pass fakes) and `reset()` forgets them."""

    PARTS: tuple[str, ...] = ()
    _SHARED_PARTS = ("settings", "claim_checks", "publisher", "idempotency")

    def __init__(self, settings: Callable[[], SettingsT], dependencies: DependencyList) -> None:
        self._load_settings = settings
        self._dependencies = dependencies

    @cached_property
    def settings(self) -> SettingsT:
        return self._load_settings()

    @property
    def name(self) -> str:
        return self.settings.service_name

    @property
    def logger(self) -> Any:
        return get_logger(self.name)

    @cached_property
    def claim_checks(self) -> ClaimCheckStore:
        return ClaimCheckStore(bucket=self.settings.payloads_bucket, producer=self.name)

    @cached_property
    def publisher(self) -> TopicPublisher:
        return TopicPublisher(topic=self.settings.events_topic, claim_checks=self.claim_checks)

    def sender(self, queue: str) -> QueueSender:
        return QueueSender(queue=queue, claim_checks=self.claim_checks)

    @cached_property
    def idempotency(self) -> EventIdempotency:
        s = self.settings
        return EventIdempotency(s.idempotency_table, s.service_name, s.idempotency_ttl_seconds)

    def health(self) -> dict[str, object]:
        s = self.settings
        common = [
            health.topic(s.events_topic),
            health.table(s.idempotency_table),
            health.bucket(s.payloads_bucket),
        ]
        if s.redis_url:
            common.append(health.redis(s.redis_url))
        return health.report(s.service_name, s.version, s.stage, self._dependencies(s) + common)

    def consume(
        self, raw_event: dict[str, Any], handlers: Mapping[str, EventHandler], context: Any = None
    ) -> dict[str, Any]:
        """Apply a batch of events from an SQS queue, each once, dispatched by event type."""
        from parley.batch import event_record_handler, process_sqs_batch

        def dispatch(event: Event) -> None:
            handler = handlers.get(event.type)
            if handler is None:
                raise InvalidInput(f"{self.name} does not handle events of type {event.type}")
            handler(event)

        def needs_ledger(event: Event) -> bool:
            # An event nobody here handles is parked straight away, with no ledger writes.
            return event.type in handlers and self.needs_ledger(event)

        self.idempotency.register_context(context)
        record_handler = event_record_handler(
            dispatch, idempotency=self.idempotency, service=self.name, needs_ledger=needs_ledger
        )
        return process_sqs_batch(raw_event, record_handler, service=self.name, context=context)

    def needs_ledger(self, event: Event) -> bool:
        """Whether `event` goes through the idempotency ledger (Put + Update per event). A service
        whose handling of an event type is idempotent by design says False for it."""
        return True

    def override(self, **parts: Any) -> None:
        """Replace built parts (fakes); unknown names are refused so a typo cannot go unnoticed."""
        unknown = set(parts) - {*self.PARTS, "settings", "publisher"}
        if unknown:
            raise TypeError(f"not a part of the {type(self).__name__}: {sorted(unknown)}")
        self.__dict__.update(parts)

    def reset(self) -> None:
        for attribute in (*self._SHARED_PARTS, *self.PARTS):
            self.__dict__.pop(attribute, None)
        from parley import aws

        aws.reset_clients()
        reset_redis_clients()
        from parley.secrets import clear_secret_cache

        clear_secret_cache()
