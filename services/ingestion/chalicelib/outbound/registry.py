"""Which channel sends for a business number: `settings.number(phone_number_id).channel`.

Channels are given as objects (`ChannelRegistry(meta=..., eum=..., twilio=...)`) or built lazily
on first use by the channel class's `from_settings(settings)` (see `CHANNEL_CLASSES`), so a
container that only serves Meta numbers never imports boto3's socialmessaging or twilio.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Literal

from parley.errors import ConfigurationError

if TYPE_CHECKING:
    from chalicelib.channels import WhatsAppChannel
    from parley.settings import BusinessNumber, IngestionSettings

ChannelName = Literal["meta", "eum", "twilio"]
# channel name -> (module, class); each class has `from_settings(settings) -> WhatsAppChannel`
CHANNEL_CLASSES: dict[ChannelName, tuple[str, str]] = {
    "meta": ("chalicelib.channels.meta", "MetaCloudChannel"),
    "eum": ("chalicelib.channels.eum", "EumWhatsAppChannel"),
    "twilio": ("chalicelib.channels.twilio", "TwilioWhatsAppChannel"),
}
ChannelFactory = Callable[[], "WhatsAppChannel"]


class ChannelRegistry:
    """The WhatsAppChannel per channel name; each built once, when first needed."""

    def __init__(
        self,
        meta: WhatsAppChannel | None = None,
        eum: WhatsAppChannel | None = None,
        twilio: WhatsAppChannel | None = None,
        *,
        factories: Mapping[ChannelName, ChannelFactory] | None = None,
    ) -> None:
        given = {"meta": meta, "eum": eum, "twilio": twilio}
        self._channels: dict[str, WhatsAppChannel] = {
            name: channel for name, channel in given.items() if channel is not None
        }
        self._factories = dict(factories or {})
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: IngestionSettings) -> ChannelRegistry:
        """Every channel of CHANNEL_CLASSES, built on first use from these settings."""
        return cls(factories={name: _class_factory(name, settings) for name in CHANNEL_CLASSES})

    def register(self, name: ChannelName, channel: WhatsAppChannel) -> None:
        with self._lock:
            self._channels[name] = channel

    def channel(self, name: str) -> WhatsAppChannel:
        """The channel called `name`; ConfigurationError (permanent) when there is none."""
        existing = self._channels.get(name)
        if existing is not None:
            return existing
        with self._lock:
            if name not in self._channels:
                factory = self._factories.get(name)  # type: ignore[call-overload]
                if factory is None:
                    raise ConfigurationError(f"no WhatsApp channel {name!r} is available")
                self._channels[name] = factory()
            return self._channels[name]

    def for_number(self, number: BusinessNumber) -> WhatsAppChannel:
        return self.channel(number.channel)


def _class_factory(name: ChannelName, settings: IngestionSettings) -> ChannelFactory:
    module_name, class_name = CHANNEL_CLASSES[name]

    def build() -> WhatsAppChannel:
        try:
            channel_class = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as exc:
            raise ConfigurationError(f"WhatsApp channel {name!r} cannot be loaded: {exc}") from exc
        channel: WhatsAppChannel = channel_class.from_settings(settings)
        return channel

    return build
