"""Who may call the HTTP API: IAM in AWS (attached at import when the stage is not local), the
`x-api-key` header locally."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from chalice import IAMAuthorizer
from test_api_support import (
    API_KEY_HEADER,
    Api,
)

pytest_plugins = ["infra.local.pytest_fixtures", "test_api_support"]

APP_PY = Path(__file__).resolve().parents[1] / "app.py"
API_ROUTES = [
    ("/conversations/{key}", "GET"),
    ("/sessions/{key}", "GET"),
    ("/customers/{wa_id}/export", "GET"),
    ("/customers/{wa_id}", "DELETE"),
]
CALLS = [
    ("GET", "/conversations/100000000000001:15551234567"),
    ("GET", "/sessions/100000000000001:15551234567"),
    ("GET", "/customers/15551234567/export"),
    ("DELETE", "/customers/15551234567"),
]


def load_app(stage: str | None, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """app.py imported afresh (as Lambda or `chalice package` would) with PARLEY_STAGE set."""
    if stage is None:
        monkeypatch.delenv("PARLEY_STAGE", raising=False)
    else:
        monkeypatch.setenv("PARLEY_STAGE", stage)
    spec = importlib.util.spec_from_file_location(f"context_app_{stage}", APP_PY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_every_api_route_is_behind_iam_outside_the_local_stage(
    stage: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    routes = load_app(stage, monkeypatch).app.routes
    for path, method in API_ROUTES:
        assert isinstance(routes[path][method].authorizer, IAMAuthorizer), (path, method)
    assert routes["/health"]["GET"].authorizer is None
    assert isinstance(routes["/health/details"]["GET"].authorizer, IAMAuthorizer)


@pytest.mark.parametrize("stage", ["local", None])
def test_local_stage_has_no_iam_authorizer(
    stage: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    routes = load_app(stage, monkeypatch).app.routes
    assert all(routes[path][method].authorizer is None for path, method in API_ROUTES)


@pytest.mark.parametrize(("method", "path"), CALLS)
def test_missing_api_key_is_a_401(api: Api, method: str, path: str) -> None:
    response = api.client.http.request(method, path, headers={})
    assert response.status_code == 401
    assert response.json_body == {"error": "unauthorized", "message": "missing x-api-key header"}


@pytest.mark.parametrize(("method", "path"), CALLS)
def test_wrong_api_key_is_a_401(api: Api, method: str, path: str) -> None:
    for wrong in ("nope", api.key + "x", api.key[:-1], api.key.upper()):
        response = api.client.http.request(method, path, headers={API_KEY_HEADER: wrong})
        assert response.status_code == 401, wrong
        assert response.json_body["message"] == "wrong x-api-key"


def test_api_key_header_name_is_case_insensitive(api: Api) -> None:
    response = api.client.http.get("/customers/15550000000/export", headers={"X-Api-Key": api.key})
    assert response.status_code == 200


def test_unset_api_key_refuses_every_call_naming_the_setting(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("API_KEY")
    response = api.get("/customers/15550000000/export")
    assert response.status_code == 500
    assert response.json_body["error"] == "configuration_error"
    assert "API_KEY" in response.json_body["message"]


def test_health_needs_no_key(api: Api) -> None:
    assert api.client.http.get("/health").status_code == 200


def test_sweeper_runs_every_minute_and_reports_what_it_did(api: Api) -> None:
    import app

    [schedule] = [s for s in app.app.event_sources if getattr(s, "name", "") == "sweep_sessions"]
    assert schedule.schedule_expression.to_string() == "rate(1 minute)"
    event = api.client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
    )
    report = api.client.lambda_.invoke("sweep_sessions", event).payload
    assert isinstance(report, dict)
    assert all(isinstance(count, int) for count in report.values())
