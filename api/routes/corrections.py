"""Corrections of union records by librarians and admins: split a record out, merge two union
records, keep two apart, list and undo the decisions (catalog.corrections). An admin token may
correct any record; a library token only corrections touching the library's own records."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from catalog import corrections
from catalog.db import writing
from catalog.search.engine import SearchEngine
from catalog.settings import Settings
from catalog.tokens import Principal
from catalog.updates import push_after_commit

from ..deps import API, MAX_ID, EngineDep, PrincipalDep, SearchDep, SettingsDep, require
from ..problems import Problem, errors
from ..schemas.corrections import CorrectionList, CorrectionOutcome, KeepApartBody, MergeBody, SplitBody

router = APIRouter(prefix=f"{API}/corrections", tags=["corrections"])
_ERRORS = errors(400, 401, 403, 404, 409, 422, 503)
DecisionId = Annotated[int, Path(ge=1, le=MAX_ID, description="manual decision id")]


def who_decides(who: Principal) -> str:
    return corrections.ADMIN if who.admin else who.library_code or ""


def run(
    engine: Engine, settings: Settings, search: SearchEngine, make: Callable[..., corrections.Outcome]
) -> dict[str, Any]:
    """Make a correction in one transaction, and send the union records it changed to the index.
    Its errors are problem details: 404 for what does not exist, 403 for another library's records,
    409 for a correction that cannot be made (with the reason), 503 while the catalogue is busy."""
    try:
        with writing(engine) as conn:
            done = make(conn, ignore_isbns=settings.dedup_ignore_isbns, search=search)
    except corrections.NotFound as exc:
        raise Problem(404, str(exc)) from None
    except corrections.Forbidden as exc:
        raise Problem(403, str(exc)) from None
    except corrections.CorrectionError as exc:
        raise Problem(409, str(exc)) from None
    except OperationalError:
        raise Problem(503, "the catalogue is busy with another write: try again shortly") from None
    if not search.transactional:
        push_after_commit(engine, search, done.changed)
    return done.as_dict()


@router.post("/split", response_model=CorrectionOutcome, status_code=201, responses=_ERRORS)
def split(
    body: SplitBody, who: PrincipalDep, engine: EngineDep, settings: SettingsDep, search: SearchDep
) -> dict[str, Any]:
    """Take a library's record out of its union record: it becomes a union record of its own, and no
    rule merges it back with the members it had."""
    decider = who_decides(require(who))
    return run(
        engine,
        settings,
        search,
        lambda conn, **kw: corrections.split(conn, (body.library, body.local_id), decider, body.note, **kw),
    )


@router.post("/merge", response_model=CorrectionOutcome, status_code=201, responses=_ERRORS)
def merge(
    body: MergeBody, who: PrincipalDep, engine: EngineDep, settings: SettingsDep, search: SearchDep
) -> dict[str, Any]:
    """Merge two union records into one (refused, 409, where two records of one library would meet).
    A library token needs a member in one of them."""
    decider = who_decides(require(who))
    a, b = body.union_ids
    return run(
        engine, settings, search, lambda conn, **kw: corrections.merge(conn, a, b, decider, body.note, **kw)
    )


@router.post("/keep-apart", response_model=CorrectionOutcome, status_code=201, responses=_ERRORS)
def keep_apart(
    body: KeepApartBody, who: PrincipalDep, engine: EngineDep, settings: SettingsDep, search: SearchDep
) -> dict[str, Any]:
    """Never merge these two (union records or libraries' records); split them now if they are one."""
    decider = who_decides(require(who))
    a, b = body.a.as_target(), body.b.as_target()
    return run(
        engine,
        settings,
        search,
        lambda conn, **kw: corrections.keep_apart(conn, a, b, decider, body.note, **kw),
    )


@router.get("", response_model=CorrectionList, responses=errors(401, 422))
def listed(
    who: PrincipalDep,
    engine: EngineDep,
    library: Annotated[str | None, Query(max_length=16, description="those naming its records")] = None,
) -> dict[str, Any]:
    """The manual decisions, oldest first: all of them for an admin, a library's own for its token."""
    principal = require(who)
    scope = library if principal.admin else principal.library_code
    with engine.connect() as conn:
        return {"decisions": corrections.listed(conn, scope)}


@router.delete("/{decision_id:int}", response_model=CorrectionOutcome, responses=_ERRORS)
def undo(
    decision_id: DecisionId, who: PrincipalDep, engine: EngineDep, settings: SettingsDep, search: SearchDep
) -> dict[str, Any]:
    """Undo a correction: the rules decide its records again. A library undoes its own decisions."""
    decider = who_decides(require(who))
    return run(
        engine, settings, search, lambda conn, **kw: corrections.undo(conn, decision_id, decider, **kw)
    )
