"""The OpenAPI contract: every operation lists the error statuses it really returns,
each with the one error body (docs/api.md#errors), the event stream its
text/event-stream type, metrics their text type. Generated clients and fuzzers
(tests/integration/test_fuzz.py) hold the server to it."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorInfo(BaseModel):
    status: int
    code: str = Field(description="not_authenticated, permission_denied, not_found, ...")
    message: str
    field: str | None
    details: list[ErrorDetail]


class ErrorBody(BaseModel):
    error: ErrorInfo


WHY = {
    "400": "malformed request (e.g. a Content-Length that is not a number)",
    "401": "missing, malformed, unknown, expired or revoked credentials",
    "403": "the caller's role does not allow this",
    "404": "no object of that id or name (or not visible to the caller)",
    "409": "conflicts with the current state (duplicate, still in use, being deleted)",
    "410": "the revision existed and retention removed it",
    "412": "If-Match does not match the current version",
    "413": "request body larger than SDWAN_MAX_BODY_BYTES",
    "422": "invalid input; `field` names it",
    "429": "too many attempts or concurrent requests; see Retry-After",
    "502": "the router's gobgpd is unreachable or refused",
    "503": "the database (database_unavailable) or the identity backend (Keystone) does "
    "not answer; see Retry-After",
    "504": "the router's gobgpd did not answer in time (SDWAN_RIB_TIMEOUT)",
}
_WRITES = {"post", "put", "patch", "delete"}
ROLLBACK = "/v1/revisions/{number}/rollback"
PLANS = {"/v1/intents/plan", "/v1/intents/{intent_id}/plan", "/v1/fleet/plan", ROLLBACK}


def _statuses(path: str, method: str, operation: dict[str, Any]) -> set[str]:
    if path == "/healthz":
        return set()
    found = {"400", "413", "422"}
    if path != "/v1/auth/login":
        found |= {"401", "403", "404", "503"}  # 404: an object named in the path or query
    else:
        found |= {"401", "403", "429", "503"}
    if method in _WRITES:
        found |= {"404", "409"}
    names = {p.get("name", "").lower() for p in operation.get("parameters", [])}
    if "if-match" in names:
        found.add("412")
    if path.endswith(("/rib", "/rib-in", "/rib-out")):
        found |= {"429", "502", "504"}
    if path in PLANS:  # routers read and dry runs, limited per caller
        found.add("429")
    if path == "/v1/events":
        found.add("429")
    if path == ROLLBACK:
        found.add("410")
    return found


def install(app: FastAPI) -> None:
    """Replace ``app.openapi`` by one that completes each operation's responses."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, routes=app.routes, description=app.description
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (ErrorDetail, ErrorInfo, ErrorBody):
            components[model.__name__] = model.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
            components[model.__name__].pop("$defs", None)
        schema["components"]["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "description": "sdwan tokens"},
            "keystone": {
                "type": "apiKey",
                "in": "header",
                "name": "X-Auth-Token",
                "description": "a Keystone v3 token (SDWAN_AUTH_BACKEND=keystone)",
            },
        }
        error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                if path not in ("/healthz", "/v1/auth/login"):
                    operation["security"] = [{"bearer": []}, {"keystone": []}]
                for status in sorted(_statuses(path, method, operation)):
                    responses[status] = {"description": WHY[status], "content": error}
                if path == "/v1/events" and method == "get":
                    ok = responses.setdefault("200", {"description": "events"})
                    ok["content"] = {
                        "application/json": ok.get("content", {}).get(
                            "application/json", {"schema": {}}
                        ),
                        "text/event-stream": {"schema": {"type": "string"}},
                    }
                if path == "/metrics":
                    responses["200"]["content"] = {"text/plain": {"schema": {"type": "string"}}}
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
