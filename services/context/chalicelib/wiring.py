"""The one place the context service's dependencies are built from settings (lazily)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from parley import health
from parley.service import ServiceRuntime

if TYPE_CHECKING:
    from parley.settings import ContextSettings


def _settings() -> ContextSettings:
    from parley.settings import (  # pydantic-settings costs ~200 ms of import
        ContextSettings,
        load_settings,
    )

    return load_settings(ContextSettings)


def _dependencies(s: ContextSettings) -> list[health.Dependency]:
    return [
        health.table(s.conversations_table),
        health.table(s.sessions_table),
        health.queue(s.context_queue),
        health.queue(s.turns_queue),
    ]


runtime: ServiceRuntime[ContextSettings] = ServiceRuntime(_settings, _dependencies)
