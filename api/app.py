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
from sqlalchemy.engine import Engine

from catalog.db import write_waiting
from catalog.search.engine import ConfigurationError, SearchEngine, open_search
from catalog.settings import Settings, get_settings
from catalog.token_usage import TokenUsage

from . import context, problems
from .deps import API
from .oai_provider import Provider
from .routes import (
    admin,
    digital,
    digital_web,
    docs,
    holdings,
    jobs,
    libraries,
    oai,
    records,
    search,
    service,
    sru,
    web,
)
from .routes import analytics as analytics_api
from .routes import analytics_pages as analytics_web
from .routes import corrections as correction_routes
from .routes import feeds as feed_routes
from .routes import record_marc as record_marc_routes
from .routes import repository as repository_routes
from .security import SecurityHeaders
from .sessions import Sessions
from .uploads import clean_incoming
from .worker import JobWorker

ROUTERS = (service, search, records, holdings, libraries, jobs, admin, oai, sru, web, docs)
ROUTERS += (analytics_api, analytics_web, repository_routes)
ROUTERS += (correction_routes, record_marc_routes)
ROUTERS += (feed_routes,)  # citations and Atom feeds
ROUTERS += (digital, digital_web)

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
        app.state.token_usage.flush()
        if getattr(app.state, "digital_usage", None) is not None:  # the digital library's last counts
            app.state.digital_usage.close()

    app = FastAPI(
        title="unioncat",
        summary="Union catalogue of the consortium's member libraries",
        version="0.1.0",
        docs_url=None,  # served by routes.docs, its files from this service and a policy for its script
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
    app.state.engine = write_waiting(catalogue)  # a request never waits long for a job's write lock
    app.state.search = search_engine
    app.state.worker = JobWorker(catalogue, settings, search_engine)
    app.state.oai = Provider(catalogue, settings)
    app.state.sessions = Sessions(settings.signing_key(), app.state.engine)
    app.state.token_usage = TokenUsage(catalogue)
    app.state.health_counts = {}
    for module in ROUTERS:
        app.include_router(module.router)
    _document_problems(app)
    return app


def _document_problems(app: FastAPI) -> None:
    """The OpenAPI document with every error response as the problem document it is."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problems.problem_media_type(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
