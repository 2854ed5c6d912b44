"""Meta Graph API transport: JSON dicts in, JSON dicts out, and the one place that raises.

Every failure becomes a `WhatsAppApiError` classified by Meta's error code (see `meta_errors`):
an error answer, a non-JSON answer, a timeout or a connection failure. No retries here: the caller
decides (the sender retries with backoff what the table calls retryable). `requests` is imported on
first use, so importing this module costs nothing at cold start.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from parley.errors import ConfigurationError
from parley.whatsapp.ids import url_path
from parley.whatsapp.meta_errors import api_error, from_graph_body

Json = dict[str, Any]
Path = tuple[str, ...]  # path segments, each escaped on its own: ("123", "messages")
CONNECT_TIMEOUT = 3.05
READ_TIMEOUT = 10.0
POOL_SIZE = 32


class GraphClient:
    """Calls `<base_url>/<api_version>/<path>` with a Bearer token.

    `token` is a string or a callable returning one (e.g. read from a cached secret, so a rotated
    token is picked up without a restart). `session` defaults to a pooled `requests.Session`.
    """

    def __init__(
        self,
        base_url: str,
        api_version: str,
        token: str | Callable[[], str],
        *,
        timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT),
        session: Any = None,
    ) -> None:
        self._root = f"{base_url.rstrip('/')}/{api_version.strip('/')}"
        self._token = token
        self._timeout = timeout
        self._session = session
        self._lock = threading.Lock()

    def post(self, path: Path, body: Json, *, timeout: float | None = None) -> Json:
        """POST a JSON body; the JSON answer, or WhatsAppApiError."""
        return self.request("POST", path, body, timeout=timeout)

    def get(self, path: Path, *, timeout: float | None = None) -> Json:
        return self.request("GET", path, None, timeout=timeout)

    def request(
        self, method: str, path: Path, body: Json | None, *, timeout: float | None = None
    ) -> Json:
        import requests

        relative = url_path(*path)  # InvalidInput for a dot or empty segment
        url = f"{self._root}/{relative}"
        read_timeout = self._timeout[1] if timeout is None else max(0.1, timeout)
        try:
            response = self._http().request(
                method,
                url,
                json=body,
                headers={"Authorization": f"Bearer {self._bearer()}"},
                timeout=(self._timeout[0], read_timeout),
            )
        except requests.RequestException as exc:
            kind = "timed out" if isinstance(exc, requests.Timeout) else "connection failed"
            error = api_error(None, http_status=None, message=f"{method} {relative} {kind}")
            error.ambiguous = method == "POST" and _may_have_arrived(exc)
            raise error from exc
        return _answer(response)

    def prepare(self) -> None:
        """Resolve the token (and open the session) ahead of a time-critical request."""
        self._bearer()
        self._http()

    def _bearer(self) -> str:
        token = self._token() if callable(self._token) else self._token
        if not token:
            raise ConfigurationError("the WhatsApp access token is empty")
        return token

    def _http(self) -> Any:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._session = _pooled_session()
        return self._session


def _pooled_session() -> Any:
    import requests
    from requests.adapters import HTTPAdapter

    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=POOL_SIZE)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def _may_have_arrived(exc: Exception) -> bool:
    """False only when the request surely never left: the connection was never made."""
    import requests
    from urllib3.exceptions import NewConnectionError

    if isinstance(exc, requests.ConnectTimeout):
        return False
    if isinstance(exc, requests.ConnectionError):
        cause = exc.args[0] if exc.args else None
        reason = getattr(cause, "reason", cause)
        return not isinstance(reason, NewConnectionError)
    return isinstance(exc, requests.Timeout)


def _answer(response: Any) -> Json:
    try:
        body = response.json()
    except ValueError:
        body = None
    if 200 <= response.status_code < 300 and isinstance(body, dict):
        return body
    if 200 <= response.status_code < 300:
        raise api_error(None, http_status=response.status_code, message="answer is not JSON")
    raise from_graph_body(response.status_code, body)
