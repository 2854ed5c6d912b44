"""The one place the ai_processing service's dependencies are built from settings (lazily)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from parley import health
from parley.service import ServiceRuntime

if TYPE_CHECKING:
    from parley.settings import AiProcessingSettings


def _settings() -> AiProcessingSettings:
    from parley.settings import (  # pydantic-settings costs ~200 ms of import
        AiProcessingSettings,
        load_settings,
    )

    return load_settings(AiProcessingSettings)


def _dependencies(s: AiProcessingSettings) -> list[health.Dependency]:
    return [
        health.queue(s.turns_queue),
        health.queue(s.outbound_queue),
        health.queue(s.kb_events_queue),
        health.bucket(s.kb_bucket),
    ]


runtime: ServiceRuntime[AiProcessingSettings] = ServiceRuntime(_settings, _dependencies)
