"""Streamed downloads under the URL guard: redirects followed by hand (the guard checks every hop;
credentials are dropped when a hop leaves the origin), the size cap enforced on `Content-Length`
and on the bytes actually received, content encodings refused (no gzip bomb over the wire).

urllib3 (which requests is built on) is used directly so each connection goes to the address the
guard checked, with TLS still verified against the host name.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import urljoin, urlsplit

from chalicelib.fetch.errors import HttpStatusError, MediaDownloadError, MediaTooLarge
from chalicelib.fetch.guard import DEFAULT_PORTS, Target, UrlGuard
from chalicelib.fetch.settings import FetchSettings

CHUNK = 64 * 1024
REDIRECTS = frozenset({301, 302, 303, 307, 308})
CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
JSON_CAP = 1024 * 1024


@dataclass(frozen=True)
class Downloaded:
    size: int
    sha256: str  # hex
    content_type: str | None
    host: str  # the host that answered (after redirects)


class HttpFetcher:
    """GETs under one provider's URL guard."""

    def __init__(self, guard: UrlGuard, settings: FetchSettings) -> None:
        self._guard = guard
        self._settings = settings

    def download(
        self, url: str, headers: Mapping[str, str], cap: int, sink: BinaryIO
    ) -> Downloaded:
        """Stream `url` into `sink`; MediaTooLarge over `cap` bytes (announced or received),
        HttpStatusError for a non-2xx answer, UnsafeMediaUrl for a refused hop."""
        deadline = time.monotonic() + self._settings.total_timeout
        response, target = self._open(url, headers)
        try:
            return self._receive(response, target, cap, sink, deadline)
        except _transport_errors() as error:
            raise MediaDownloadError(f"download from {target.host} failed: {error!r}") from error
        finally:
            _close(response)

    def get_json(self, url: str, headers: Mapping[str, str]) -> tuple[int, Any]:
        """Status and JSON body (None when not JSON) of a small answer, whatever the status."""
        response, target = self._open(url, headers)
        try:
            body = response.read(JSON_CAP + 1, decode_content=False)
        except _transport_errors() as error:
            raise MediaDownloadError(f"GET {target.host} failed: {error!r}") from error
        finally:
            _close(response)
        if len(body) > JSON_CAP:
            raise MediaDownloadError(f"answer of {target.host} is too large", retryable=False)
        try:
            return response.status, json.loads(body)
        except ValueError:
            return response.status, None

    def _open(self, url: str, headers: Mapping[str, str]) -> tuple[Any, Target]:
        current, sent = url, dict(headers)
        for _ in range(self._settings.max_redirects + 1):
            target = self._guard.check(current)
            response = self._request(target, sent)
            if response.status not in REDIRECTS:
                return response, target
            location = response.headers.get("Location")
            _close(response)
            if not location:
                raise MediaDownloadError(f"redirect from {target.host} without a Location")
            following = urljoin(current, location)
            if _origin(following) != target.origin:
                sent = {k: v for k, v in sent.items() if k.lower() not in CREDENTIAL_HEADERS}
            current = following
        raise MediaDownloadError("too many redirects", retryable=False)

    def _request(self, target: Target, headers: Mapping[str, str]) -> Any:
        import urllib3

        timeout = urllib3.Timeout(
            connect=self._settings.connect_timeout, read=self._settings.read_timeout
        )
        sent = {
            "User-Agent": self._settings.user_agent,
            **headers,
            "Host": target.host_header,
            "Accept-Encoding": "identity",
        }
        pool = _pool(target, timeout)
        try:
            response = pool.urlopen(
                "GET",
                target.path,
                headers=sent,
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
            )
        except _transport_errors() as error:
            pool.close()
            raise MediaDownloadError(f"GET {target.host} failed: {error!r}") from error
        return response

    def _receive(
        self, response: Any, target: Target, cap: int, sink: BinaryIO, deadline: float
    ) -> Downloaded:
        if not 200 <= response.status < 300:
            raise HttpStatusError(response.status, target.host)
        if response.headers.get("Content-Encoding", "identity").lower() != "identity":
            raise MediaDownloadError(f"{target.host} sent an encoded body", retryable=False)
        announced = response.headers.get("Content-Length", "")
        if announced.strip().isdigit() and int(announced) > cap:
            raise MediaTooLarge(f"announced {announced} bytes, over the {cap} cap")
        digest, size = hashlib.sha256(), 0
        for chunk in response.stream(CHUNK, decode_content=False):
            size += len(chunk)
            if size > cap:
                raise MediaTooLarge(f"over the {cap} bytes cap while receiving")
            if time.monotonic() > deadline:
                raise MediaDownloadError(f"download from {target.host} took too long")
            digest.update(chunk)
            sink.write(chunk)
        content_type = response.headers.get("Content-Type")
        return Downloaded(size, digest.hexdigest(), content_type, target.host)


def _close(response: Any) -> None:
    """Release the answer's connection and close its one-off pool."""
    response.release_conn()
    pool = getattr(response, "_pool", None)  # urllib3 keeps the pool that made the answer
    if pool is not None:
        pool.close()


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or DEFAULT_PORTS.get(scheme, 0)
    except ValueError:
        port = -1
    return (scheme, (parts.hostname or "").rstrip("."), port)


def _pool(target: Target, timeout: Any) -> Any:
    import urllib3

    if target.scheme == "http":
        return urllib3.HTTPConnectionPool(target.ip, target.port, timeout=timeout, maxsize=1)
    return urllib3.HTTPSConnectionPool(
        target.ip,
        target.port,
        timeout=timeout,
        maxsize=1,
        server_hostname=target.host,
        assert_hostname=target.host,
        cert_reqs="CERT_REQUIRED",
        ca_certs=_ca_bundle(),
    )


def _ca_bundle() -> str | None:
    try:
        import certifi
    except ImportError:  # the system store
        return None
    return str(certifi.where())


def _transport_errors() -> tuple[type[BaseException], ...]:
    import urllib3

    return (urllib3.exceptions.HTTPError, OSError)
