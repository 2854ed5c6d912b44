"""The one place the ingestion service's dependencies are built from settings (lazily).

Everything is a cached property of `runtime`, built on first use and forgotten by `reset()`;
`override(...)` replaces parts (the benchmark passes fakes for the store and publishers).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from parley import health
from parley.service import ServiceRuntime

if TYPE_CHECKING:
    from chalicelib.channels.eum import EumInbound
    from chalicelib.channels.twilio import TwilioWebhook
    from chalicelib.inbound import InboundProcessor, MetaWebhook
    from chalicelib.inbound.ports import EventPublisher, EventSender, RateLimiter
    from chalicelib.store import WaMessagesStore
    from parley.business_profile import BusinessProfile
    from parley.events import Event
    from parley.settings import IngestionSettings


def _settings() -> IngestionSettings:
    from parley.settings import (  # pydantic-settings costs ~200 ms of import
        IngestionSettings,
        load_settings,
    )

    return load_settings(IngestionSettings)


NO_NUMBERS = "no business number is configured: every inbound notification is ignored"


def _dependencies(s: IngestionSettings) -> list[health.Dependency]:
    from parley.secrets import credentials

    # A channel no configured number uses is reported but does not make the service unhealthy.
    channels = {number.channel for number in s.business_numbers.values()} or {"meta"}
    whatsapp = credentials(s.whatsapp_secret_id, "WhatsApp")
    twilio = credentials(s.twilio_secret_id, "Twilio")
    return [
        health.table(s.wa_messages_table),
        health.queue(s.outbound_queue),
        health.queue(s.media_queue),
        health.topic(s.eum_inbound_topic),
        health.setting("BUSINESS_NUMBERS", None if s.business_numbers else NO_NUMBERS),
        *(health.credential(c, required="meta" in channels) for c in whatsapp),
        *(health.credential(c, required="twilio" in channels) for c in twilio),
    ]


class IngestionRuntime(ServiceRuntime["IngestionSettings"]):
    """The service runtime plus the ingestion service's own parts."""

    PARTS = (
        "store",
        "outbound",
        "media_jobs",
        "rate_limiter",
        "inbound",
        "meta_webhook",
        "twilio_webhook",
        "eum_inbound",
        "publisher",
        "whatsapp_secret",
        "profile",
    )

    def needs_ledger(self, event: Event) -> bool:
        """Not for read receipts and typing indicators: sending one twice is harmless, so
        they skip the ledger's two writes. Messages keep it: a customer must not get one twice."""
        from chalicelib.outbound.messages import NOT_MESSAGES

        if event.type.startswith("handoff."):
            return False  # pausing/resuming is ordered by the event's time: a repeat is harmless
        payload = getattr(event, "payload", None)
        return getattr(payload, "kind", None) not in NOT_MESSAGES

    @cached_property
    def store(self) -> WaMessagesStore:
        from chalicelib.store import WaMessagesStore

        return WaMessagesStore(self.settings.wa_messages_table)

    @cached_property
    def outbound(self) -> EventSender:
        return self.sender(self.settings.outbound_queue)

    @cached_property
    def media_jobs(self) -> EventSender:
        return self.sender(self.settings.media_queue)

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        from chalicelib.inbound import NoRateLimit, RedisTokenBucket
        from parley.cache import redis_client

        url = self.settings.redis_url
        if not url:
            return NoRateLimit()
        return RedisTokenBucket(
            lambda: redis_client(url),
            per_minute=self.settings.inbound_messages_per_minute,
            burst=self.settings.inbound_burst,
            logger=self.logger,
        )

    @cached_property
    def profile(self) -> BusinessProfile:
        """What the business tells its customers (BUSINESS_PROFILE)."""
        from parley.business_profile import load_profile

        return load_profile(self.settings.business_profile)

    @cached_property
    def inbound(self) -> InboundProcessor:
        """Applies normalised inbound events (any channel's)."""
        from chalicelib.inbound import InboundProcessor

        publisher: EventPublisher = self.publisher
        return InboundProcessor(
            store=self.store,
            publisher=publisher,
            media_jobs=self.media_jobs,
            outbound=self.outbound,
            limiter=self.rate_limiter,
            number=self.settings.number,
            is_ours=self.settings.is_ours,
            logger=self.logger,
            profile=self.profile,
        )

    @cached_property
    def meta_webhook(self) -> MetaWebhook:
        from chalicelib.inbound import MetaWebhook

        return MetaWebhook(
            self.inbound,
            self.whatsapp_secret,
            max_bytes=self.settings.webhook_max_bytes,
            logger=self.logger,
        )

    @cached_property
    def twilio_webhook(self) -> TwilioWebhook:
        from chalicelib.channels.twilio import TwilioWebhook

        return TwilioWebhook.from_settings(self.settings, self.inbound, self.logger)

    @cached_property
    def eum_inbound(self) -> EumInbound:
        from chalicelib.channels.eum import EumInbound

        return EumInbound(self.inbound, self.logger)

    def whatsapp_secret(self) -> Mapping[str, Any]:
        """The WhatsApp secret (access_token, app_secret, verify_token), cached per container."""
        from parley.secrets import secret_json

        return secret_json(self.settings.whatsapp_secret_id)


runtime = IngestionRuntime(_settings, _dependencies)
