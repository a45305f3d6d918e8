"""The member libraries: listed and read by anyone, added and changed by an admin."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlmodel import Session

from catalog.db import session_scope
from catalog.libraries import (
    DuplicateLibrary,
    LibraryError,
    UnknownLibrary,
    add_library,
    library_dict,
    library_stats,
    list_libraries,
    update_library,
)
from catalog.models import Library

from ..deps import API, AdminDep, EngineDep, SessionDep, library_or_404
from ..problems import Problem, errors
from ..schemas.libraries import LibraryChange, LibraryCreate, LibraryInfo, LibrarySettings

router = APIRouter(prefix=API)


@router.get("/libraries", tags=["libraries"], response_model=list[LibraryInfo])
def libraries(db: SessionDep) -> list[dict[str, Any]]:
    """The member libraries with their record and holding counts and last ingest time."""
    return [_public(lib, db) for lib in list_libraries(db)]


@router.get("/libraries/{code}", tags=["libraries"], response_model=LibraryInfo, responses=errors(404))
def library(code: str, db: SessionDep) -> dict[str, Any]:
    """A member library with its record and holding counts and last ingest time."""
    return _public(library_or_404(db, code), db)


def _public(lib: Library, db: Session) -> dict[str, Any]:
    data = library_dict(lib, library_stats(db, lib))
    data.pop("holdings_config", None)
    return data


@router.post(
    "/libraries",
    tags=["admin"],
    status_code=201,
    response_model=LibrarySettings,
    responses=errors(400, 401, 403, 409, 422, 503),
)
def create_library(body: LibraryCreate, _admin: AdminDep, catalogue: EngineDep) -> dict[str, Any]:
    """Add a member library (admin)."""
    values = body.values()
    name_vi, name = values.pop("name_vi", None), values.pop("name", None)  # both taken out of the settings
    code, name = values.pop("code"), name_vi or name
    try:
        with session_scope(catalogue) as db:
            return library_dict(add_library(db, code, name, **values))
    except DuplicateLibrary as exc:
        raise Problem(409, str(exc)) from None
    except LibraryError as exc:
        raise Problem(422, str(exc)) from None


@router.patch(
    "/libraries/{code}",
    tags=["admin"],
    response_model=LibrarySettings,
    responses=errors(400, 401, 403, 404, 422, 503),
)
def change_library(code: str, body: LibraryChange, _admin: AdminDep, catalogue: EngineDep) -> dict[str, Any]:
    """Change a library's settings (admin); the settings left out stay as they are."""
    try:
        with session_scope(catalogue) as db:
            return library_dict(update_library(db, code, **body.values()))
    except UnknownLibrary as exc:
        raise Problem(404, str(exc)) from None
    except LibraryError as exc:
        raise Problem(422, str(exc)) from None
