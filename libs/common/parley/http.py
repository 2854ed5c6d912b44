"""Turns a ParleyError raised by a route into a JSON response with the error's HTTP status.

A decorator rather than Chalice middleware: Chalice turns a view's exception into its own generic
500 before middleware sees it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from chalice.app import Response

from parley.errors import ParleyError
from parley.logs import get_logger

View = TypeVar("View", bound=Callable[..., Any])


def error_response(error: ParleyError) -> Response:
    return Response(body=error.to_dict(), status_code=error.http_status)


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
                    },
                )
                return error_response(error)

        return wrapper  # type: ignore[return-value]

    return decorate
