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
    from parley.secrets import credentials

    return [
        health.table(s.handoffs_table),
        health.queue(s.escalation_queue),
        health.queue(s.outbound_queue),
        health.topic(s.human_agents_topic),
        *(health.credential(c) for c in credentials(s.crm_secret_id, "CRM")),
    ]


runtime: ServiceRuntime[EscalationSettings] = ServiceRuntime(_settings, _dependencies)
