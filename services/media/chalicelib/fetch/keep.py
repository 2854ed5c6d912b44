"""Fetch and keep: the one call the media handler makes for a message with media."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.fetch.channels import MetaMediaSource, TwilioMediaSource
from chalicelib.fetch.eum import EumMediaSource
from chalicelib.fetch.guard import UrlGuard
from chalicelib.fetch.landing import media_of
from chalicelib.fetch.settings import FetchSettings
from chalicelib.fetch.store import S3MediaStore, StoredMedia
from chalicelib.fetch.stream import HttpFetcher
from parley.events import conversation_key
from parley.media_fetch import MediaSource
from parley.payloads import Channel, MessageReceived


def fetch_and_keep(
    message: MessageReceived, sources: Mapping[Channel, MediaSource], store: S3MediaStore
) -> StoredMedia:
    """The message's media stored once in the media bucket (a redelivery downloads nothing and
    writes nothing). Raises MediaRejected (InvalidInput: tell the customer `customer_reason`,
    never retry), MediaDownloadError/StorageError (retryable), ConfigurationError (not retried)."""
    media_of(message)  # InvalidInput for a message without media
    conversation = conversation_key(message.business_phone_number_id, message.wa_id)
    found = store.existing(conversation, message.message_id)
    if found is not None:
        return found
    fetched = sources[message.channel].fetch(message)
    try:
        return store.put_once(conversation, message.message_id, fetched)
    finally:
        fetched.discard()


@dataclass(frozen=True)
class ChannelAccess:
    """What the sources need from the service's settings and secrets."""

    graph_url: str  # MediaSettings.whatsapp_graph_url
    api_version: str  # MediaSettings.whatsapp_api_version
    whatsapp_token: Callable[[], str]  # the WhatsApp secret's access_token
    twilio_credentials: Callable[[], tuple[str, str]]  # the Twilio secret's (account_sid, token)
    media_bucket: str
    eum_origination_ids: Mapping[str, str]  # Meta phone_number_id -> EUM phone-number-id


def build_sources(
    settings: FetchSettings,
    access: ChannelAccess,
    *,
    social_client: Any = None,
    s3_client: Any = None,
) -> dict[Channel, MediaSource]:
    """One source per channel, each behind its provider's URL guard."""
    meta = HttpFetcher(UrlGuard(settings.meta_hosts, settings.allow_http_hosts), settings)
    twilio = HttpFetcher(UrlGuard(settings.twilio_hosts, settings.allow_http_hosts), settings)
    return {
        "meta": MetaMediaSource(
            meta,
            settings,
            graph_url=access.graph_url,
            api_version=access.api_version,
            token=access.whatsapp_token,
        ),
        "twilio": TwilioMediaSource(twilio, settings, credentials=access.twilio_credentials),
        "eum": EumMediaSource(
            settings,
            bucket=access.media_bucket,
            origination_ids=access.eum_origination_ids,
            social_client=social_client,
            s3_client=s3_client,
        ),
    }
