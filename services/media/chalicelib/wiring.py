"""The one place the media service's dependencies are built from settings (lazily)."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from parley import health
from parley.service import ServiceRuntime

if TYPE_CHECKING:
    from chalicelib.fetch import S3MediaStore
    from chalicelib.processor import MediaProcessor
    from parley.business_profile import BusinessProfile
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
        health.queue(s.outbound_queue),
        health.bucket(s.media_bucket),
        health.credential(Credential(s.whatsapp_secret_id, "access_token", label)),
    ]


class MediaRuntime(ServiceRuntime["MediaSettings"]):
    PARTS = ("store", "processor", "engines", "profile")

    def needs_ledger(self, event: Any) -> bool:
        """No: a media job stores one object per message (a redelivery downloads nothing) and
        publishes and answers under ids derived from the message, which the FIFO queues drop."""
        return False

    @cached_property
    def store(self) -> S3MediaStore:
        from chalicelib.fetch import S3MediaStore

        s = self.settings
        return S3MediaStore(s.media_bucket, kms_key_id=s.media_kms_key_id)

    @cached_property
    def engines(self) -> Any:
        from chalicelib.engines import build_engines, load_engine_settings

        return build_engines(load_engine_settings())

    @cached_property
    def profile(self) -> BusinessProfile:
        """What the business tells its customers (BUSINESS_PROFILE)."""
        from parley.business_profile import load_profile

        return load_profile(self.settings.business_profile)

    @cached_property
    def processor(self) -> MediaProcessor:
        from chalicelib.engines import understand
        from chalicelib.fetch import ChannelAccess, FetchSettings, build_sources, fetch_and_keep
        from chalicelib.processor import MediaProcessor, eum_ids
        from parley import aws
        from parley.secrets import Credential, credential_label

        s = self.settings
        token = Credential(
            s.whatsapp_secret_id, "access_token", credential_label("WhatsApp", "access_token")
        )

        def twilio() -> tuple[str, str]:
            if not s.twilio_secret_id:
                from parley.errors import InvalidSettings

                raise InvalidSettings("TWILIO_SECRET_ID is not set: Twilio media cannot be fetched")
            sid = Credential(
                s.twilio_secret_id, "account_sid", credential_label("Twilio", "account_sid")
            )
            auth = Credential(
                s.twilio_secret_id, "auth_token", credential_label("Twilio", "auth_token")
            )
            return sid.value(), auth.value()

        access = ChannelAccess(
            graph_url=s.whatsapp_graph_url,
            api_version=s.whatsapp_api_version,
            whatsapp_token=token.value,
            twilio_credentials=twilio,
            media_bucket=s.media_bucket,
            eum_origination_ids=eum_ids(s.business_numbers),
        )
        sources = build_sources(FetchSettings(), access)
        store, engines, profile = self.store, self.engines, self.profile

        def read(stored: Any) -> bytes:
            got = aws.client("s3", read_timeout=30).get_object(Bucket=stored.bucket, Key=stored.key)
            return bytes(got["Body"].read())

        return MediaProcessor(
            fetch=lambda message: fetch_and_keep(message, sources, store),
            read=read,
            understand=lambda data, mime, kind, **kw: understand(
                data, mime, kind, engines=engines, profile=profile, **kw
            ),
            events=self.publisher,
            outbound=self.sender(s.outbound_queue),
            logger=self.logger,
            profile=profile,
        )


runtime = MediaRuntime(_settings, _dependencies)
