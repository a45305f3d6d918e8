"""What routes receive through ``Depends``: the app's catalogue, settings, search engine and worker
(kept on ``app.state`` by :func:`api.app.create_app`), a database session, the caller's principal
and the checks made on it, and the names of the member libraries."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi import Path as PathParam
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalog import tokens
from catalog.libraries import UnknownLibrary, get_library
from catalog.models import IngestJob, Library, UnionTombstone
from catalog.search.engine import SearchEngine
from catalog.settings import Settings

from .problems import Problem
from .worker import JobWorker

API = "/api/v1"
MAX_ID = 2_147_483_647
NAMES_TTL = 30.0
RecordId = Annotated[int, PathParam(ge=1, le=MAX_ID, description="union record id")]
JobId = Annotated[int, PathParam(ge=1, le=MAX_ID, description="job id")]
TokenId = Annotated[int, PathParam(ge=1, le=MAX_ID, description="token id")]


# ------------------------------------------------------------------------------------- the app
def get_engine(request: Request) -> Engine:
    return request.app.state.engine  # type: ignore[no-any-return]


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_search(request: Request) -> SearchEngine:
    return request.app.state.search  # type: ignore[no-any-return]


def get_worker(request: Request) -> JobWorker:
    return request.app.state.worker  # type: ignore[no-any-return]


EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SearchDep = Annotated[SearchEngine, Depends(get_search)]
WorkerDep = Annotated[JobWorker, Depends(get_worker)]


def session(engine: EngineDep) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as db:
        yield db


SessionDep = Annotated[Session, Depends(session)]


# ------------------------------------------------------------------------------ who is asking
def principal(request: Request, db: SessionDep, settings: SettingsDep) -> tokens.Principal | None:
    """The principal of the request's bearer token; None without one (a wrong one is a 401)."""
    header = request.headers.get("authorization", "")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Problem(401, "use 'Authorization: Bearer <token>'")
    found = tokens.authenticate(db, value.strip(), settings.admin_token)
    if found is None:
        raise Problem(401, "unknown or revoked token")
    noted_use(request, found)
    return found


def noted_use(request: Request, who: tokens.Principal | None) -> None:
    """Note the use of a library's token (its ``last_used_at``, written now and then)."""
    if who is not None and who.token_id is not None:
        request.app.state.token_usage.seen(who.token_id)


def require(who: tokens.Principal | None) -> tokens.Principal:
    if who is None:
        raise Problem(401, "this needs a token: 'Authorization: Bearer <token>'")
    return who


PrincipalDep = Annotated[tokens.Principal | None, Depends(principal)]


def require_admin(who: PrincipalDep) -> tokens.Principal:
    who = require(who)
    if not who.admin:
        raise Problem(403, "only an admin may do this")
    return who


AdminDep = Annotated[tokens.Principal, Depends(require_admin)]


# --------------------------------------------------------------------------- libraries, jobs
def library_or_404(db: Session, code: str) -> Library:
    try:
        return get_library(db, code)
    except UnknownLibrary as exc:
        raise Problem(404, str(exc)) from None


def own_library_or_403(db: Session, code: str, who: tokens.Principal | None, doing: str) -> Library:
    """The library ``code``, when ``who`` is that library or an admin."""
    lib = library_or_404(db, code)
    if not require(who).may_write(lib.code):
        raise Problem(403, f"only {lib.code} or an admin may {doing}")
    return lib


def union_record_missing(db: Session, record_id: int) -> Problem:
    """Why there is no union record ``record_id``: 410 Gone when it existed and was deleted (merged
    into another or withdrawn; ids are never reused, so its URL keeps naming it), else 404."""
    if 0 < record_id <= MAX_ID and db.get(UnionTombstone, record_id) is not None:
        return Problem(
            410,
            f"union record {record_id} was deleted: merged into another record or withdrawn by its libraries",
        )
    return Problem(404, f"no union record {record_id}")


def owned_job(db: Session, job_id: int, who: tokens.Principal | None) -> tuple[IngestJob, str]:
    """The job and its library's code, when ``who`` may see it: that library or an admin."""
    if not 0 < job_id <= MAX_ID:  # no such number in any database (and past SQLite's integers)
        raise Problem(404, f"no job {job_id}")
    row = db.execute(
        select(IngestJob, Library.code)
        .join(Library, Library.id == IngestJob.library_id)
        .where(IngestJob.id == job_id)
    ).first()
    if row is None:
        raise Problem(404, f"no job {job_id}")
    job, code = row
    visible_job(who, code, job_id)
    return job, code


def visible_job(who: tokens.Principal | None, code: str | None, job_id: int) -> None:
    """A library's job is seen by that library and an admin, a job of the whole catalogue (reindex,
    dedup rebuild) by an admin; to anyone else it is not found: whose job it is stays unsaid."""
    principal = require(who)
    if not (principal.admin or (code is not None and principal.may_write(code))):
        raise Problem(404, f"no job {job_id}")


_NAMES: dict[int, tuple[float, dict[str, dict[str, str]]]] = {}


def library_names(engine: Engine, lang: str = "vi") -> dict[str, str]:
    """Library code -> name in ``lang`` (the Vietnamese one where a library has no English name),
    read at most every 30 seconds (search pages need them all)."""
    cached = _NAMES.get(id(engine))
    if not cached or time.monotonic() - cached[0] >= NAMES_TTL:
        with engine.connect() as conn:
            rows = conn.execute(select(Library.code, Library.name_vi, Library.name_en)).all()
        names = {
            "vi": {str(code): str(vi) for code, vi, _en in rows},
            "en": {str(code): str(en or vi) for code, vi, en in rows},
        }
        cached = _NAMES[id(engine)] = (time.monotonic(), names)
    return cached[1].get(lang, cached[1]["vi"])


def names(engine: EngineDep) -> dict[str, str]:
    return library_names(engine)


NamesDep = Annotated[dict[str, str], Depends(names)]
