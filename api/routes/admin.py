"""Admin operations: API tokens; rebuilding the search index and the union records (jobs)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlalchemy.engine import Engine

from catalog import tokens
from catalog.db import session_scope
from catalog.libraries import UnknownLibrary, get_library
from catalog.models import Library
from harvest.queue import enqueue_catalogue_job

from ..deps import API, AdminDep, EngineDep, SessionDep, TokenId
from ..problems import Problem, errors
from ..schemas.jobs import JobQueued
from ..schemas.libraries import NewToken, Token

router = APIRouter(prefix=API, tags=["admin"])


@router.post(
    "/libraries/{code}/tokens",
    status_code=201,
    response_model=NewToken,
    responses=errors(401, 403, 404, 422, 503),
)
def create_token(
    code: str, _admin: AdminDep, catalogue: EngineDep, name: Annotated[str, Query(max_length=200)] = ""
) -> dict[str, Any]:
    """A new API token for the library; the token is in this answer only (admin)."""
    try:
        with session_scope(catalogue) as db:
            record, token = tokens.create_token(db, code, name)
            return {**tokens.token_dict(record, get_library(db, code).code), "token": token}
    except UnknownLibrary as exc:
        raise Problem(404, str(exc)) from None


@router.get("/tokens", response_model=list[Token], responses=errors(401, 403))
def list_api_tokens(db: SessionDep, _admin: AdminDep) -> list[dict[str, Any]]:
    """Every library's tokens, without the tokens themselves (admin)."""
    return tokens.list_tokens(db)


@router.delete("/tokens/{token_id}", response_model=Token, responses=errors(401, 403, 404, 422, 503))
def revoke_token(token_id: TokenId, _admin: AdminDep, catalogue: EngineDep) -> dict[str, Any]:
    """Revoke a token: it is refused from now on (admin)."""
    try:
        with session_scope(catalogue) as db:
            record = tokens.revoke(db, token_id)
            code = db.get(Library, record.library_id).code  # type: ignore[union-attr]
            return tokens.token_dict(record, code)
    except tokens.TokenError as exc:
        raise Problem(404, str(exc)) from None


def _queued(catalogue: Engine, kind: str, response: Response) -> dict[str, Any]:
    job_id = enqueue_catalogue_job(catalogue, kind)
    url = f"{API}/jobs/{job_id}"
    response.headers["Location"] = url
    return {"job_id": job_id, "status": "queued", "url": url}


@router.post("/admin/reindex", status_code=202, response_model=JobQueued, responses=errors(401, 403, 503))
def admin_reindex(_admin: AdminDep, catalogue: EngineDep, response: Response) -> dict[str, Any]:
    """Rebuild the search index from the catalogue, as a job of the workers (searches keep working
    meanwhile); the answer points at the job (its ``read``: the documents indexed)."""
    return _queued(catalogue, "reindex", response)


@router.post(
    "/admin/dedup-rebuild", status_code=202, response_model=JobQueued, responses=errors(401, 403, 503)
)
def admin_dedup(_admin: AdminDep, catalogue: EngineDep, response: Response) -> dict[str, Any]:
    """Decide every candidate pair again, rebuild all union records, then the index, as a job of the
    workers; the answer points at the job (its ``read``: the union records)."""
    return _queued(catalogue, "dedup-rebuild", response)
