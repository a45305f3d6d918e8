"""RFC 9457 problem details for every error the API returns; never a stack trace."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from catalog.db import is_lock_timeout

log = logging.getLogger("unioncat.api")
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"}
# When a write gave up waiting for another writer (a job holds the catalogue): ask again after this.
RETRY_AFTER_S = 10
MEDIA_TYPE = "application/problem+json"
TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    410: "Gone",
    413: "Upload too large",
    415: "Unsupported media type",
    416: "Range not satisfiable",
    422: "Invalid request",
    500: "Internal server error",
    503: "Service unavailable",
}


class Problem(Exception):
    """An error to answer with a problem document."""

    def __init__(self, status: int, detail: str, title: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or TITLES.get(status, "Error")
        self.extra = extra


def instance(request: Request) -> str:
    """The request the problem occurred on, as the route it matched (``/api/v1/jobs/{job_id}``):
    never the raw path, which is the caller's text (a 404 would echo whatever was asked for)."""
    route = request.scope.get("route")
    return str(getattr(route, "path", None) or "about:blank")


def problem_response(
    status: int,
    detail: str,
    request: Request,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": title or TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": instance(request),
        **extra,
    }
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers or None)


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.detail, request, exc.title, **exc.extra)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # its headers kept: a 405's Allow, say
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed(request) or headers.get("Allow", "")
        return problem_response(exc.status_code, str(exc.detail), request, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"location": ".".join(str(p) for p in err.get("loc", ())), "message": err.get("msg", "invalid")}
            for err in exc.errors()
        ]
        detail = "; ".join(f"{e['location']}: {e['message']}" for e in errors) or "invalid request"
        return problem_response(422, detail, request, errors=errors)

    @app.exception_handler(OperationalError)
    async def _busy(request: Request, exc: OperationalError) -> JSONResponse:
        if not is_lock_timeout(exc):
            return await _unexpected(request, exc)
        return busy(request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return problem_response(500, "the server could not complete the request", request)


def _allowed(request: Request) -> str:
    """The methods the OpenAPI document lists for the request's path ('' for a path it does not
    list): a resource's methods are declared by more than one router, and the router that refused
    the method names only its own."""
    path = request.url.path
    for template, operations in request.app.openapi().get("paths", {}).items():
        pattern = "".join(
            "[^/]+" if part.startswith("{") else re.escape(part)
            for part in re.split(r"(\{[^}]+\})", template)
        )
        if re.fullmatch(pattern, path):
            methods = {m.upper() for m in operations if m.upper() in _METHODS}
            return ", ".join(sorted(methods | ({"HEAD"} if "GET" in methods else set())))
    return ""


def busy(request: Request) -> JSONResponse:
    """503: another writer (an ingest job) holds the catalogue; reading goes on, writing waits."""
    return problem_response(
        503,
        "the catalogue is busy with a job that writes to it; try again shortly",
        request,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


class FieldError(BaseModel):
    location: str = Field(description="where: query.per_page, body.code ...")
    message: str


class ProblemDetails(BaseModel):
    """An error (RFC 9457 problem details), as every error of the API is answered."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str
    errors: list[FieldError] | None = Field(None, description="each invalid parameter (422 only)")


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of a route's possible errors, each a problem document."""
    return {status: {"model": ProblemDetails, "description": TITLES[status]} for status in statuses}


def problem_media_type(schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with its error responses served as application/problem+json, as they are:
    those declared with :func:`errors`, and the 422 FastAPI adds to every route with parameters (its
    validation errors are answered as problem documents too, see :func:`install`)."""
    reference = {"$ref": f"#/components/schemas/{ProblemDetails.__name__}"}
    fastapi_default = {"$ref": "#/components/schemas/HTTPValidationError"}
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                body = content.get("application/json", {})
                if status == "422" and body.get("schema") == fastapi_default:
                    response["description"] = TITLES[422]
                    body["schema"] = reference
                if status[:1] in "45" and body.get("schema") == reference:
                    content[MEDIA_TYPE] = content.pop("application/json")
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    return schema
