"""schemathesis against a service's own `GET /openapi.json`, in-process through Chalice's local
gateway (the test client), with the service on the real local emulators (service_contract fixtures).

The gateway is wrapped as a WSGI app so schemathesis drives it like any HTTP server. Signers stand
in for the webhook's sender (Meta, Twilio): they sign each generated body exactly as sent, so the
fuzz reaches the parsing behind the signature check instead of stopping at 401.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

# (method, path, raw body, headers) -> headers to add to the request
Signer = Callable[[str, str, bytes, Mapping[str, str]], Mapping[str, str]]
SEED = 20240613
MAX_EXAMPLES = 20
HTTP_REASONS = {200: "OK", 201: "Created", 202: "Accepted"}


class ChaliceWsgi:
    """A WSGI app that forwards each request to a `chalice.test.Client` (API Gateway's local
    twin: route matching, raw path parameters, content-type checks, the stage's variables)."""

    def __init__(self, client: Any, signers: Mapping[str, Signer] | None = None) -> None:
        self.client = client
        self.signers = dict(signers or {})
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        method = environ["REQUEST_METHOD"]
        target = environ.get("RAW_URI") or quote(environ.get("PATH_INFO", "/"))
        if "?" not in target and environ.get("QUERY_STRING"):
            target += "?" + environ["QUERY_STRING"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        signer = self.signers.get(f"{method} {target.split('?')[0]}")
        if signer is not None:
            headers.update({k.lower(): v for k, v in signer(method, target, body, headers).items()})
        self.calls += 1
        response = self.client.http.request(method, target, headers=headers, body=body)
        status = f"{response.status_code} {HTTP_REASONS.get(response.status_code, 'Status')}"
        answered = dict(response.headers)
        if not any(name.lower() == "content-type" for name in answered):
            answered["Content-Type"] = "application/json"  # API Gateway's default, as chalice local
        start_response(status, list(_flat_headers(answered)))
        return [response.body]


def _flat_headers(headers: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    for name, value in headers.items():
        for one in value if isinstance(value, list) else [value]:
            yield name, str(one)


@dataclass
class FuzzReport:
    """What a run saw: the status codes answered per operation, and each failure as text."""

    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def answered(self, operation: str, status: int) -> int:
        return self.statuses.get(operation, Counter())[status]


def fuzz_api(
    client: Any,
    *,
    headers: Mapping[str, str],
    signers: Mapping[str, Signer] | None = None,
    max_examples: int = MAX_EXAMPLES,
) -> FuzzReport:
    """Every operation of the app's document fuzzed with positive data (fixed seed, bounded
    examples): no 5xx, every status code documented, content types and bodies as documented."""
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.core.result import Ok
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    app = ChaliceWsgi(client, signers)
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    report = FuzzReport()
    document = client.http.get("/openapi.json").json_body  # public: no key sent
    report.failures += [
        f"{method.upper()} {path}: the route has no RouteDoc"
        for path, operations in document["paths"].items()
        for method, op in operations.items()
        if op.get("x-parley-undocumented")
    ]
    for result in schema.get_all_operations():
        if isinstance(result, Ok):
            _fuzz_operation(result.ok(), report, headers, checks, max_examples)
        else:  # the document itself is wrong
            report.failures.append(f"invalid operation: {result.err()}")
    return report


def _fuzz_operation(
    operation: Any,
    report: FuzzReport,
    headers: Mapping[str, str],
    checks: list[Any],
    max_examples: int,
) -> None:
    from hypothesis import HealthCheck, Phase, given, seed, settings

    seen = report.statuses.setdefault(operation.label, Counter())

    @seed(SEED)
    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        response = case.call(headers=dict(headers))
        seen[response.status_code] += 1
        case.validate_response(response, checks=checks, headers=dict(headers))

    try:
        run()
    except (Exception, BaseExceptionGroup) as error:  # names the failed checks and request
        report.failures.append(f"{operation.label}: {error}")
