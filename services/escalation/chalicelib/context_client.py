"""Reading a conversation from the context service's HTTP API (the only way another service
sees context's store): its transcript and session. Locally the `x-api-key` header; in AWS the
request is signed with the function's IAM role (SigV4, `execute-api`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from parley.errors import DependencyError, NotFound

TIMEOUT = (2.0, 5.0)


class ContextClient:
    def __init__(self, base_url: str, *, api_key: str | None, region: str | None = None) -> None:
        self._base = base_url.rstrip("/")
        self._api_key = api_key
        self._region = region
        self._session: Any = None

    def transcript(self, conversation: str, limit: int = 50) -> list[dict[str, Any]]:
        """Messages oldest first (the API pages newest first)."""
        body = self._get(f"/conversations/{quote(conversation, safe='')}?limit={limit}")
        messages = body.get("messages") if isinstance(body, dict) else None
        return list(reversed(messages)) if isinstance(messages, list) else []

    def session(self, conversation: str) -> dict[str, Any] | None:
        try:
            body = self._get(f"/sessions/{quote(conversation, safe='')}")
        except NotFound:
            return None
        return body if isinstance(body, dict) else None

    def _get(self, path: str) -> Any:
        import requests

        url = self._base + path
        headers = self._auth_headers(url)
        try:
            response = self._http().get(url, headers=headers, timeout=TIMEOUT)
        except requests.RequestException as error:
            raise DependencyError(f"context API unreachable: {type(error).__name__}") from error
        if response.status_code == 404:
            raise NotFound("the context service has no such conversation")
        if response.status_code >= 300:
            raise DependencyError(f"context API answered {response.status_code}")
        return response.json()

    def _auth_headers(self, url: str) -> dict[str, str]:
        if self._api_key:
            return {"x-api-key": self._api_key}
        import boto3
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        from parley import aws

        credentials = boto3.session.Session().get_credentials()
        request = AWSRequest(method="GET", url=url)
        SigV4Auth(credentials, "execute-api", self._region or aws.region()).add_auth(request)
        return dict(request.headers.items())

    def _http(self) -> Any:
        if self._session is None:
            import requests

            self._session = requests.Session()
        return self._session
