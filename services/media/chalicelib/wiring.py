"""The one place the media service's dependencies are built from settings (lazily)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from parley import health
from parley.service import ServiceRuntime

if TYPE_CHECKING:
    from parley.settings import MediaSettings


def _settings() -> MediaSettings:
    from parley.settings import (  # pydantic-settings costs ~200 ms of import
        MediaSettings,
        load_settings,
    )

    return load_settings(MediaSettings)


def _dependencies(s: MediaSettings) -> list[health.Dependency]:
    from parley.secrets import Credential, credential_label

    label = credential_label("WhatsApp", "access_token")  # media downloads need only the token
    return [
        health.queue(s.media_queue),
        health.bucket(s.media_bucket),
        health.credential(Credential(s.whatsapp_secret_id, "access_token", label)),
    ]


runtime: ServiceRuntime[MediaSettings] = ServiceRuntime(_settings, _dependencies)
