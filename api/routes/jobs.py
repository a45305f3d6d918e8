"""Libraries' uploads and harvests, and the jobs that ingest them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalog import jobs as job_records
from catalog.job_progress import read_progress
from catalog.models import JobMode
from catalog.tokens import Principal
from harvest import sources
from harvest.queue import enqueue_harvest, pending_upload

from ..deps import (
    API,
    EngineDep,
    JobId,
    PrincipalDep,
    SessionDep,
    SettingsDep,
    WorkerDep,
    own_library_or_403,
    require,
    visible_job,
)
from ..problems import Problem, errors
from ..schemas.jobs import HarvestQueued, Job, JobStatus, Rejections, UploadAccepted
from ..uploads import queue_upload, receive

router = APIRouter(prefix=API)
_UPLOAD_BODY = {
    "requestBody": {
        "description": "A MARC file (ISO 2709, MARCXML, MARC-in-JSON): the body, or multipart 'file'",
        "required": True,
        "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary", "minLength": 1}}
        },
    }
}


@router.post(
    "/libraries/{code}/uploads",
    tags=["uploads"],
    status_code=202,
    response_model=UploadAccepted,
    responses=errors(401, 403, 404, 413, 422),
    openapi_extra=_UPLOAD_BODY,
)
async def upload(
    code: str,
    request: Request,
    response: Response,
    who: PrincipalDep,
    catalogue: EngineDep,
    settings: SettingsDep,
    worker: WorkerDep,
    mode: Annotated[str, Query(pattern="^(snapshot|update|delete)$")] = JobMode.UPDATE.value,
    format: Annotated[str, Query(max_length=20, json_schema_extra={"enum": sources.FORMAT_NAMES})] = "auto",
) -> dict[str, Any]:
    """Upload a MARC export of the library (multipart field 'file', or the raw body). The file is
    streamed to disk and ingested in the background; the answer points at the job at once."""
    principal = require(who)
    library_code = await run_in_threadpool(_writable_library, catalogue, code, principal)
    try:
        fmt = sources.normalise_format(format)
    except Exception as exc:
        raise Problem(422, str(exc)) from None
    job_id = await queue_upload(worker, library_code, mode, fmt, await receive(request, settings))
    url = f"{API}/jobs/{job_id}"
    response.headers["Location"] = url
    return {"job_id": job_id, "status": "queued", "url": url}


def _writable_library(catalogue: Engine, code: str, principal: Principal) -> str:
    """The code of the library ``principal`` uploads for (run in the thread pool: it reads the database)."""
    with Session(catalogue) as db:
        return own_library_or_403(db, code, principal, "upload its records").code


@router.get("/jobs/{job_id}", tags=["jobs"], response_model=JobStatus, responses=errors(401, 403, 404, 422))
def job(
    job_id: JobId, db: SessionDep, who: PrincipalDep, worker: WorkerDep, settings: SettingsDep
) -> dict[str, Any]:
    """A job's status, progress, counts and where its rejected records are listed."""
    row = job_records.job_row(db.connection(), job_id)
    if row is None:
        note = pending_upload(settings.uploads_dir, job_id)  # an upload not recorded yet: queued
        if note is None:
            raise Problem(404, f"no job {job_id}")
        visible_job(who, note["library"], job_id)
        data: dict[str, Any] = {k: 0 for k in job_records.COUNTS}
        data.update(
            job_id=job_id,
            library=note["library"],
            source="upload",
            mode=note["mode"],
            format=note["format"],
            filename=note["filename"],
            status="queued",
            error=None,
            created_at=note["created_at"],
            started_at=None,
            finished_at=None,
        )
    else:
        visible_job(who, row["library_code"], job_id)
        data = job_records.job_dict(db.connection(), job_id, row["library_code"])
    if data["status"] in ("queued", "running"):  # from this process, or as its worker last wrote it
        data["progress"] = worker.progress.get(job_id) or read_progress(
            db.connection(), settings.uploads_dir, job_id
        )
    else:
        data["progress"] = None
    data["rejections_url"] = f"{API}/jobs/{job_id}/rejections"
    return data


@router.get(
    "/jobs/{job_id}/rejections",
    tags=["jobs"],
    response_model=Rejections,
    responses=errors(401, 403, 404, 422),
)
def job_rejections(
    job_id: JobId,
    db: SessionDep,
    who: PrincipalDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """The records the job rejected: number in the file, byte offset, local id, reason."""
    conn = db.connection()
    row = job_records.job_row(conn, job_id)
    if row is None:
        raise Problem(404, f"no job {job_id}")
    visible_job(who, row["library_code"], job_id)
    return {
        "job_id": job_id,
        "total": job_records.rejection_count(conn, job_id),
        "page": page,
        "per_page": per_page,
        "rejections": job_records.rejections(conn, job_id, (page - 1) * per_page, per_page),
    }


@router.get(
    "/libraries/{code}/jobs", tags=["jobs"], response_model=list[Job], responses=errors(401, 403, 404, 422)
)
def library_jobs(
    code: str, db: SessionDep, who: PrincipalDep, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[dict[str, Any]]:
    """The library's jobs, newest first."""
    lib = own_library_or_403(db, code, who, "see its jobs")
    return job_records.library_jobs(db.connection(), lib.id, lib.code, limit)  # type: ignore[arg-type]


@router.post(
    "/libraries/{code}/harvest",
    tags=["jobs"],
    status_code=202,
    response_model=HarvestQueued,
    responses=errors(401, 403, 404, 409, 422, 503),
)
def library_harvest(
    code: str,
    db: SessionDep,
    who: PrincipalDep,
    catalogue: EngineDep,
    full: Annotated[bool, Query(description="Read everything again, not only what changed.")] = False,
    sweep: Annotated[
        bool | None, Query(description="List all identifiers to find deletions (default: when due).")
    ] = None,
) -> dict[str, Any]:
    """Harvest the library's OAI-PMH repository now, in the background (one harvest at a time per
    library: asking again while one waits changes nothing)."""
    lib = own_library_or_403(db, code, who, "harvest its records")
    if not lib.oai_base_url:
        raise Problem(409, f"library {lib.code} has no OAI-PMH base URL to harvest")
    queued = enqueue_harvest(catalogue, lib, full=full, sweep=sweep) is not None
    return {"library": lib.code, "queued": queued, "jobs": f"{API}/libraries/{lib.code}/jobs"}
