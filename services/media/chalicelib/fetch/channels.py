"""`MediaSource`s of the Meta Cloud API and Twilio (EUM's is in `eum.py`).

Meta: `GET /{version}/{media-id}` with the bearer token gives a URL that lives 5 minutes; it is
resolved just before the download, and a 401/403/404 on the download resolves it once more. A
media id Meta no longer knows (it keeps them 7 days) is `MediaExpired`.
Twilio: `MediaUrl` with HTTP Basic auth, only under our own account's path; Twilio redirects to
its CDN, and the credentials are not sent to the CDN (the stream drops them off-origin).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from chalicelib.fetch.errors import (
    HttpStatusError,
    MediaDownloadError,
    MediaExpired,
    MediaTooLarge,
    UnsafeMediaUrl,
)
from chalicelib.fetch.landing import Clock, Landing, check_age, discard, media_of, utc_now
from chalicelib.fetch.settings import FetchSettings
from chalicelib.fetch.stream import HttpFetcher
from parley.errors import InvalidInput
from parley.media_fetch import FetchedMedia
from parley.media_types import size_cap
from parley.payloads import MessageReceived
from parley.whatsapp.ids import url_path

RESOLVE_AGAIN = frozenset({401, 403, 404})
GONE = frozenset({404, 410})
META_UNKNOWN_OBJECT = 100  # "Object with ID ... does not exist"
TWILIO_API_PREFIX = "/2010-04-01/Accounts/"


class MetaMediaSource:
    """Inbound media of the Meta Cloud API channel."""

    def __init__(
        self,
        fetcher: HttpFetcher,
        settings: FetchSettings,
        *,
        graph_url: str,
        api_version: str,
        token: Callable[[], str],
        clock: Clock = utc_now,
    ) -> None:
        self._fetcher = fetcher
        self._settings = settings
        self._root = f"{graph_url.rstrip('/')}/{api_version.strip('/')}"
        self._token = token
        self._clock = clock
        self._landing = Landing(settings)

    def fetch(self, message: MessageReceived) -> FetchedMedia:
        ref, kind = media_of(message)
        if not ref.media_id:
            raise InvalidInput(f"Meta message {message.message_id} has no media id")
        check_age(message, self._settings.media_id_ttl_days, self._clock)
        cap = size_cap(kind)
        for attempt in (1, 2):
            found = self._resolve(ref.media_id)
            if int(found.get("file_size") or 0) > cap:
                raise MediaTooLarge(f"{found['file_size']} bytes is over the {kind} cap {cap}")
            try:
                return self._download(message, found, cap)
            except HttpStatusError as error:
                if attempt == 1 and error.status in RESOLVE_AGAIN:
                    continue  # the URL expired (5 minutes) or was refused: a fresh one, once
                if error.status in GONE:
                    raise MediaExpired("Meta no longer has this media") from error
                if error.status in RESOLVE_AGAIN:
                    raise MediaDownloadError(f"Meta refused the media URL: {error}") from error
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _resolve(self, media_id: str) -> dict[str, Any]:
        status, body = self._fetcher.get_json(f"{self._root}/{url_path(media_id)}", self._auth())
        if status == 200 and isinstance(body, dict) and isinstance(body.get("url"), str):
            return body
        error = body.get("error") if isinstance(body, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        if status == 404 or code == META_UNKNOWN_OBJECT:
            raise MediaExpired("Meta does not know this media id (expired or deleted)")
        retryable = status in (401, 403, 429) or status >= 500 or code == 190
        raise MediaDownloadError(
            f"GET media id answered HTTP {status} (code {code})", retryable=retryable
        )

    def _download(self, message: MessageReceived, found: dict[str, Any], cap: int) -> FetchedMedia:
        ref, _ = media_of(message)
        path = self._landing.new_path()
        try:
            with path.open("wb") as sink:
                got = self._fetcher.download(str(found["url"]), self._auth(), cap, sink)
        except BaseException:
            discard(path)
            raise
        declared = ref.mime_type or found.get("mime_type")
        expected = ref.sha256 or found.get("sha256")
        return self._landing.finish(
            path,
            message,
            size=got.size,
            sha256=got.sha256,
            declared=declared,
            expected_sha256=expected,
        )

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token()}"}


class TwilioMediaSource:
    """Inbound media of the Twilio channel. `credentials` gives (Account SID, Auth Token)."""

    def __init__(
        self,
        fetcher: HttpFetcher,
        settings: FetchSettings,
        *,
        credentials: Callable[[], tuple[str, str]],
    ) -> None:
        self._fetcher = fetcher
        self._credentials = credentials
        self._landing = Landing(settings)

    def fetch(self, message: MessageReceived) -> FetchedMedia:
        ref, kind = media_of(message)
        if not ref.url:
            raise InvalidInput(f"Twilio message {message.message_id} has no MediaUrl")
        account_sid, token = self._credentials()
        if not urlsplit(ref.url).path.startswith(f"{TWILIO_API_PREFIX}{account_sid}/"):
            raise UnsafeMediaUrl("the MediaUrl is not under this deployment's Twilio account")
        basic = base64.b64encode(f"{account_sid}:{token}".encode()).decode("ascii")
        path = self._landing.new_path()
        try:
            with path.open("wb") as sink:
                got = self._fetcher.download(
                    ref.url, {"Authorization": f"Basic {basic}"}, size_cap(kind), sink
                )
        except HttpStatusError as error:
            discard(path)
            if error.status in GONE:
                raise MediaExpired("Twilio no longer has this media") from error
            if error.status in (401, 403):
                raise MediaDownloadError(f"Twilio refused our credentials: {error}") from error
            raise
        except BaseException:
            discard(path)
            raise
        return self._landing.finish(
            path,
            message,
            size=got.size,
            sha256=got.sha256,
            declared=ref.mime_type,
            expected_sha256=None,
        )
