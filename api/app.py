"""The FastAPI application: cross-library search, records, holdings lookup, libraries, exports,
uploads by member libraries, jobs, and admin operations (versioned under /api/v1), the OAI-PMH
provider and the web pages.

This module only composes: the routes are in :mod:`api.routes`, one router per resource; what they
share (the catalogue, the settings, the search engine, the job worker, the health counts) is kept on
``app.state`` and reaches them through the dependencies of :mod:`api.deps`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse
from sqlalchemy.engine import Engine

from catalog.search.engine import ConfigurationError, SearchEngine, open_search
from catalog.settings import Settings, get_settings

from . import context, problems
from .deps import API
from .oai_provider import Provider
from .routes import admin, digital, digital_web, holdings, jobs, libraries, oai, records, search, service, web
from .security import SecurityHeaders, docs_page
from .sessions import Sessions
from .uploads import clean_incoming
from .worker import JobWorker

ROUTERS = (service, search, records, holdings, libraries, jobs, admin, oai, web, digital, digital_web)

__all__ = ["API", "create_app"]


def create_app(
    engine: Engine | None = None, settings: Settings | None = None, start_worker: bool = True
) -> FastAPI:
    """The application on ``engine`` (by default the configured catalogue, migrated to the current
    schema) with ``settings``; ``start_worker``: run queued jobs in a thread of this process (tests,
    embedding; ``unioncat serve`` runs them in a worker process beside the server instead)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        clean_incoming(settings)  # partial uploads of a run that stopped mid-upload
        if start_worker:
            app.state.worker.start()
        yield
        app.state.worker.stop()
        if getattr(app.state, "digital_usage", None) is not None:  # the digital library's last counts
            app.state.digital_usage.close()

    app = FastAPI(
        title="unioncat",
        summary="Union catalogue of the consortium's member libraries",
        version="0.1.0",
        docs_url=None,  # served below, with a policy for its inline script
        openapi_url=f"{API}/openapi.json",
        lifespan=lifespan,
    )
    problems.install(app)
    app.add_middleware(SecurityHeaders)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["*"], allow_headers=["*"]
        )
    catalogue = engine or context.open_engine(settings, migrate="always")
    try:
        search_engine: SearchEngine = open_search(settings, catalogue)
    except ConfigurationError as exc:
        raise context.CatalogueUnavailable(str(exc)) from None
    app.state.settings = settings
    app.state.engine = catalogue
    app.state.search = search_engine
    app.state.worker = JobWorker(catalogue, settings, search_engine)
    app.state.oai = Provider(catalogue, settings)
    app.state.sessions = Sessions(settings.signing_key(), catalogue)
    app.state.health_counts = {}
    for module in ROUTERS:
        app.include_router(module.router)
    _document_problems(app)

    @app.get(f"{API}/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return docs_page(f"{API}/openapi.json", f"{app.title} API")

    return app


def _document_problems(app: FastAPI) -> None:
    """The OpenAPI document with every error response as the problem document it is."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problems.problem_media_type(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
