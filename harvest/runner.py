"""The job runner: a job is a source of incoming items and how to write them; the runner does the rest.

A source (a file, an OAI-PMH repository) reads its items and writes them through the runner's
transactions (:meth:`RunningJob.transaction`): each locks the library, writes records and deletions
with a :class:`~catalog.store.LibraryWriter`, counts them, records the rejections, brings union
records and a transactional search index up to date in the same transaction, writes the job's
counts with them, and after the commit sends the changed union records to a search engine that is
not transactional. A file ingest writes everything in one transaction (all or nothing); a harvest
commits page after page.

The runner alone moves a job from one status to the next (through :mod:`catalog.jobs`): running
when it starts, succeeded in the source's last transaction (or right after it), failed with the
reason and the counts of what committed when anything goes wrong. Given a job id and a source,
:func:`run_job` runs any job recorded in the catalogue (as a queue of jobs would).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Connection, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalog import holdings, jobs
from catalog.db import writing
from catalog.holdings import HoldingsProfile
from catalog.models import Library, utcnow
from catalog.records import PreparedRecord
from catalog.search.embedded import EmbeddedSearchEngine
from catalog.search.engine import SearchEngine
from catalog.store import LibraryWriter, WriteResult
from catalog.updates import CatalogueUpdater, push_after_commit
from harvest.pool import fewer_collections

ProgressCallback = Callable[[int, int | None], None]  # (records read, byte offset reached)
AfterWrite = Callable[[Connection, WriteResult], None]
JOB = jobs.JOB


class IngestError(RuntimeError):
    """The job cannot run or failed; what it had not committed is unchanged. The message says why."""

    def __init__(self, message: str, job_id: int | None = None) -> None:
        super().__init__(message)
        self.job_id = job_id


class JobSource(Protocol):
    """What a job brings in: it reads its items and writes them through ``job``'s transactions."""

    def ingest(self, job: RunningJob) -> None:
        """Read every item and write it (raise :class:`IngestError` with the reason to fail the job)."""

    def kept(self, job: RunningJob) -> str:
        """What stays of the job when it fails now (said after the reason in the job's error)."""


def profile_for(library: Library) -> HoldingsProfile | None:
    try:
        return holdings.resolve(library.holdings_profile, library.holdings_config)
    except ValueError as exc:
        raise IngestError(f"library {library.code}: {exc}") from None


def job_search(engine: Engine, search: SearchEngine | None) -> SearchEngine | None:
    """The engine a job keeps up to date: the one given, else the embedded one of a SQLite catalogue."""
    if search is None and engine.dialect.name == "sqlite":
        return EmbeddedSearchEngine(engine)
    return search


def rows_library(code: str, search: SearchEngine | None) -> str | None:
    """The library to give ``prepare``, so that workers compute the embedded index's rows of the
    records: only when the job writes an index in its own transaction (None: no rows to compute)."""
    return code if search is not None and search.transactional else None


def lock_library(conn: Any, library_id: int) -> None:
    """Two jobs of one library never interleave: PostgreSQL locks the library row until commit.
    (SQLite has a single writer: the job's transaction already excludes every other writer.)"""
    if conn.dialect.name == "postgresql":
        table = Library.__table__  # type: ignore[attr-defined]
        conn.execute(select(table.c.id).where(table.c.id == library_id).with_for_update())


class Transaction:
    """One transaction of a running job, its library locked: the records written through it, their
    union records and index rows, the rejections and the job's counts commit together or not at all."""

    def __init__(self, job: RunningJob, conn: Connection) -> None:
        self.job = job
        self.conn = conn
        self.counts = job.counts
        self.writer = LibraryWriter(conn, job.library_id, job.job_id, utcnow())
        self.updater = CatalogueUpdater(conn, job.ignore_isbns, job.search, job.code)
        self.rejections: list[dict[str, Any]] = []

    def accept(self, prepared: PreparedRecord) -> None:
        """A record read and prepared, to be written (by :meth:`write`)."""
        counts = self.counts
        counts["read"] += 1
        if prepared.warnings:
            counts["warnings"] += 1

    def reject(self, number: int, offset: int | None, local_id: str | None, reason: str | None) -> None:
        """A record read that cannot be taken: reported with its place and the reason."""
        counts = self.counts
        counts["read"] += 1
        counts["rejected"] += 1
        self.rejections.append(
            {
                "record_number": number,
                "byte_offset": offset,
                "local_id": local_id,
                "reason": reason or "rejected",
            }
        )

    def read(self) -> None:
        """An item read that is neither a record nor a rejection (a harvested deletion)."""
        self.counts["read"] += 1

    def write(self, records: Sequence[PreparedRecord]) -> WriteResult:
        """Add, replace or confirm ``records`` (see :meth:`LibraryWriter.write`)."""
        return self.apply(self.writer.write(records))

    def apply(self, result: WriteResult) -> WriteResult:
        """Count what a write or deletion of the job's writer did, and bring the union records (and a
        transactional index) of the records it touched up to date."""
        counts = self.counts
        counts["added"] += result.added
        counts["updated"] += result.updated
        counts["unchanged"] += result.unchanged
        counts["deleted"] += result.deleted
        job = self.job
        if job.maintain:
            self.updater.records_changed(result.touched, result.documents, result.fresh)
        if job.after_write is not None:
            job.after_write(self.conn, result)
        return result

    def record_rejections(self) -> None:
        """Write the rejections collected so far (done at the end of the transaction in any case)."""
        jobs.record_rejections(self.conn, self.job.job_id, self.rejections)
        self.rejections.clear()


@dataclass
class RunningJob:
    """A job that runs: its library, its counts so far and what its commits changed."""

    engine: Engine
    job_id: int
    library_id: int
    code: str
    profile: HoldingsProfile | None
    search: SearchEngine | None = None
    ignore_isbns: Sequence[str] = ()
    maintain: bool = True
    progress: ProgressCallback | None = None
    after_write: AfterWrite | None = None
    counts: dict[str, int] = field(default_factory=lambda: {k: 0 for k in jobs.COUNTS})
    commits: int = 0  # transactions committed
    finished: bool = False
    dedup_seconds: float = 0.0
    index_seconds: float = 0.0
    union_ids: set[int] = field(default_factory=set)
    index_error: str | None = None

    @property
    def rows_library(self) -> str | None:
        """See :func:`rows_library`; None when the job does not maintain union records and index."""
        return rows_library(self.code, self.search) if self.maintain else None

    @contextmanager
    def transaction(self, last: bool = False) -> Iterator[Transaction]:
        """A transaction of the job's writes. When the block ends, the job's counts are written in
        it (and with ``last``, the job marked succeeded), and it commits; when the block raises, it is
        rolled back, and so are the counts it made. Once committed, a search engine that is not
        transactional is sent the union records it changed."""
        before = dict(self.counts)
        try:
            with writing(self.engine) as conn:
                lock_library(conn, self.library_id)
                tx = Transaction(self, conn)
                yield tx
                tx.record_rejections()
                if self.maintain:
                    tx.updater.finish()
                if last:
                    jobs.finish(conn, self.job_id, self.counts)
                else:
                    jobs.set_counts(conn, self.job_id, self.counts)
        except BaseException:
            self.counts.update(before)
            raise
        self.commits += 1
        self.finished = self.finished or last
        self._after_commit(tx.updater)

    def _after_commit(self, updater: CatalogueUpdater) -> None:
        self.dedup_seconds += updater.summary.dedup_seconds
        self.index_seconds += updater.summary.index_seconds
        changed = updater.summary.changed_union_ids
        self.union_ids |= changed
        search = self.search
        if search is None or search.transactional or not changed or self.index_error is not None:
            return
        start = time.perf_counter()
        try:
            push_after_commit(self.engine, search, changed)
        except Exception as exc:  # the catalogue is right; the index catches up with 'unioncat reindex'
            self.index_error = f"search index not updated ({exc}); run 'unioncat reindex'"
        self.index_seconds += time.perf_counter() - start

    def summary(self) -> dict[str, Any]:
        """The job as recorded, and what its commits changed."""
        with self.engine.connect() as conn:
            result = jobs.job_dict(conn, self.job_id, self.code)
        result["union_records_changed"] = len(self.union_ids)
        result["dedup_seconds"] = round(self.dedup_seconds, 2)
        result["index_seconds"] = round(self.index_seconds, 2)
        if self.index_error is not None:
            result["index_error"] = self.index_error
        return result


def _library_of(engine: Engine, job_id: int) -> Library:
    with Session(engine) as session:
        library_id = session.execute(select(JOB.c.library_id).where(JOB.c.id == job_id)).scalar_one_or_none()
        if library_id is None:
            raise IngestError(f"no job {job_id}")
        library = session.get(Library, library_id)
        assert library is not None
        session.expunge(library)
        return library


def run_job(
    engine: Engine,
    job_id: int,
    source: JobSource,
    *,
    search: SearchEngine | None = None,
    ignore_isbns: Sequence[str] = (),
    maintain: bool = True,
    progress: ProgressCallback | None = None,
    after_write: AfterWrite | None = None,
) -> dict[str, Any]:
    """Run the recorded job ``job_id`` with ``source`` and return its summary: the job as recorded
    (counts, status, id), the union records it changed and the seconds deduplication and indexing
    took (``index_error`` when a search engine that is not transactional could not be sent them).

    ``search``: the engine kept up to date (by default the embedded one of a SQLite catalogue).
    ``maintain=False`` skips union records and indexing: only for benchmarks that measure their cost
    (the catalogue is left without them; 'unioncat dedup --rebuild' puts it right). ``after_write``
    runs after every write of the job, on its transaction.

    Raises :class:`IngestError` (of the source's kind) when the job failed; it is recorded failed
    with the reason, what stays of it and the counts of what it committed. Any other exception (an
    interruption, a bug) is recorded the same way and raised as it is.
    """
    jobs.recover_interrupted(engine)
    job: RunningJob | None = None
    try:
        library = _library_of(engine, job_id)
        assert library.id is not None
        job = RunningJob(
            engine,
            job_id,
            library.id,
            library.code,
            profile_for(library),
            job_search(engine, search),
            ignore_isbns,
            maintain,
            progress,
            after_write,
        )
        jobs.mark_running(engine, job_id)
        with fewer_collections():
            source.ingest(job)
        if not job.finished:
            with job.transaction(last=True):
                pass
    except IngestError as exc:
        _fail(engine, job_id, job, source, str(exc))
        raise type(exc)(str(exc), job_id) from None
    except BaseException as exc:
        reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"internal error: {exc!r}"
        _fail(engine, job_id, job, source, reason)
        raise
    return job.summary()


def _fail(engine: Engine, job_id: int, job: RunningJob | None, source: JobSource, reason: str) -> None:
    """The job failed: recorded with the reason, what stays of it, and the counts it committed."""
    kept = source.kept(job) if job is not None and job.commits else "; nothing was changed"
    jobs.fail(engine, job_id, reason + kept, job.counts if job is not None else None)
