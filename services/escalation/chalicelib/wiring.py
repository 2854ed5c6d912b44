"""The one place the escalation service's dependencies are built from settings (lazily)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from parley import health
from parley.service import ServiceRuntime

if TYPE_CHECKING:
    from parley.settings import EscalationSettings


def _settings() -> EscalationSettings:
    from parley.settings import (  # pydantic-settings costs ~200 ms of import
        EscalationSettings,
        load_settings,
    )

    return load_settings(EscalationSettings)


def _dependencies(s: EscalationSettings) -> list[health.Dependency]:
    return [
        health.table(s.handoffs_table),
        health.queue(s.escalation_queue),
        health.queue(s.outbound_queue),
        health.topic(s.human_agents_topic),
        health.secret(s.crm_secret_id),
    ]


runtime: ServiceRuntime[EscalationSettings] = ServiceRuntime(_settings, _dependencies)
