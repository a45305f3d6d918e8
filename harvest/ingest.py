"""The ingest pipeline: one file of one library becomes one atomic job.

read (split) -> decode -> prepare (map fields, holdings, keys) -> write in batches -> snapshot deletions
-> job summary. Decoding and preparing run in worker processes for large files; writing stays in
this process, on a single transaction, so a job that fails or is killed changes nothing.
"""

from __future__ import annotations

import contextlib
import gc
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalog import holdings, jobs
from catalog.db import writing
from catalog.holdings import HoldingsProfile
from catalog.libraries import get_library
from catalog.mapping import native_tags
from catalog.models import JobMode, Library, utcnow
from catalog.records import PreparedRecord
from catalog.search.embedded import EmbeddedSearchEngine
from catalog.search.engine import SearchEngine
from catalog.store import LibraryWriter, WriteResult
from catalog.updates import CatalogueUpdater, UpdateSummary, push_after_commit
from harvest import sources
from harvest.incoming import FormatError, Incoming
from harvest.prepare import GC_THRESHOLDS, Outcome, packed, process, process_chunk, unpacked, worker_start

ProgressCallback = Callable[[int, int | None], None]  # (records read, byte offset reached)
PARALLEL_MIN_BYTES = 16 * 1024 * 1024
_WORK_CHUNK = 400
_AHEAD = 4  # chunks in flight per worker


class IngestError(RuntimeError):
    """The job cannot run or failed; the catalogue is unchanged. The message says why."""

    def __init__(self, message: str, job_id: int | None = None) -> None:
        super().__init__(message)
        self.job_id = job_id


def profile_for(library: Library) -> HoldingsProfile | None:
    try:
        return holdings.resolve(library.holdings_profile, library.holdings_config)
    except ValueError as exc:
        raise IngestError(f"library {library.code}: {exc}") from None


def _chunked(items: Iterable[Incoming], size: int) -> Iterator[list[Incoming]]:
    chunk: list[Incoming] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def outcomes(
    items: Iterable[Incoming], profile: HoldingsProfile | None, workers: int, library: str | None = None
) -> Iterator[Outcome]:
    """Outcomes in file order; with ``workers`` > 1 the work is spread over that many processes.
    ``library``: the embedded search engine's rows are computed with the records (see prepare).

    A feeder thread reads the file and keeps the workers supplied while this process writes (the
    writes run in SQLite, which lets the feeder run meanwhile); at most ``workers * _AHEAD`` chunks
    are in flight, so memory stays flat whatever the file size."""
    if workers <= 1:
        tags = native_tags(profile)
        for item in items:
            yield process(item, profile, library, tags)
        return
    with worker_pool(workers) as pool:
        ahead: queue.Queue[Future[bytes] | BaseException | None] = queue.Queue(workers * _AHEAD)
        stop = threading.Event()

        def feed() -> None:
            try:
                for chunk in _chunked(items, _WORK_CHUNK):
                    if stop.is_set():
                        return
                    ahead.put(pool.submit(packed, process_chunk, chunk, profile, library))
            except BaseException as exc:  # a file that cannot be read further: raised in file order
                ahead.put(exc)
            else:
                ahead.put(None)

        feeder = threading.Thread(target=feed, name="ingest-feeder", daemon=True)
        feeder.start()
        try:
            while (got := ahead.get()) is not None:
                if isinstance(got, BaseException):
                    raise got
                yield from unpacked(got)  # here, not in the pool's thread (see packed)
        finally:
            stop.set()
            while feeder.is_alive():  # let a feeder blocked on a full queue see the stop
                with contextlib.suppress(queue.Empty):
                    pending = ahead.get(timeout=0.05)
                    if isinstance(pending, Future):
                        pending.cancel()
            feeder.join()


class _FewerCollections:
    """Jobs running in this process (the API server runs several at once, in threads): the first to
    start sets the collector's thresholds, the last to end puts back the ones it found. Each job
    saving and restoring its own would leave them changed when two jobs overlap."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.before: tuple[int, int, int] = gc.get_threshold()

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self.lock:
            if not self.running:
                self.before = gc.get_threshold()
                gc.set_threshold(*GC_THRESHOLDS)
            self.running += 1
        try:
            yield
        finally:
            with self.lock:
                self.running -= 1
                if not self.running:
                    gc.set_threshold(*self.before)


# The garbage collector less often while jobs run (see GC_THRESHOLDS), as it was after.
fewer_collections = _FewerCollections()


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """Processes that prepare records for a job's writer (file ingests and OAI-PMH harvests): started
    by a fork server where there is one (a clean process, not a copy of a busy writer), else spawned."""
    methods = get_all_start_methods()
    ctx = get_context("forkserver" if "forkserver" in methods else "spawn")
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=worker_start, initargs=(os.getpid(),)
    )


def _choose_workers(path: Path, workers: int | None) -> int:
    if workers is not None:
        return max(0, workers)
    try:
        size = path.stat().st_size
    except OSError:
        return 0
    return default_workers() if size >= PARALLEL_MIN_BYTES else 0


def default_workers() -> int:
    """Preparing processes of a large job: one per core, at most four (the single writer is the
    limit beyond that)."""
    return min(os.cpu_count() or 1, 4)


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


def ingest_file(
    engine: Engine,
    library_code: str,
    path: Path,
    mode: str = JobMode.UPDATE.value,
    fmt: str | None = None,
    source: str = "cli",
    progress: ProgressCallback | None = None,
    batch_size: int = 2000,
    workers: int | None = None,
    filename: str | None = None,
    job_id: int | None = None,
    after_batch: Callable[[Any, WriteResult], None] | None = None,
    ignore_isbns: Sequence[str] = (),
    search: SearchEngine | None = None,
    maintain: bool = True,
) -> dict[str, Any]:
    """Run one ingest job and return its summary (the job's counts, status and id).

    Raises :class:`IngestError` when the job failed (the job is recorded as failed with the reason).
    After each written batch the union records of the touched records are brought up to date, and
    their search documents (``search``; by default the embedded engine of a SQLite catalogue), and
    ``after_batch`` runs, if given: inside the job's transaction, so all of it commits or none does.
    A search engine that is not transactional (Meilisearch) is sent the changes after the commit.
    ``maintain=False`` skips union records and indexing: only for benchmarks that measure their cost
    (the catalogue is left without them; 'unioncat dedup --rebuild' puts it right).
    """
    search = job_search(engine, search)
    jobs.recover_interrupted(engine)
    fmt = sources.normalise_format(fmt)
    with Session(engine) as session:
        library = get_library(session, library_code)
        profile = profile_for(library)
        library_id, code = library.id, library.code
        if job_id is None:
            job_id = jobs.create_job(engine, library, source, mode, fmt, filename or path.name)
    assert library_id is not None
    jobs.mark_running(engine, job_id)
    counts = {k: 0 for k in jobs.COUNTS}
    try:
        with fewer_collections():
            updates = _run(
                engine,
                library_id,
                code,
                job_id,
                path,
                mode,
                fmt,
                profile,
                counts,
                progress,
                batch_size,
                _choose_workers(path, workers),
                after_batch,
                ignore_isbns,
                search,
                maintain,
            )
    except FormatError as exc:
        return _failed(engine, job_id, str(exc), counts)
    except IngestError as exc:
        return _failed(engine, job_id, str(exc), counts)
    except OSError as exc:
        return _failed(engine, job_id, f"cannot read the file: {exc.strerror or exc}", counts)
    except BaseException as exc:
        reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"internal error: {exc!r}"
        jobs.fail(engine, job_id, reason + "; nothing was changed", counts)
        raise
    with engine.connect() as conn:
        summary = jobs.job_dict(conn, job_id, code)
    summary["union_records_changed"] = updates.union_records_changed
    summary["dedup_seconds"] = round(updates.dedup_seconds, 2)
    summary["index_seconds"] = round(updates.index_seconds, 2)
    if search is not None and not search.transactional and updates.changed_union_ids:
        start = time.perf_counter()
        try:
            push_after_commit(engine, search, updates.changed_union_ids)
        except Exception as exc:  # the catalogue is right; the index catches up with 'unioncat reindex'
            summary["index_error"] = f"search index not updated ({exc}); run 'unioncat reindex'"
        summary["index_seconds"] = round(summary["index_seconds"] + time.perf_counter() - start, 2)
    return summary


def _failed(engine: Engine, job_id: int, reason: str, counts: dict[str, int]) -> dict[str, Any]:
    jobs.fail(engine, job_id, reason, counts)
    raise IngestError(reason, job_id)


def _run(
    engine: Engine,
    library_id: int,
    code: str,
    job_id: int,
    path: Path,
    mode: str,
    fmt: str,
    profile: HoldingsProfile | None,
    counts: dict[str, int],
    progress: ProgressCallback | None,
    batch_size: int,
    workers: int,
    after_batch: Callable[[Any, WriteResult], None] | None,
    ignore_isbns: Sequence[str],
    search: SearchEngine | None,
    maintain: bool,
) -> UpdateSummary:
    items = sources.read_path(path, fmt, decoded=False)
    with writing(engine) as conn:
        lock_library(conn, library_id)
        writer = LibraryWriter(conn, library_id, job_id, utcnow())
        updater = CatalogueUpdater(conn, ignore_isbns, search, code)

        def written(result: WriteResult) -> None:
            if maintain:
                updater.records_changed(result.touched, result.documents, result.fresh)
            if after_batch:
                after_batch(conn, result)

        batch: list[PreparedRecord] = []
        rejections: list[dict[str, Any]] = []
        delete_ids: list[str] = []

        def flush() -> None:
            if mode == JobMode.DELETE.value:
                delete_ids.extend(r.local_id for r in batch)
            elif batch:
                result = writer.write(batch)
                for key in ("added", "updated", "unchanged"):
                    counts[key] += getattr(result, key)
                written(result)
            jobs.record_rejections(conn, job_id, rejections)
            batch.clear()
            rejections.clear()

        for outcome in outcomes(items, profile, workers, rows_library(code, search) if maintain else None):
            counts["read"] += 1
            if outcome.prepared is None:
                counts["rejected"] += 1
                rejections.append(
                    {
                        "record_number": outcome.number,
                        "byte_offset": outcome.offset,
                        "local_id": outcome.local_id,
                        "reason": outcome.reason or "rejected",
                    }
                )
            else:
                if outcome.prepared.warnings:
                    counts["warnings"] += 1
                batch.append(outcome.prepared)
            if len(batch) >= batch_size or len(rejections) >= batch_size:
                flush()
            if progress is not None and counts["read"] % 500 == 0:
                progress(counts["read"], outcome.offset)
        flush()
        if counts["read"] == 0:
            raise IngestError("the file holds no records")
        accepted = counts["read"] - counts["rejected"]
        if mode == JobMode.SNAPSHOT.value:
            if accepted == 0:
                raise IngestError(
                    f"no record of this snapshot could be read ({counts['rejected']} rejected): "
                    "refusing to delete the library's whole catalogue"
                )
            result = writer.delete_missing()
            counts["deleted"] = result.deleted
            written(result)
        elif mode == JobMode.DELETE.value:
            result = writer.delete_local_ids(delete_ids)
            counts["deleted"], counts["unchanged"] = result.deleted, result.unchanged
            written(result)
        if progress is not None:
            progress(counts["read"], None)
        jobs.finish(conn, job_id, counts)
    return updater.summary
