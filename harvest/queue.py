"""Putting jobs on the queue: uploads, harvests and the jobs of the whole catalogue (reindex,
dedup-rebuild), for the workers to run (see :mod:`catalog.jobs` for the claim and
:mod:`harvest.worker` for the workers).

An upload is kept in the uploads folder (shared by every worker: a volume or network share) under
its job's id. Its job is recorded at once when the catalogue can take the write; on SQLite a file
ingest holds the catalogue's write lock for minutes, so the upload waits at most
:data:`UPLOAD_WAIT_SECONDS` for it and otherwise leaves a small note beside the file: the job id
(reserved without the lock) is answered at once, the job reads as queued from the note, and the
next worker to look records it (:func:`record_pending_uploads`). On PostgreSQL rows are locked, not
the database: the job is recorded at once.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from catalog import jobs
from catalog.libraries import UnknownLibrary, get_library
from catalog.models import JobMode, Library, utcnow
from harvest.oai import due_libraries
from harvest.repository import SOURCE as REPOSITORY
from harvest.repository import due_repositories

log = logging.getLogger("unioncat.queue")
UPLOAD_WAIT_SECONDS = 2.0


def upload_path(uploads_dir: Path, job_id: int) -> Path:
    """Where the file of upload job ``job_id`` is kept until its job has run."""
    return uploads_dir / f"job-{job_id}.upload"


def _note_path(uploads_dir: Path, job_id: int) -> Path:
    return uploads_dir / f"job-{job_id}.json"


def enqueue_upload(
    engine: Engine,
    uploads_dir: Path,
    library: Library,
    mode: str,
    fmt: str | None,
    filename: str,
    received: Path,
) -> int:
    """Queue the upload ``received`` (a file in ``uploads_dir``) for ``library``; its job id, at once."""
    if mode not in {m.value for m in JobMode}:
        raise jobs.JobError(f"unknown mode {mode!r}; use snapshot, update or delete")
    job_id = jobs.reserve_job_id(engine)
    if job_id is None:  # an in-memory catalogue: nothing else can hold its lock
        job_id = jobs.create_job(engine, library, "upload", mode, fmt, filename)
        received.rename(upload_path(uploads_dir, job_id))
        return job_id
    received.rename(upload_path(uploads_dir, job_id))  # the file is in place before the job is
    try:
        jobs.create_job(
            engine, library, "upload", mode, fmt, filename, job_id=job_id, wait_seconds=UPLOAD_WAIT_SECONDS
        )
    except OperationalError:  # SQLite's write lock is held by a job: the note stands for the job
        note = {
            "job_id": job_id,
            "library": library.code,
            "mode": mode,
            "format": fmt,
            "filename": filename,
            "created_at": utcnow().isoformat(),
        }
        partial = uploads_dir / f"job-{job_id}.json.part"
        partial.write_text(json.dumps(note))
        os.replace(partial, _note_path(uploads_dir, job_id))
    return job_id


def pending_upload(uploads_dir: Path, job_id: int) -> dict[str, Any] | None:
    """The note of an upload whose job is not recorded yet (see the module), or None."""
    try:
        return json.loads(_note_path(uploads_dir, job_id).read_text())  # type: ignore[no-any-return]
    except (FileNotFoundError, ValueError):
        return None


def record_pending_uploads(engine: Engine, uploads_dir: Path) -> list[int]:
    """Record the jobs of the uploads that could not be recorded when they came (oldest first)."""
    if not uploads_dir.is_dir():
        return []
    recorded = []
    notes = sorted(uploads_dir.glob("job-*.json"), key=lambda p: int(p.stem.split("-")[1]))
    for path in notes:
        note = pending_upload(uploads_dir, int(path.stem.split("-")[1]))
        if note is None:
            continue
        job_id = int(note["job_id"])
        if not jobs.job_exists(engine, job_id):
            try:
                with Session(engine) as session:
                    library = get_library(session, note["library"])
            except UnknownLibrary:
                log.warning("upload %s: library %s is gone; the upload is dropped", job_id, note["library"])
                upload_path(uploads_dir, job_id).unlink(missing_ok=True)
                path.unlink(missing_ok=True)
                continue
            jobs.create_job(
                engine, library, "upload", note["mode"], note["format"], note["filename"], job_id=job_id
            )
            recorded.append(job_id)
        path.unlink(missing_ok=True)
    return recorded


def enqueue_harvest(
    engine: Engine, library: Library, full: bool = False, sweep: bool | None = None
) -> int | None:
    """Queue a harvest of ``library``; None when one is already queued or running."""
    assert library.id is not None
    with engine.connect() as conn:
        if jobs.waiting_job(conn, library.id, "oai") is not None:
            return None
    return jobs.create_job(
        engine,
        library,
        "oai",
        JobMode.UPDATE.value,
        "marcxml",
        library.oai_base_url,
        options={"full": full, "sweep": sweep},
    )


def enqueue_repository_harvest(engine: Engine, library: Library, full: bool = False) -> int | None:
    """Queue a harvest of ``library``'s digital repository; None when one is already queued or running."""
    assert library.id is not None
    with engine.connect() as conn:
        if jobs.waiting_job(conn, library.id, REPOSITORY) is not None:
            return None
    return jobs.create_job(
        engine,
        library,
        REPOSITORY,
        JobMode.UPDATE.value,
        library.repository_format or "oai_dc",
        library.repository_url,
        options={"full": full},
    )


def enqueue_due_harvests(engine: Engine) -> list[str]:
    """Queue the harvests of the libraries due one (of their MARC records, of their digital
    repository); their codes."""
    queued = []
    for code in due_libraries(engine):
        with Session(engine) as session:
            library = get_library(session, code)
        if enqueue_harvest(engine, library) is not None:
            queued.append(code)
    for code in due_repositories(engine):
        with Session(engine) as session:
            library = get_library(session, code)
        if enqueue_repository_harvest(engine, library) is not None:
            queued.append(f"{code} (repository)")
    return queued


def enqueue_catalogue_job(engine: Engine, kind: str) -> int:
    """Queue a job of the whole catalogue: ``reindex`` (the search index rebuilt from the catalogue)
    or ``dedup-rebuild`` (every union record decided again, then the index)."""
    if kind not in jobs.CATALOGUE_KINDS:
        raise jobs.JobError(f"unknown job kind {kind!r}; use {' or '.join(jobs.CATALOGUE_KINDS)}")
    return jobs.create_job(engine, None, kind, JobMode.UPDATE.value, None, None)


def enqueue_text(engine: Engine, library: Library, object_id: int) -> int:
    """Queue the text job of digital object ``object_id`` of ``library``: its text extracted (anew
    when it was replaced), or its pages removed when it was withdrawn (see :mod:`harvest.fulltext`)."""
    return jobs.create_job(
        engine, library, "text", JobMode.UPDATE.value, None, None, options={"object_id": int(object_id)}
    )
