"""The FastAPI application."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalog.libraries import library_dict, library_stats, list_libraries
from catalog.models import Holding, Library, SourceRecord, UnionRecord
from catalog.settings import Settings, get_settings

from . import context


def create_app(engine: Engine | None = None, settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="unioncat",
        summary="Union catalogue of the consortium's member libraries",
        version="0.1.0",
        docs_url="/api/v1/docs",
        openapi_url="/api/v1/openapi.json",
    )
    app.state.settings = settings
    app.state.engine = engine

    def get_engine() -> Engine:
        if app.state.engine is None:
            app.state.engine = context.open_engine(settings, migrate="always")
        return app.state.engine

    @app.exception_handler(context.CatalogueUnavailable)
    async def _unavailable(_request: Request, exc: context.CatalogueUnavailable) -> JSONResponse:
        return JSONResponse(
            {"type": "about:blank", "title": "Catalogue unavailable", "status": 503, "detail": str(exc)},
            status_code=503,
            media_type="application/problem+json",
        )

    @app.get("/health", tags=["service"])
    def health() -> JSONResponse:
        """Whether the database answers, with basic counts."""
        try:
            with Session(get_engine()) as session:
                session.execute(text("SELECT 1"))
                counts: dict[str, Any] = {
                    "libraries": session.scalar(select(func.count()).select_from(Library)),
                    "source_records": session.scalar(
                        select(func.count()).select_from(SourceRecord).where(SourceRecord.status == "active")
                    ),
                    "holdings": session.scalar(select(func.count()).select_from(Holding)),
                    "union_records": session.scalar(select(func.count()).select_from(UnionRecord)),
                }
        except Exception as exc:
            return JSONResponse(
                {"status": "unavailable", "database": "unreachable", "detail": context._first_line(exc)},
                status_code=503,
            )
        return JSONResponse({"status": "ok", "database": "ok", "counts": counts})

    @app.get("/api/v1/libraries", tags=["libraries"])
    def libraries() -> list[dict[str, Any]]:
        """The member libraries with their record and holding counts and last ingest time."""
        with Session(get_engine()) as session:
            return [library_dict(lib, library_stats(session, lib)) for lib in list_libraries(session)]

    return app
