"""Ingest job records: creation, the end of a job (succeeded or failed), reports, crash recovery."""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.engine import Engine

from catalog.db import writing
from catalog.models import IngestJob, JobMode, JobRejection, JobStatus, Library, utcnow

JOB = IngestJob.__table__  # type: ignore[attr-defined]
REJECTION = JobRejection.__table__  # type: ignore[attr-defined]
COUNTS = ("read", "added", "updated", "unchanged", "deleted", "rejected", "warnings")


class JobError(RuntimeError):
    pass


def create_job(
    engine: Engine, library: Library, source: str, mode: str, fmt: str | None, filename: str | None
) -> int:
    """A queued job for ``library``, committed at once so that it can be followed and reported on."""
    if mode not in {m.value for m in JobMode}:
        raise JobError(f"unknown mode {mode!r}; use snapshot, update or delete")
    with writing(engine) as conn:
        return conn.execute(
            insert(JOB)
            .values(
                library_id=library.id,
                source=source,
                mode=mode,
                format=fmt,
                filename=filename,
                status=JobStatus.QUEUED.value,
                created_at=utcnow(),
            )
            .returning(JOB.c.id)
        ).scalar_one()


def _transition(conn: Connection, job_id: int, status: JobStatus, **values: Any) -> None:
    """The one place a job's status is written (queued -> running -> succeeded or failed)."""
    if status is JobStatus.RUNNING:
        values.update(started_at=utcnow(), host=socket.gethostname(), pid=os.getpid())
    elif status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
        values["finished_at"] = utcnow()
    conn.execute(update(JOB).where(JOB.c.id == job_id).values(status=status.value, **values))


def _counts(counts: dict[str, int]) -> dict[str, int]:
    return {k: counts.get(k, 0) for k in COUNTS}


def mark_running(engine: Engine, job_id: int) -> None:
    with writing(engine) as conn:
        _transition(conn, job_id, JobStatus.RUNNING)


def record_rejections(conn: Connection, job_id: int, rejections: Sequence[dict[str, Any]]) -> None:
    if rejections:
        conn.execute(insert(REJECTION), [{"job_id": job_id, **r} for r in rejections])


def set_counts(conn: Connection, job_id: int, counts: dict[str, int]) -> None:
    """The counts of a job that commits as it goes (a harvest, page by page)."""
    conn.execute(update(JOB).where(JOB.c.id == job_id).values(**_counts(counts)))


def finish(conn: Connection, job_id: int, counts: dict[str, int]) -> None:
    """Mark the job succeeded with its counts, inside the job's own (last) transaction."""
    _transition(conn, job_id, JobStatus.SUCCEEDED, **_counts(counts))


def fail(engine: Engine, job_id: int, reason: str, counts: dict[str, int] | None = None) -> None:
    """Mark the job failed with its reason and, when given, the counts of what it committed (what
    did not commit was rolled back: it added nothing)."""
    with writing(engine) as conn:
        _fail(conn, job_id, reason, counts)


def _fail(conn: Connection, job_id: int, reason: str, counts: dict[str, int] | None = None) -> None:
    _transition(conn, job_id, JobStatus.FAILED, error=reason[:2000], **(_counts(counts) if counts else {}))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_interrupted(engine: Engine) -> list[int]:
    """Jobs left 'running' by a process of this host that no longer exists are marked failed.

    What they had not committed was rolled back (a file ingest commits once, at its end: the
    catalogue is as it was before it; a harvest keeps the pages it committed, and its counts say
    what they held); this only makes the job history say so.
    """
    host = socket.gethostname()
    with writing(engine) as conn:
        rows = conn.execute(
            select(JOB.c.id, JOB.c.pid, JOB.c.source).where(
                JOB.c.status == JobStatus.RUNNING.value, JOB.c.host == host
            )
        ).all()
        dead = [
            (job_id, source)
            for job_id, pid, source in rows
            if pid is None or (pid != os.getpid() and not _pid_alive(pid))
        ]
        for job_id, source in dead:
            outcome = (
                "the pages committed before stay, and the next harvest goes on after them"
                if source == "oai"
                else "nothing was changed"
            )
            _fail(
                conn, job_id, f"interrupted: the process running the job ended before it finished; {outcome}"
            )
    return [job_id for job_id, _ in dead]


def job_dict(conn: Connection, job_id: int, library_code: str | None = None) -> dict[str, Any]:
    row = conn.execute(select(JOB).where(JOB.c.id == job_id)).mappings().one()
    data = {
        "job_id": row["id"],
        "library": library_code,
        "source": row["source"],
        "mode": row["mode"],
        "format": row["format"],
        "filename": row["filename"],
        "status": row["status"],
        "error": row["error"],
        "created_at": row["created_at"].isoformat() if row["created_at"] else None,
        "started_at": row["started_at"].isoformat() if row["started_at"] else None,
        "finished_at": row["finished_at"].isoformat() if row["finished_at"] else None,
    }
    data.update({k: row[k] for k in COUNTS})
    return data


def rejections(conn: Connection, job_id: int, offset: int = 0, limit: int = 100) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(REJECTION.c.record_number, REJECTION.c.byte_offset, REJECTION.c.local_id, REJECTION.c.reason)
        .where(REJECTION.c.job_id == job_id)
        .order_by(REJECTION.c.id)
        .offset(offset)
        .limit(limit)
    ).mappings()
    return [dict(r) for r in rows]


def rejection_count(conn: Connection, job_id: int) -> int:
    return conn.execute(
        select(func.count()).select_from(REJECTION).where(REJECTION.c.job_id == job_id)
    ).scalar_one()


def library_jobs(
    conn: Connection, library_id: int, library_code: str, limit: int = 50
) -> list[dict[str, Any]]:
    """A library's most recent jobs, newest first."""
    ids = conn.execute(
        select(JOB.c.id).where(JOB.c.library_id == library_id).order_by(JOB.c.id.desc()).limit(limit)
    ).scalars()
    return [job_dict(conn, job_id, library_code) for job_id in list(ids)]
