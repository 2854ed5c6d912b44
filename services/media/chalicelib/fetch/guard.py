"""Which URLs a media download may touch (checked on the first URL and on every redirect hop).

Only https, only the provider's hosts (exact names or `*.suffix`), no user info in the URL, and
every address the host resolves to must be public: a private, loopback, link-local (169.254/16,
the cloud metadata service), multicast, reserved or unspecified address refuses the URL. The
download then connects to the checked address itself (`Target.ip`), so a second DNS answer cannot
swap in another address between the check and the connection (DNS rebinding).

The local stage's plain-http simulator is allowed by exact `host:port` pairs only
(`MEDIA_ALLOW_HTTP_HOSTS`), so a redirect to any other port or address is still refused.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from chalicelib.fetch.errors import MediaDownloadError, UnsafeMediaUrl

Resolver = Callable[[str, int], list[str]]
DEFAULT_PORTS = {"https": 443, "http": 80}


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (`ip`) and what to ask for (`host`, `path`)."""

    scheme: str
    host: str
    port: int
    ip: str
    path: str  # path and query, as sent in the request line

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host, self.port)

    @property
    def host_header(self) -> str:
        return self.host if DEFAULT_PORTS[self.scheme] == self.port else f"{self.host}:{self.port}"


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (the system resolver)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise MediaDownloadError(f"cannot resolve {host}: {error}") from error
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public(address: str) -> bool:
    """Whether an address is globally routable unicast (IPv4-mapped IPv6 judged as IPv4)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    blocked = (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )
    return ip.is_global and not blocked


class UrlGuard:
    """The URL policy of one provider."""

    def __init__(
        self,
        hosts: Iterable[str],
        allow_http_hosts: Iterable[str] = (),
        resolver: Resolver = resolve,
    ) -> None:
        self._hosts = tuple(h.lower().rstrip(".") for h in hosts)
        self._local = frozenset(h.lower() for h in allow_http_hosts)
        self._resolve = resolver

    def check(self, url: str) -> Target:
        """The target to connect to; UnsafeMediaUrl when the URL breaks the policy."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        try:
            host = (parts.hostname or "").rstrip(".")
            port = parts.port or DEFAULT_PORTS.get(scheme, 0)
        except ValueError as error:
            raise UnsafeMediaUrl("the media URL is malformed") from error
        if scheme not in DEFAULT_PORTS or not host or parts.username or parts.password:
            raise UnsafeMediaUrl(f"refused media URL scheme or form: {scheme}://{host}")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        local = f"{host}:{port}" in self._local
        if not local and (scheme != "https" or not self._host_allowed(host)):
            raise UnsafeMediaUrl(f"{scheme}://{host}:{port} is not an allowed media host")
        addresses = self._resolve(host, port)
        if not addresses:
            raise MediaDownloadError(f"{host} resolves to no address")
        if not local:
            refused = [a for a in addresses if not is_public(a)]
            if refused:
                raise UnsafeMediaUrl(f"{host} resolves to a non-public address")
        return Target(scheme, host, port, _prefer_ipv4(addresses), path)

    def _host_allowed(self, host: str) -> bool:
        try:
            ipaddress.ip_address(host)
            return False  # providers are reached by name, never by a literal address
        except ValueError:
            pass
        for allowed in self._hosts:
            if allowed.startswith("*."):
                if host.endswith(allowed[1:]) and host != allowed[2:]:
                    return True
            elif host == allowed:
                return True
        return False


def _prefer_ipv4(addresses: list[str]) -> str:
    return next((a for a in addresses if ":" not in a), addresses[0])
