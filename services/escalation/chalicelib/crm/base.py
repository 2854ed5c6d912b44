"""What the CRM adapters share: credentials resolved at send time (fail closed), a pooled HTTP
session with default timeouts, and the one place an HTTP answer or a network failure becomes a
`CrmError`. `requests` is imported on first use, so importing an adapter costs nothing."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from parley.crm import CrmError, CrmUnavailable, http_error
from parley.secrets import require_credential

if TYPE_CHECKING:
    import requests

# A credential as stored (None when missing), or a callable reading it when needed.
CredentialSource = str | None | Callable[[], str | None]
CONNECT_TIMEOUT = 3.05
READ_TIMEOUT = 10.0
POOL_SIZE = 8


def credential(source: CredentialSource, label: str) -> str:
    """The credential, or SecretNotSet naming `label` when it is missing or a placeholder."""
    value = source() if callable(source) else source
    return require_credential(value, label)


def segment(value: str) -> str:
    """`value` escaped as one URL path segment."""
    return quote(value, safe="")


def http_session(
    timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT), verify: bool | str = True
) -> requests.Session:
    """A pooled session whose requests time out by default (simple-salesforce passes none).
    `verify` other than True (a CA bundle, e.g. a test CA) is applied to every request: requests
    would otherwise let REQUESTS_CA_BUNDLE from the environment override a session's bundle."""
    import requests
    from requests.adapters import HTTPAdapter

    class TimeoutAdapter(HTTPAdapter):
        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            if kwargs.get("timeout") is None:
                kwargs["timeout"] = timeout
            if verify is not True:
                kwargs["verify"] = verify
            return super().send(request, *args, **kwargs)

    session = requests.Session()
    adapter = TimeoutAdapter(pool_connections=2, pool_maxsize=POOL_SIZE)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.verify = verify
    return session


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any  # decoded JSON, or None
    headers: dict[str, str]

    def field(self, name: str) -> Any:
        return self.body.get(name) if isinstance(self.body, dict) else None


def send(
    session: requests.Session,
    provider: str,
    operation: str,
    method: str,
    url: str,
    *,
    expect: Iterable[int] = (),
    **kwargs: Any,
) -> Answer:
    """One HTTP call. A 2xx answer, or one of `expect` (e.g. 404, 409), is returned; anything
    else raises: CrmUnavailable for network failures, 408/429/5xx; CrmRejected for other 4xx."""
    import requests

    try:
        response = session.request(method, url, **kwargs)
    except requests.RequestException as error:
        kind = "timed out" if isinstance(error, requests.Timeout) else "connection failed"
        raise CrmUnavailable(f"{provider} {operation}: {kind}") from error
    answer = Answer(response.status_code, _json(response), dict(response.headers))
    if 200 <= answer.status < 300 or answer.status in set(expect):
        return answer
    raise failure(provider, operation, answer)


def failure(provider: str, operation: str, answer: Answer) -> CrmError:
    reason = answer.field("message") or answer.field("error") or _short(answer.body)
    return http_error(provider, operation, answer.status, str(reason), _retry_after(answer))


def _retry_after(answer: Answer) -> str | None:
    for name, value in answer.headers.items():
        if name.lower() == "retry-after":
            return value
    return None


def _json(response: Any) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _short(body: Any) -> str:
    return json.dumps(body)[:300] if body is not None else "no JSON answer"
