"""One place that turns project errors, validation errors and HTTP errors into the
JSON error body documented in docs/api.md."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException

from sdwan import errors
from sdwan.store import availability

log = logging.getLogger(__name__)
_STATUS: list[tuple[type[errors.SdwanError], int, str]] = [
    (errors.InvalidInput, 422, "invalid_input"),
    (errors.NotAuthenticated, 401, "not_authenticated"),
    (errors.PermissionDenied, 403, "permission_denied"),
    (errors.NotFound, 404, "not_found"),
    (errors.Conflict, 409, "conflict"),
    (errors.PreconditionFailed, 412, "precondition_failed"),
    (errors.Gone, 410, "gone"),
    (errors.TooManyRequests, 429, "too_many_requests"),
    (errors.AuthBackendUnavailable, 503, "auth_backend_unavailable"),
    (errors.StoreUnavailable, 503, "database_unavailable"),
    (errors.SpeakerTimeout, 504, "speaker_timeout"),
    (errors.SpeakerUnreachable, 502, "speaker_unreachable"),
    (errors.SpeakerRejected, 502, "speaker_rejected"),
]
_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
}


def error_body(
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    details: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "error": {
            "status": status,
            "code": code,
            "message": message,
            "field": field,
            "details": details or [],
        }
    }


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    text = ""
    for part in parts:
        text += f"[{part}]" if part.isdigit() else (f".{part}" if text else part)
    return text or "body"


def _reason(error: dict[str, Any]) -> str:
    kind, message = error.get("type", ""), str(error.get("msg", "invalid"))
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "required field is missing"
    if kind == "json_invalid":
        return f"request body is not valid JSON: {error.get('ctx', {}).get('error', '')}".strip()
    return message.removeprefix("Value error, ")


def install(app: FastAPI) -> None:
    @app.exception_handler(errors.SdwanError)
    async def _project_error(_request: Request, exc: errors.SdwanError) -> JSONResponse:
        for kind, status, code in _STATUS:
            if isinstance(exc, kind):
                field = getattr(exc, "field", None)
                headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
                if status == 401:  # who is knocking with what: the reason, no credential
                    log.info("credentials refused: %s", exc.message)
                if isinstance(exc, errors.TooManyRequests):
                    headers = {"Retry-After": str(exc.retry_after)}
                if isinstance(exc, errors.StoreUnavailable):
                    headers = {"Retry-After": "1"}
                return JSONResponse(
                    error_body(status, code, exc.message, field=field),
                    status_code=status,
                    headers=headers,
                )
        return JSONResponse(error_body(500, "internal", exc.message), status_code=500)

    @app.exception_handler(SQLAlchemyError)
    async def _store_error(request: Request, exc: SQLAlchemyError) -> JSONResponse:
        """The database away (PostgreSQL restarting, the network): 503 with a retry
        hint while the pool reconnects by itself. Any other database error is a bug
        and stays a 500 (raised on, so it is logged with its traceback)."""
        if not availability.is_unavailable(exc):
            raise exc
        log.warning("%s %s: %s", request.method, request.url.path, availability.describe(exc))
        return await _project_error(request, errors.StoreUnavailable(availability.MESSAGE))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return _validation_answer(exc.errors())

    @app.exception_handler(ValidationError)
    async def _model_invalid(_request: Request, exc: ValidationError) -> JSONResponse:
        """A model validated below the API edge (a stored value re-read, a service's
        own check): still the caller's input, still a 422 naming the field."""
        return _validation_answer(exc.errors())

    def _validation_answer(errors_: Any) -> JSONResponse:
        details = [
            {
                "field": "body"
                if e.get("type") == "json_invalid"
                else _location(tuple(e.get("loc", ()))),
                "message": _reason(e),
            }
            for e in errors_
        ]
        first = details[0] if details else {"field": "body", "message": "invalid request"}
        message = f"{first['field']}: {first['message']}"
        if len(details) > 1:
            message += f" (and {len(details) - 1} more)"
        return JSONResponse(
            error_body(422, "invalid_input", message, field=first["field"], details=details),
            status_code=422,
        )

    @app.exception_handler(HTTPException)
    async def _http(_request: Request, exc: HTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        return JSONResponse(
            error_body(exc.status_code, code, str(exc.detail)),
            status_code=exc.status_code,
            headers=exc.headers,
        )
