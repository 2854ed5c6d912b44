"""Fixtures of the ingestion suite: the service under the contract's real emulators, a drained set
of queues to read what the service published, and a client for the Meta webhook route."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client
from inbound_support import (
    CONTEXT_QUEUE,
    ESCALATION_QUEUE,
    MEDIA_QUEUE,
    OUTBOUND_QUEUE,
    encode,
    headers,
    new_customer,
)

# Test modules also load these two as plugins: importing them here first must keep their assertion
# rewriting (and spare pytest's "already imported" warning).
pytest.register_assert_rewrite("infra.local.pytest_fixtures", "infra.local.service_contract")
from infra.local.pytest_fixtures import moto_endpoint, redis_url  # noqa: E402, F401 - fixtures
from infra.local.service_contract import (  # noqa: E402, F401 - fixtures
    Service,
    client,
    provisioned,
    service,
)


class MetaWebhook:
    """Posts to `/webhooks/meta` through the real Chalice route, signed like Meta signs."""

    def __init__(self, client: Client) -> None:  # noqa: F811 - not the fixture
        self.client = client

    def post(self, payload: Any, **extra_headers: str) -> Any:
        raw = payload if isinstance(payload, bytes) else encode(payload)
        return self.client.http.post(
            "/webhooks/meta", headers=headers(raw, **extra_headers), body=raw
        )

    def post_raw(self, raw: bytes, request_headers: dict[str, str]) -> Any:
        return self.client.http.post("/webhooks/meta", headers=request_headers, body=raw)


@pytest.fixture
def queues(service: Service) -> Iterator[None]:  # noqa: F811 - the imported fixture
    """What earlier tests left on the queues this suite reads is gone."""
    from inbound_support import drain

    drain(CONTEXT_QUEUE, ESCALATION_QUEUE, MEDIA_QUEUE, OUTBOUND_QUEUE)
    yield


@pytest.fixture
def meta(client: Client, queues: None) -> MetaWebhook:  # noqa: F811 - the imported fixture
    return MetaWebhook(client)


@pytest.fixture
def customer() -> str:
    return new_customer()
