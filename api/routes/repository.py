"""Harvesting a library's digital repository (DSpace ...) into the digital library, on request."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from harvest.queue import enqueue_repository_harvest

from ..deps import API, EngineDep, PrincipalDep, SessionDep, own_library_or_403
from ..problems import Problem, errors
from ..schemas.jobs import HarvestQueued

router = APIRouter(prefix=API)


@router.post(
    "/libraries/{code}/harvest-repository",
    tags=["jobs"],
    status_code=202,
    response_model=HarvestQueued,
    responses=errors(401, 403, 404, 409, 422),
)
def library_harvest_repository(
    code: str,
    db: SessionDep,
    who: PrincipalDep,
    catalogue: EngineDep,
    full: Annotated[bool, Query(description="Read every item again, not only what changed.")] = False,
) -> dict[str, Any]:
    """Harvest the library's digital repository now, in the background: its items' descriptions
    become records, their files digital objects (one harvest at a time per library: asking again
    while one waits changes nothing)."""
    lib = own_library_or_403(db, code, who, "harvest its repository")
    if not lib.repository_url:
        raise Problem(409, f"library {lib.code} has no digital repository to harvest")
    queued = enqueue_repository_harvest(catalogue, lib, full=full) is not None
    return {"library": lib.code, "queued": queued, "jobs": f"{API}/libraries/{lib.code}/jobs"}
