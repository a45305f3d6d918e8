"""Job records: creation, the queue of jobs that workers claim (with a lease), the end of a job
(succeeded or failed), reports, and the recovery of jobs whose process died.

The queue is the ``ingest_job`` table itself. A worker claims the oldest queued job that may run
now (:func:`claim`): never a job of a library that has a job running, never a job of the whole
catalogue (reindex, dedup-rebuild) beside any other, and never one that another worker claims at
the same moment (PostgreSQL: the claims of all workers take turns on an advisory lock, and the rows
are locked ``FOR UPDATE SKIP LOCKED``; SQLite: the claim is one write transaction, and SQLite has a
single writer). The worker renews its lease (``heartbeat_at``) while the job runs on PostgreSQL; a
job whose worker died (kill -9, a lost machine) is found by its expired lease, or on its own host
by its dead process, and queued again until it has had ``max_attempts``, then failed with the reason.

On PostgreSQL every change that may let a worker start a job (a job queued, queued again, or ended)
also sends a NOTIFY on :data:`CHANNEL` with its transaction, and waiting workers LISTEN to it
(:class:`catalog.job_signals.JobSignals`): they wake at once instead of at their next poll.
"""

from __future__ import annotations

import os
import socket
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, and_, exists, func, insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased

from catalog.db import SQLITE_BUSY_TIMEOUT_S, write_waiting, writing
from catalog.models import IngestJob, JobMode, JobRejection, JobStatus, Library, utcnow

JOB = IngestJob.__table__  # type: ignore[attr-defined]
REJECTION = JobRejection.__table__  # type: ignore[attr-defined]
COUNTS = ("read", "added", "updated", "unchanged", "deleted", "rejected", "warnings")
# The jobs a worker runs from the queue (the others are run by the command that records them).
QUEUED_KINDS = ("upload", "oai", "repository", "reindex", "dedup-rebuild", "text")
CATALOGUE_KINDS = ("reindex", "dedup-rebuild")  # jobs of the whole catalogue, of no library
# Claims of all PostgreSQL workers take turns on this advisory lock (a claim lasts milliseconds).
_CLAIM_LOCK = 0x756E696F6E636174 & 0x7FFFFFFFFFFFFFFF
# The PostgreSQL channel that tells waiting workers a job may start (see the module).
CHANNEL = "unioncat_jobs"


class JobError(RuntimeError):
    pass


def create_job(
    engine: Engine,
    library: Library | None,
    source: str,
    mode: str,
    fmt: str | None,
    filename: str | None,
    *,
    options: dict[str, Any] | None = None,
    job_id: int | None = None,
    wait_seconds: float | None = None,
) -> int:
    """A queued job for ``library`` (None: a job of the whole catalogue), committed at once so that
    it can be followed and reported on. ``job_id``: an id reserved with :func:`reserve_job_id`.
    ``wait_seconds``: how long to wait for SQLite's write lock (by default the busy timeout);
    ``sqlalchemy.exc.OperationalError`` when it stays locked."""
    if mode not in {m.value for m in JobMode}:
        raise JobError(f"unknown mode {mode!r}; use snapshot, update or delete")
    if job_id is None:
        job_id = reserve_job_id(engine)
    values: dict[str, Any] = {
        "library_id": library.id if library is not None else None,
        "source": source,
        "mode": mode,
        "format": fmt,
        "filename": filename,
        "status": JobStatus.QUEUED.value,
        "created_at": utcnow(),
        "options": options,
    }
    if job_id is not None:
        values["id"] = job_id
    with _writing(engine, wait_seconds) as conn:
        new = conn.execute(insert(JOB).values(**values).returning(JOB.c.id)).scalar_one()
        _notify(conn)
        return new


def _notify(conn: Connection) -> None:
    """Wake the workers waiting on PostgreSQL when this transaction commits (see the module)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"NOTIFY {CHANNEL}")


@contextmanager
def _writing(engine: Engine, wait_seconds: float | None) -> Iterator[Connection]:
    """:func:`catalog.db.writing`, waiting at most ``wait_seconds`` for another writer."""
    with writing(engine if wait_seconds is None else write_waiting(engine, wait_seconds)) as conn:
        yield conn


def _id_file(engine: Engine) -> Path | None:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).with_name(Path(database).name + "-jobids")


def reserve_job_id(engine: Engine) -> int | None:
    """A new job id, taken without waiting for a writer. PostgreSQL: from the table's sequence.
    SQLite: from a small file beside the catalogue (a file ingest holds the catalogue's write lock
    for minutes, and an upload must have its job id at once), never below the ids in the catalogue.
    None for an in-memory SQLite catalogue (the insert gives it)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            return int(
                conn.exec_driver_sql(
                    "SELECT nextval(pg_get_serial_sequence('ingest_job', 'id'))"
                ).scalar_one()
            )
    path = _id_file(engine)
    if path is None:
        return None
    with engine.connect() as conn:  # a read: in WAL it never waits for the writer
        floor = conn.execute(select(func.coalesce(func.max(JOB.c.id), 0))).scalar_one()
    ids = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_S, isolation_level=None)
    try:
        ids.execute("CREATE TABLE IF NOT EXISTS last_job_id (id INTEGER NOT NULL)")
        ids.execute("BEGIN IMMEDIATE")
        last = ids.execute("SELECT coalesce(max(id), 0) FROM last_job_id").fetchone()[0]
        new = max(int(last), int(floor)) + 1
        ids.execute("DELETE FROM last_job_id")
        ids.execute("INSERT INTO last_job_id (id) VALUES (?)", (new,))
        ids.execute("COMMIT")
    finally:
        ids.close()
    return new


def job_exists(engine: Engine, job_id: int) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(JOB.c.id).where(JOB.c.id == job_id)).scalar() is not None


def pending(conn: Connection, sources: Sequence[str] = QUEUED_KINDS) -> int:
    """How many jobs of ``sources`` are queued or running."""
    return conn.execute(
        select(func.count())
        .select_from(JOB)
        .where(JOB.c.status.in_((JobStatus.QUEUED.value, JobStatus.RUNNING.value)), JOB.c.source.in_(sources))
    ).scalar_one()


def waiting_job(conn: Connection, library_id: int, source: str) -> int | None:
    """A queued or running job of ``source`` for the library, if there is one."""
    return _job_of(conn, library_id, source, (JobStatus.QUEUED, JobStatus.RUNNING))


def running_job(conn: Connection, library_id: int, source: str) -> int | None:
    """A running job of ``source`` for the library, if there is one."""
    return _job_of(conn, library_id, source, (JobStatus.RUNNING,))


def _job_of(conn: Connection, library_id: int, source: str, statuses: Sequence[JobStatus]) -> int | None:
    return conn.execute(
        select(JOB.c.id).where(
            JOB.c.library_id == library_id,
            JOB.c.source == source,
            JOB.c.status.in_([status.value for status in statuses]),
        )
    ).scalar()


def job_row(conn: Connection, job_id: int) -> dict[str, Any] | None:
    """The job's row with its library's code (None for a job of the whole catalogue)."""
    row = (
        conn.execute(
            select(JOB, Library.code.label("library_code"))  # type: ignore[attr-defined]
            .outerjoin(Library, Library.id == JOB.c.library_id)
            .where(JOB.c.id == job_id)
        )
        .mappings()
        .first()
    )
    return dict(row) if row is not None else None


def _transition(
    conn: Connection, job_id: int, status: JobStatus, *, only_if: JobStatus | None = None, **values: Any
) -> bool:
    """The one place a job's status is written (queued -> running -> succeeded or failed; running ->
    queued again when its worker died). ``only_if``: only when the job has that status now (a
    claim); whether the job was changed."""
    if status is JobStatus.RUNNING:
        values.update(started_at=utcnow(), host=socket.gethostname(), pid=os.getpid())
    elif status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
        values["finished_at"] = utcnow()
    elif status is JobStatus.QUEUED:
        values.update(started_at=None, host=None, pid=None, claimed_by=None, heartbeat_at=None)
    statement = update(JOB).where(JOB.c.id == job_id)
    if only_if is not None:
        statement = statement.where(JOB.c.status == only_if.value)
    changed = bool(conn.execute(statement.values(status=status.value, **values)).rowcount)
    if changed and status is not JobStatus.RUNNING:  # a job waiting for this one may start now
        _notify(conn)
    return changed


def worker_name() -> str:
    """How a worker is named in the jobs it claims: its host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _may_start(job: Any) -> Any:
    """No job runs beside a running job of its library, nor beside a job of the whole catalogue;
    a job of the whole catalogue runs alone."""
    running = aliased(JOB)
    return ~exists().where(
        running.c.status == JobStatus.RUNNING.value,
        or_(
            running.c.library_id == job.c.library_id,
            running.c.library_id.is_(None),
            job.c.library_id.is_(None),
        ),
    )


def claim(engine: Engine, worker: str | None = None) -> int | None:
    """Claim the oldest queued job that may start now for ``worker`` (see the module): it is
    running, claimed by the worker, its lease fresh and its attempts counted. None: nothing to do."""
    worker = worker or worker_name()
    with writing(engine) as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            conn.execute(select(func.pg_advisory_xact_lock(_CLAIM_LOCK)))
        candidate = (
            select(JOB.c.id)
            .where(JOB.c.status == JobStatus.QUEUED.value, JOB.c.source.in_(QUEUED_KINDS), _may_start(JOB))
            .order_by(JOB.c.id)
            .limit(1)
        )
        if postgres:
            candidate = candidate.with_for_update(skip_locked=True, of=JOB)
        job_id = conn.execute(candidate).scalar()
        if job_id is None:
            return None
        claimed = _transition(
            conn,
            job_id,
            JobStatus.RUNNING,
            only_if=JobStatus.QUEUED,
            claimed_by=worker,
            heartbeat_at=utcnow(),
            attempts=JOB.c.attempts + 1,
            error=None,
        )
        return int(job_id) if claimed else None


def heartbeat(engine: Engine, job_id: int, worker: str) -> bool:
    """Renew the lease of ``worker`` on its running job; False when the job is no longer its own."""
    with engine.begin() as conn:
        return bool(
            conn.execute(
                update(JOB)
                .where(
                    JOB.c.id == job_id,
                    JOB.c.claimed_by == worker,
                    JOB.c.status == JobStatus.RUNNING.value,
                )
                .values(heartbeat_at=utcnow())
            ).rowcount
        )


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


def recover_interrupted(
    engine: Engine, lease_seconds: float | None = None, max_attempts: int = 3
) -> list[int]:
    """Jobs left 'running' by a process that no longer exists: of this host, found by their process
    id; of any host, on PostgreSQL, by a lease older than ``lease_seconds`` (their worker renews it
    while it lives). A job a worker claimed from the queue is queued again, until it has had
    ``max_attempts``; the others (and one out of attempts) are marked failed with the reason.

    What they had not committed was rolled back (a file ingest commits once, at its end: the
    catalogue is as it was before it; a harvest keeps the pages it committed, and its counts say
    what they held); this only makes the job history say so.
    """
    host = socket.gethostname()
    this_host = JOB.c.host == host
    condition: Any = this_host
    with writing(engine) as conn:
        if lease_seconds is not None and conn.dialect.name == "postgresql":
            expired = and_(
                JOB.c.claimed_by.is_not(None),
                JOB.c.heartbeat_at < utcnow() - timedelta(seconds=lease_seconds),
            )
            condition = or_(this_host, expired)
        rows = conn.execute(
            select(JOB.c.id, JOB.c.host, JOB.c.pid, JOB.c.source, JOB.c.claimed_by, JOB.c.attempts)
            .where(JOB.c.status == JobStatus.RUNNING.value, condition)
            .with_for_update(skip_locked=True)
        ).all()
        dead = []
        for job_id, job_host, pid, source, claimed_by, attempts in rows:
            if job_host == host and pid is not None and (pid == os.getpid() or _pid_alive(pid)):
                continue  # its process lives (on this host, a process is the surer sign than a lease)
            dead.append(job_id)
            outcome = (
                "the pages committed before stay, and the next harvest goes on after them"
                if source in ("oai", "repository")
                else "nothing was changed"
            )
            reason = f"interrupted: the process running the job ended before it finished; {outcome}"
            if claimed_by is not None and attempts < max_attempts:
                _transition(
                    conn, job_id, JobStatus.QUEUED, error=f"attempt {attempts} {reason}; queued again"
                )
            elif claimed_by is not None:
                _fail(conn, job_id, f"{reason} (attempt {attempts} of {max_attempts}: not tried again)")
            else:
                _fail(conn, job_id, reason)
    return dead


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
