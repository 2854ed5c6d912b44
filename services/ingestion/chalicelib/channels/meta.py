"""Meta WhatsApp Cloud API: the body goes as is to `POST /{phone_number_id}/messages`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from parley.secrets import Credential, credential_label
from parley.settings import BusinessNumber
from parley.whatsapp import ids

if TYPE_CHECKING:
    from parley.settings import IngestionSettings
    from parley.whatsapp.graph import GraphClient


class MetaCloudChannel:
    """A WhatsAppChannel over Meta's Graph API (errors raised by GraphClient, by Meta code)."""

    def __init__(self, graph: GraphClient) -> None:
        self._graph = graph

    def send(self, phone_number_id: str, number: BusinessNumber, body: dict[str, Any]) -> str:
        answer = self._graph.post((ids.phone_number_id(phone_number_id), "messages"), body)
        messages = answer.get("messages")
        if isinstance(messages, list) and messages and isinstance(messages[0], dict):
            return str(messages[0].get("id") or "")
        return ""  # mark-as-read / typing answer {"success": true}: no message id

    def prepare(self) -> None:
        """Read the access token now (cached), so a send right after a pacing slot is not
        delayed by Secrets Manager."""
        self._graph.prepare()

    @classmethod
    def from_settings(cls, settings: IngestionSettings) -> MetaCloudChannel:
        """The token is read from Secrets Manager on use (cached; a rotation is picked up)."""
        from parley.whatsapp.graph import GraphClient

        token = Credential(
            settings.whatsapp_secret_id,
            "access_token",
            credential_label("WhatsApp", "access_token"),
        )
        graph = GraphClient(settings.whatsapp_graph_url, settings.whatsapp_api_version, token.value)
        return cls(graph)
