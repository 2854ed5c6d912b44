"""schemathesis over the context API's own OpenAPI document, on the local emulators."""

from __future__ import annotations

from chalice.test import Client

from infra.local.api_fuzz import fuzz_api
from infra.local.pytest_fixtures import moto_endpoint, redis_url  # noqa: F401 - fixtures
from infra.local.service_contract import API_KEY, Service, client, provisioned, service  # noqa: F401


def test_context_api_keeps_its_openapi_document(client: Client, service: Service) -> None:  # noqa: F811
    report = fuzz_api(client, headers=API_KEY)
    assert not report.failures, "\n\n".join(report.failures)
    assert report.answered("GET /customers/{wa_id}/export", 200) > 0, report.statuses
