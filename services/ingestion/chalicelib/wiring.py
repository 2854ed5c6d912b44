"""The one place the ingestion service's dependencies are built from settings (lazily)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from parley import health
from parley.service import ServiceRuntime

if TYPE_CHECKING:
    from parley.settings import IngestionSettings


def _settings() -> IngestionSettings:
    from parley.settings import (  # pydantic-settings costs ~200 ms of import
        IngestionSettings,
        load_settings,
    )

    return load_settings(IngestionSettings)


def _dependencies(s: IngestionSettings) -> list[health.Dependency]:
    return [
        health.table(s.wa_messages_table),
        health.queue(s.outbound_queue),
        health.queue(s.media_queue),
        health.topic(s.eum_inbound_topic),
        health.secret(s.whatsapp_secret_id),
        health.secret(s.twilio_secret_id),
    ]


runtime: ServiceRuntime[IngestionSettings] = ServiceRuntime(_settings, _dependencies)
