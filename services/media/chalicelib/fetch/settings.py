"""Settings of media fetching (environment variables `MEDIA_*`, defaults fit AWS).

Provider hosts are exact names or `*.suffix` wildcards; downloads are https only. The one
exception, for the local stage's plain-http simulator, is `MEDIA_ALLOW_HTTP_HOSTS`: exact
`host:port` pairs that may be reached over http and may resolve to loopback. A redirect to any
other port of the same host, or to any other private address, is still refused.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

META_HOSTS = ("graph.facebook.com", "lookaside.fbsbx.com")
# Twilio answers MediaUrl on api.twilio.com with a redirect to its media CDN (UNCONFIRMED host
# list: mms.twiliocdn.com and media.twiliocdn.com are the ones seen in practice).
TWILIO_HOSTS = ("api.twilio.com", "*.twiliocdn.com")


class FetchSettings(BaseSettings):
    model_config = SettingsConfigDict(
        frozen=True, extra="ignore", case_sensitive=False, env_prefix="MEDIA_"
    )

    meta_hosts: tuple[str, ...] = META_HOSTS
    twilio_hosts: tuple[str, ...] = TWILIO_HOSTS
    allow_http_hosts: tuple[str, ...] = ()  # local stage only: ("127.0.0.1:8000",)
    user_agent: str = "parley-media/0.1"
    max_redirects: int = Field(default=3, ge=0, le=10)
    connect_timeout: float = Field(default=3.05, gt=0)
    read_timeout: float = Field(default=10.0, gt=0)
    total_timeout: float = Field(default=60.0, gt=0)  # one whole download
    media_id_ttl_days: int = 7  # Meta keeps a webhook's media id 7 days
    eum_staging_prefix: str = "eum-incoming/"
    tmp_dir: str | None = None  # default: the system temporary directory (/tmp in Lambda)
    # Decompression-bomb limits
    max_image_pixels: int = Field(default=50_000_000, gt=0)
    zip_max_entries: int = Field(default=10_000, gt=0)
    zip_max_total_bytes: int = Field(default=512 * 1024 * 1024, gt=0)
    zip_max_entry_ratio: int = Field(default=200, gt=1)
    pdf_max_pages: int = Field(default=2_000, gt=0)
    pdf_max_objects: int = Field(default=1_000_000, gt=0)
