"""Admin operations: API tokens, rebuilding the search index and the union records."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from catalog import tokens
from catalog.db import session_scope, writing
from catalog.libraries import UnknownLibrary, get_library
from catalog.models import Library, UnionRecord
from catalog.search.errors import SearchUnavailable

from ..deps import API, AdminDep, EngineDep, SearchDep, SessionDep, SettingsDep, TokenId
from ..problems import Problem, errors
from ..schemas.libraries import NewToken, Token
from ..schemas.service import Deduplicated, Reindexed

router = APIRouter(prefix=API, tags=["admin"])


@router.post(
    "/libraries/{code}/tokens", status_code=201, response_model=NewToken, responses=errors(401, 403, 404, 422)
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


@router.delete("/tokens/{token_id}", response_model=Token, responses=errors(401, 403, 404, 422))
def revoke_token(token_id: TokenId, _admin: AdminDep, catalogue: EngineDep) -> dict[str, Any]:
    """Revoke a token: it is refused from now on (admin)."""
    try:
        with session_scope(catalogue) as db:
            record = tokens.revoke(db, token_id)
            code = db.get(Library, record.library_id).code  # type: ignore[union-attr]
            return tokens.token_dict(record, code)
    except tokens.TokenError as exc:
        raise Problem(404, str(exc)) from None


@router.post("/admin/reindex", response_model=Reindexed, responses=errors(401, 403, 503))
def admin_reindex(_admin: AdminDep, catalogue: EngineDep, search: SearchDep) -> dict[str, Any]:
    """Rebuild the search index from the catalogue (searches keep working meanwhile)."""
    try:
        return {"engine": search.name, "documents": search.rebuild(catalogue)}
    except SearchUnavailable as exc:
        raise Problem(503, str(exc)) from None


@router.post("/admin/dedup-rebuild", response_model=Deduplicated, responses=errors(401, 403, 503))
def admin_dedup(
    _admin: AdminDep, catalogue: EngineDep, search: SearchDep, settings: SettingsDep
) -> dict[str, Any]:
    """Decide every candidate pair again, rebuild all union records, then the index."""
    from catalog.dedup.clusters import rebuild

    with writing(catalogue) as conn:
        rebuild(conn, settings.dedup_ignore_isbns)
        unions = conn.execute(select(func.count()).select_from(UnionRecord)).scalar_one()
    try:
        search.rebuild(catalogue)
    except SearchUnavailable as exc:
        raise Problem(503, str(exc)) from None
    return {"union_records": unions}
