"""Fixtures of the context suite: the service under the contract's real emulators (moto server
provisioned from infra/template.yaml, redis-server) and a driver for its consumer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from chalice.test import Client

# Test modules also load these as plugins: importing them here first must keep their assertion
# rewriting (and spare pytest's "already imported" warning).
pytest.register_assert_rewrite("infra.local.pytest_fixtures", "infra.local.service_contract")
from context_support import Driver  # noqa: E402

from infra.local.pytest_fixtures import moto_endpoint, redis_url  # noqa: E402, F401 - fixtures
from infra.local.service_contract import (  # noqa: E402, F401 - fixtures
    Service,
    client,
    provisioned,
    service,
)


@pytest.fixture
def ctx(client: Client, service: Service) -> Iterator[Driver]:  # noqa: F811 - the fixtures
    driver = Driver(client, service)
    driver.drain()
    yield driver
