"""`GET /openapi.json`: an OpenAPI 3.1 document of a service's HTTP API, built from the Chalice
app's own routes plus a `RouteDoc` per route (pydantic models where the route has them).

Built from the routes, not written by hand, so a route cannot exist undocumented: it appears with
`x-parley-undocumented: true` (a test refuses that). The document is built on the first request
and kept for the container's life.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chalice.app import Response
from pydantic import BaseModel

from parley.http import API_KEY_HEADER

if TYPE_CHECKING:
    from chalice import Chalice

OPENAPI_VERSION = "3.1.0"
REF = "#/components/schemas/{model}"
JSON = "application/json"
SERVER_ERRORS = {
    500: "The service is misconfigured (the message names the setting)",
    502: "A dependency (AWS, Redis, WhatsApp) failed; retry",
    503: "A dependency is throttled or a credential is not set; retry later",
}
STATUS_TEXT = {
    400: "The request is invalid (the message says why)",
    401: "Missing or wrong credentials or signature",
    403: "Refused",
    404: "Not found",
    409: "Conflicts with the current state",
    413: "The body is over the size limit",
    415: "Unsupported Content-Type (answered by the gateway)",
}
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every error Parley answers: a stable code and a reason for the caller.",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "stable code, e.g. invalid_input"},
        "message": {"type": "string"},
        "detail": {"type": "object"},
    },
}
# Chalice itself answers some refusals (415, malformed JSON) before a view runs.
GATEWAY_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["Code", "Message"],
    "properties": {"Code": {"type": "string"}, "Message": {"type": "string"}},
}


@dataclass(frozen=True)
class RouteDoc:
    """What the document says of one route (its method and path come from the app)."""

    summary: str
    auth: bool = False  # the x-api-key header locally; API Gateway's IAM authorizer in AWS
    body: type[BaseModel] | None = None  # JSON request body
    body_type: str = JSON
    # One query parameter per model field, or name -> schema (all optional)
    query: type[BaseModel] | Mapping[str, Mapping[str, Any]] | None = None
    path: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # name -> schema
    headers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # required headers
    response: type[BaseModel] | Mapping[str, Any] | None = None  # success body (None: any JSON)
    response_type: str = JSON
    status: int = 200
    errors: tuple[int, ...] = ()  # client errors the route answers, besides 401 when auth
    answers_errors: bool = True  # ParleyError -> 4xx/5xx JSON (parley.http.answers_errors)


HEALTH_DOCS: dict[str, RouteDoc] = {
    "GET /health": RouteDoc(
        "Liveness: answers without calling any dependency",
        response={
            "type": "object",
            "required": ["service", "status"],
            "properties": {"service": {"type": "string"}, "status": {"const": "alive"}},
        },
        answers_errors=False,
    ),
    "GET /health/details": RouteDoc(
        "Every dependency and credential checked (503 when one is not reachable)",
        auth=True,
        response={
            "type": "object",
            "required": ["service", "version", "stage", "healthy", "dependencies"],
            "properties": {
                "service": {"type": "string"},
                "version": {"type": "string"},
                "stage": {"type": "string"},
                "healthy": {"type": "boolean"},
                "dependencies": {"type": "array", "items": {"type": "object"}},
            },
        },
    ),
    "GET /openapi.json": RouteDoc(
        "This document", response={"type": "object"}, answers_errors=False
    ),
}


class _Schemas:
    """Collects pydantic models' JSON schemas into `components.schemas` (refs rewritten)."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {
            "Error": ERROR_SCHEMA,
            "GatewayError": GATEWAY_ERROR_SCHEMA,
        }

    def of(self, model: type[BaseModel], mode: str) -> dict[str, Any]:
        schema = model.model_json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
        self.components.update(schema.pop("$defs", {}))
        name = model.__name__ if mode == "validation" else f"{model.__name__}Out"
        self.components[name] = schema
        return {"$ref": REF.format(model=name)}

    def body(self, value: type[BaseModel] | Mapping[str, Any] | None, mode: str) -> dict[str, Any]:
        if value is None:
            return {}
        if isinstance(value, type):
            return self.of(value, mode)
        return dict(value)


def _parameters(doc: RouteDoc, view_args: list[str]) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": dict(doc.path.get(name, {"type": "string", "minLength": 1})),
        }
        for name in view_args
    ]
    params += [
        {"name": name, "in": "header", "required": True, "schema": dict(schema)}
        for name, schema in doc.headers.items()
    ]
    if isinstance(doc.query, type):
        schema = doc.query.model_json_schema(ref_template=REF)
        required = set(schema.get("required", []))
        params += [
            {"name": name, "in": "query", "required": name in required, "schema": prop}
            for name, prop in schema.get("properties", {}).items()
        ]
    elif doc.query:
        params += [
            {"name": name, "in": "query", "required": False, "schema": dict(schema)}
            for name, schema in doc.query.items()
        ]
    return params


def _responses(doc: RouteDoc, schemas: _Schemas) -> dict[str, Any]:
    success = schemas.body(doc.response, "serialization")
    content = {doc.response_type: {"schema": success}} if success else {doc.response_type: {}}
    responses: dict[str, Any] = {str(doc.status): {"description": "OK", "content": content}}
    codes = set(doc.errors) | ({401} if doc.auth else set())
    if doc.body is not None:
        codes.add(415)
    error = {JSON: {"schema": {"$ref": REF.format(model="Error")}}}
    gateway = {JSON: {"schema": {"$ref": REF.format(model="GatewayError")}}}
    for code in sorted(codes):
        body = gateway if code == 415 else error
        responses[str(code)] = {"description": STATUS_TEXT.get(code, "Error"), "content": body}
    if doc.answers_errors:
        for code, text in SERVER_ERRORS.items():
            responses.setdefault(str(code), {"description": text, "content": error})
    return responses


def operation(
    doc: RouteDoc, view_name: str, view_args: list[str], schemas: _Schemas
) -> dict[str, Any]:
    """One OpenAPI operation object."""
    op: dict[str, Any] = {
        "operationId": view_name,
        "summary": doc.summary,
        "parameters": _parameters(doc, view_args),
        "responses": _responses(doc, schemas),
    }
    if doc.body is not None:
        body = schemas.body(doc.body, "validation")
        op["requestBody"] = {"required": True, "content": {doc.body_type: {"schema": body}}}
    if doc.auth:
        op["security"] = [{"apiKey": []}]
    return op


def openapi_document(app: Chalice, service: str, docs: Mapping[str, RouteDoc]) -> dict[str, Any]:
    """The document of every route of `app`; `docs` is keyed `"<METHOD> <path>"`."""
    schemas = _Schemas()
    all_docs = {**HEALTH_DOCS, **docs}
    paths: dict[str, dict[str, Any]] = {}
    for path, methods in sorted(app.routes.items()):
        for method, entry in sorted(methods.items()):
            doc = all_docs.get(f"{method} {path}")
            if doc is None:
                op = operation(RouteDoc(entry.view_name), entry.view_name, entry.view_args, schemas)
                op["x-parley-undocumented"] = True
            else:
                op = operation(doc, entry.view_name, entry.view_args, schemas)
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": f"Parley {service}", "version": _version()},
        "paths": paths,
        "components": {
            "schemas": schemas.components,
            "securitySchemes": {
                "apiKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": API_KEY_HEADER,
                    "description": "The local stage's API key; in AWS, IAM (SigV4) instead.",
                }
            },
        },
    }


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("parley-common")
    except PackageNotFoundError:
        return "0"


def add_openapi_route(app: Chalice, service: str, docs_module: str | None = None) -> None:
    """`GET /openapi.json`, public like `/health`. `docs_module` (imported on the first request,
    so cold starts do not pay for it) holds `ROUTE_DOCS: dict[str, RouteDoc]`."""

    @functools.cache
    def document() -> dict[str, Any]:
        docs = importlib.import_module(docs_module).ROUTE_DOCS if docs_module else {}
        return openapi_document(app, service, docs)

    @app.route("/openapi.json", methods=["GET"])
    def openapi() -> Response:
        return Response(body=document())
