"""HTTP plumbing every service shares: ParleyError -> JSON answer, the caller check of protected
routes, and the two health routes.

A decorator rather than Chalice middleware: Chalice turns a view's exception into its own generic
500 before middleware sees it.
"""

from __future__ import annotations

import functools
import hmac
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from chalice.app import IAMAuthorizer, Response

from parley.errors import InvalidSettings, ParleyError, Unauthorized
from parley.logs import get_logger

if TYPE_CHECKING:
    from chalice import Chalice

    from parley.service import ServiceRuntime

View = TypeVar("View", bound=Callable[..., Any])
API_KEY_HEADER = "x-api-key"


def error_response(error: ParleyError) -> Response:
    """The caller sees the error code and a reason that reveals nothing internal (see
    `ParleyError.public_dict`); the full message is in the log."""
    return Response(body=error.public_dict(), status_code=error.http_status)


def answers_errors(service: str) -> Callable[[View], View]:
    """Every ParleyError a view raises becomes its 4xx/5xx answer, and is logged."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return view(*args, **kwargs)
            except ParleyError as error:
                level = "warning" if error.http_status < 500 else "error"
                getattr(get_logger(service), level)(
                    "request refused",
                    extra={
                        "view": view.__name__,
                        "status": error.http_status,
                        "error": error.code,
                        "reason": error.message,
                        "cause": repr(error.__cause__) if error.__cause__ else None,
                    },
                )
                return error_response(error)

        return wrapper  # type: ignore[return-value]

    return decorate


def behind_iam() -> bool:
    """In AWS (every stage but `local`) protected routes sit behind API Gateway's IAM
    authorizer; locally (chalice local, tests, make run) the x-api-key header stands in."""
    return os.environ.get("PARLEY_STAGE", "local") != "local"


def route_authorizer() -> IAMAuthorizer | None:
    return IAMAuthorizer() if behind_iam() else None


def check_api_key(headers: Mapping[str, str], expected: str | None) -> None:
    """Refuse a request whose API key is missing or wrong (constant-time comparison)."""
    if not expected:
        raise InvalidSettings("API_KEY must be set when the HTTP API is not behind IAM")
    given = headers.get(API_KEY_HEADER)
    if not given:
        raise Unauthorized(f"missing {API_KEY_HEADER} header")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized(f"wrong {API_KEY_HEADER}")


def authenticate(app: Chalice, runtime: ServiceRuntime[Any]) -> None:
    """The current request's caller is who a protected route allows (IAM did it in AWS)."""
    if behind_iam():
        return
    request = app.current_request
    assert request is not None  # Chalice sets it for every route
    check_api_key(request.headers, runtime.settings.api_key)


def add_health_routes(app: Chalice, runtime: ServiceRuntime[Any], service: str) -> None:
    """`GET /health`: liveness for anyone (no AWS call, no resource name). `GET /health/details`:
    every dependency and credential checked, for authenticated callers only."""
    handles_errors = answers_errors(service)

    @app.route("/health")
    def health() -> Response:
        return Response(body={"service": service, "status": "alive"})

    @app.route("/health/details", authorizer=route_authorizer())
    @handles_errors
    def health_details() -> Response:
        authenticate(app, runtime)
        report = runtime.health()
        return Response(body=report, status_code=200 if report["healthy"] else 503)
