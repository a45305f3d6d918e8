"""File ingest: one file of one library becomes one atomic job.

read (split) -> decode -> prepare (map fields, holdings, keys) -> write in batches -> snapshot deletions
-> job summary. Decoding and preparing run in worker processes for large files (see harvest.pool);
the job runner (harvest.runner) writes in this process, on a single transaction, so a job that fails
or is killed changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalog import jobs
from catalog.holdings import HoldingsProfile
from catalog.libraries import get_library
from catalog.mapping import native_tags
from catalog.models import JobMode
from catalog.records import PreparedRecord
from catalog.search.engine import SearchEngine
from catalog.store import WriteResult
from harvest import sources
from harvest.incoming import FormatError, Incoming
from harvest.pool import default_workers, in_order
from harvest.prepare import Outcome, process, process_chunk
from harvest.runner import IngestError, ProgressCallback, RunningJob, profile_for, run_job

__all__ = ["FileIngest", "IngestError", "ingest_file", "outcomes"]

PARALLEL_MIN_BYTES = 16 * 1024 * 1024
_WORK_CHUNK = 400


def outcomes(
    items: Iterable[Incoming], profile: HoldingsProfile | None, workers: int, library: str | None = None
) -> Iterator[Outcome]:
    """Outcomes in file order; with ``workers`` > 1 the work is spread over that many processes
    (see :func:`harvest.pool.in_order`). ``library``: the embedded search engine's rows are computed
    with the records (see prepare)."""
    if workers <= 1:
        tags = native_tags(profile)
        for item in items:
            yield process(item, profile, library, tags)
        return
    yield from in_order(items, process_chunk, (profile, library), workers, _WORK_CHUNK)


def _choose_workers(path: Path, workers: int | None) -> int:
    if workers is not None:
        return max(0, workers)
    try:
        size = path.stat().st_size
    except OSError:
        return 0
    return default_workers() if size >= PARALLEL_MIN_BYTES else 0


class FileIngest:
    """The job's source: the records of one file, written in batches in one transaction; then, by
    ``mode``, the library's records the file did not hold (snapshot) or those it lists (delete)
    become deleted."""

    def __init__(
        self, path: Path, mode: str, fmt: str | None, batch_size: int = 2000, workers: int | None = None
    ) -> None:
        self.path = path
        self.mode = mode
        self.fmt = fmt
        self.batch_size = batch_size
        self.workers = _choose_workers(path, workers)

    def kept(self, job: RunningJob) -> str:
        return "; nothing was changed"

    def ingest(self, job: RunningJob) -> None:
        try:
            self._ingest(job)
        except FormatError as exc:
            raise IngestError(str(exc)) from None
        except OSError as exc:
            raise IngestError(f"cannot read the file: {exc.strerror or exc}") from None

    def _ingest(self, job: RunningJob) -> None:
        mode, batch_size, progress, counts = self.mode, self.batch_size, job.progress, job.counts
        items = sources.read_path(self.path, self.fmt, decoded=False)
        with job.transaction(last=True) as tx:
            batch: list[PreparedRecord] = []
            delete_ids: list[str] = []

            def flush() -> None:
                if mode == JobMode.DELETE.value:
                    delete_ids.extend(r.local_id for r in batch)
                elif batch:
                    tx.write(batch)
                tx.record_rejections()
                batch.clear()

            for outcome in outcomes(items, job.profile, self.workers, job.rows_library):
                prepared = outcome.prepared
                if prepared is None:
                    tx.reject(outcome.number, outcome.offset, outcome.local_id, outcome.reason)
                else:
                    tx.accept(prepared)
                    batch.append(prepared)
                if len(batch) >= batch_size or len(tx.rejections) >= batch_size:
                    flush()
                if progress is not None and counts["read"] % 500 == 0:
                    progress(counts["read"], outcome.offset)
            flush()
            if counts["read"] == 0:
                raise IngestError("the file holds no records")
            if mode == JobMode.SNAPSHOT.value:
                if counts["read"] == counts["rejected"]:
                    raise IngestError(
                        f"no record of this snapshot could be read ({counts['rejected']} rejected): "
                        "refusing to delete the library's whole catalogue"
                    )
                tx.apply(tx.writer.delete_missing())
            elif mode == JobMode.DELETE.value:
                tx.apply(tx.writer.delete_local_ids(delete_ids))
            if progress is not None:
                progress(counts["read"], None)


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
    fmt = sources.normalise_format(fmt)
    if job_id is None:
        jobs.recover_interrupted(engine)
        with Session(engine) as session:
            library = get_library(session, library_code)
            profile_for(library)  # a library whose holdings profile is wrong gets no job
            job_id = jobs.create_job(engine, library, source, mode, fmt, filename or path.name)
    return run_job(
        engine,
        job_id,
        FileIngest(path, mode, fmt, batch_size, workers),
        search=search,
        ignore_isbns=ignore_isbns,
        maintain=maintain,
        progress=progress,
        after_write=after_batch,
    )
