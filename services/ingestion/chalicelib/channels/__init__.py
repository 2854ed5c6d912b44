"""How a Meta-shaped message body reaches WhatsApp, per business number's channel.

The sender builds every message as a Meta Cloud API body (reference §2); a channel delivers it:
Meta's Graph API, AWS End User Messaging Social (which takes the same body), or Twilio (which
translates it). Each raises `parley.errors.WhatsAppApiError` with Meta's error code when it can.
"""

from __future__ import annotations

from typing import Any, Protocol

from parley.settings import BusinessNumber


class WhatsAppChannel(Protocol):
    """One way of sending to WhatsApp."""

    def send(self, phone_number_id: str, number: BusinessNumber, body: dict[str, Any]) -> str:
        """Send one Meta-shaped body; returns the channel's message id (a wamid for Meta/EUM)."""
        ...
