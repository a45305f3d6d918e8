"""Whether the service answers: the database, the search engine, and basic counts."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select, text
from sqlmodel import Session

from catalog.models import Holding, Library, SourceRecord, UnionRecord

from .. import context
from ..deps import EngineDep, SearchDep
from ..schemas.service import DatabaseUnreachable, Health

HEALTH_COUNTS_TTL = 30.0
router = APIRouter(tags=["service"])


@router.get(
    "/health",
    response_model=Health,
    responses={
        503: {
            "model": Health | DatabaseUnreachable,
            "description": "The search engine does not answer (degraded), or the database does not",
        }
    },
)
def health(request: Request, catalogue: EngineDep, search: SearchDep) -> JSONResponse:
    """Whether the database and the search engine answer, with basic counts (counted at most
    every 30 s: on a large catalogue counting takes longer than a health check should)."""
    cache: dict[str, Any] = request.app.state.health_counts
    try:
        with Session(catalogue) as db:
            db.execute(text("SELECT 1"))
            cached = cache.get("counts")
            if cached is not None and time.monotonic() - cache["at"] < HEALTH_COUNTS_TTL:
                counts: dict[str, Any] = cached
            else:
                counts = {
                    "libraries": db.scalar(select(func.count()).select_from(Library)),
                    "source_records": db.scalar(
                        select(func.count()).select_from(SourceRecord).where(SourceRecord.status == "active")
                    ),
                    "holdings": db.scalar(select(func.count()).select_from(Holding)),
                    "union_records": db.scalar(select(func.count()).select_from(UnionRecord)),
                }
                cache.update(at=time.monotonic(), counts=counts)
    except Exception as exc:
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable", "detail": context._first_line(exc)},
            status_code=503,
        )
    search_health = search.health()
    ok = search_health.get("status") == "ok"
    return JSONResponse(
        {"status": "ok" if ok else "degraded", "database": "ok", "search": search_health, "counts": counts},
        status_code=200 if ok else 503,
    )
