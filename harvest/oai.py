"""Harvesting a member library's OAI-PMH repository into the catalogue.

The protocol plumbing is Sickle's (see :mod:`harvest.oai_client`); what is ours is what a union
catalogue needs around it: one ingest job per harvest that commits page by page together with the
place to resume from, incremental windows with one granularity unit of overlap, deletions, and a
ListIdentifiers sweep for repositories that keep no deletions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sickle.oaiexceptions import NoRecordsMatch, OAIError
from sqlalchemy import Connection, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalog import jobs
from catalog.db import writing
from catalog.libraries import get_library, list_libraries
from catalog.models import IngestJob, JobMode, JobStatus, Library, utcnow
from catalog.records import PreparedRecord
from catalog.search.engine import SearchEngine
from catalog.store import LibraryWriter, WriteResult
from catalog.updates import CatalogueUpdater, push_after_commit
from harvest.ingest import (
    default_workers,
    fewer_collections,
    job_search,
    lock_library,
    profile_for,
    rows_library,
    worker_pool,
)
from harvest.oai_client import HarvestError, OaiClient, Repository, identify, next_from
from harvest.oai_fetch import PreparedPage, joined, prepare_page
from harvest.prepare import packed, unpacked

LIBRARY = Library.__table__  # type: ignore[attr-defined]
JOB = IngestJob.__table__  # type: ignore[attr-defined]
DEFAULT_PREFIX = "marc21"
SWEEP_EVERY = timedelta(days=7)
# Consecutive pages are written in one transaction until they hold this many records, or the first
# of them came this many seconds ago. Each commit flushes the full-text index and the WAL:
# committing each 500-record page took a quarter of a harvest's writer time. An interruption loses
# at most the pages not yet committed (a few seconds' worth): they are fetched again.
COMMIT_RECORDS = 2000
COMMIT_SECONDS = 2.0


def _due(pending: list[PreparedPage], since: float) -> bool:
    records = sum(len(page.entries) for page in pending)
    return records >= COMMIT_RECORDS or time.monotonic() - since >= COMMIT_SECONDS


@dataclass
class HarvestSummary:
    pages: int = 0
    resumed: bool = False
    restarted: bool = False  # the stored resumption token was refused; the window was read again
    swept: bool = False
    window_from: str | None = None
    counts: dict[str, int] = field(default_factory=lambda: {k: 0 for k in jobs.COUNTS})
    dedup_seconds: float = 0.0
    index_seconds: float = 0.0
    union_ids: set[int] = field(default_factory=set)


class Harvester:
    """One harvest of one library: ``run()`` returns the job summary."""

    def __init__(
        self,
        engine: Engine,
        library_code: str,
        client: OaiClient | None = None,
        full: bool = False,
        sweep: bool | None = None,
        search: SearchEngine | None = None,
        ignore_isbns: Sequence[str] = (),
        progress: Callable[[int, int | None], None] | None = None,
        parallel: bool = True,
    ) -> None:
        """``parallel``: pages after the first are prepared by worker processes."""
        self.engine = engine
        self.parallel = parallel
        self.workers = default_workers()
        self.search = job_search(engine, search)
        self.ignore_isbns = ignore_isbns
        self.full = full
        self.sweep_wanted = sweep
        self.progress = progress
        with Session(engine) as session:
            library = get_library(session, library_code)
            if not library.oai_base_url:
                raise HarvestError(
                    f"library {library.code} has no OAI-PMH base URL "
                    f"(set it with 'unioncat library update {library.code} --oai-url URL')"
                )
            self.library = library
            self.profile = profile_for(library)
        assert library.id is not None
        self.library_id: int = library.id
        self.code = library.code
        self.prefix = library.oai_metadata_prefix or DEFAULT_PREFIX
        self.client = client or OaiClient(library.oai_base_url)
        self.summary = HarvestSummary()

    # ------------------------------------------------------------------ the job
    def run(self) -> dict[str, Any]:
        jobs.recover_interrupted(self.engine)
        self._refuse_if_running()
        job_id = jobs.create_job(
            self.engine, self.library, "oai", JobMode.UPDATE.value, "marcxml", self.library.oai_base_url
        )
        self.job_id = job_id
        jobs.mark_running(self.engine, job_id)
        try:
            repository = identify(self.client)
            with fewer_collections():
                self._harvest(repository)
                if self._sweep_due(repository):
                    self._sweep()
        except HarvestError as exc:
            self._fail(str(exc))
            raise HarvestError(str(exc), job_id) from None
        except BaseException as exc:
            reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"internal error: {exc!r}"
            self._fail(reason)
            raise
        with self.engine.connect() as conn:
            result = jobs.job_dict(conn, job_id, self.code)
        result.update(
            pages=self.summary.pages,
            resumed=self.summary.resumed,
            restarted=self.summary.restarted,
            swept=self.summary.swept,
            window_from=self.summary.window_from,
            requests=self.client.requests_made,
            retries=self.client.retried,
            union_records_changed=len(self.summary.union_ids),
            dedup_seconds=round(self.summary.dedup_seconds, 2),
            index_seconds=round(self.summary.index_seconds, 2),
        )
        return result

    def _refuse_if_running(self) -> None:
        with self.engine.connect() as conn:
            running = conn.execute(
                select(JOB.c.id).where(
                    JOB.c.library_id == self.library_id,
                    JOB.c.source == "oai",
                    JOB.c.status == JobStatus.RUNNING.value,
                )
            ).scalar()
        if running is not None:
            raise HarvestError(f"a harvest of {self.code} is already running (job {running})")

    def _fail(self, reason: str) -> None:
        counts = self.summary.counts
        committed = (
            f"; {self.summary.pages} page(s) were committed and the next harvest goes on after them"
            if self.summary.pages
            else "; nothing was changed"
        )
        jobs.fail(self.engine, self.job_id, reason + committed, counts)

    # ------------------------------------------------------------------ ListRecords
    def _window_params(self, repository: Repository) -> dict[str, str]:
        params = {"verb": "ListRecords", "metadataPrefix": self.prefix}
        if self.library.oai_set:
            params["set"] = self.library.oai_set
        start = self.library.oai_window_from if self.library.oai_resumption_token else None
        if start is None and not self.full and self.library.last_harvest_datestamp:
            start = next_from(self.library.last_harvest_datestamp, repository)
        if start:
            params["from"] = start
        self.summary.window_from = start
        return params

    def _harvest(self, repository: Repository) -> None:
        """Three stages overlap: a thread fetches page N+1 as soon as page N's token is known, page N
        is prepared (when ``parallel``, from the second page on, by worker processes that each take a
        share of its records), and page N-1 is written meanwhile."""
        window = self._window_params(repository)
        window_start = self.library.oai_window_start if self.library.oai_resumption_token else None
        token = None if self.full else self.library.oai_resumption_token
        self.summary.resumed = token is not None
        rows = rows_library(self.code, self.search)

        def request(token: str | None) -> dict[str, str]:
            return {"verb": "ListRecords", "resumptionToken": token} if token else window

        http = ThreadPoolExecutor(max_workers=1, thread_name_prefix="oai-fetch")
        workers: ProcessPoolExecutor | None = None
        number = 0
        written: list[PreparedPage] = []  # prepared, waiting to be written
        since = time.monotonic()  # when the first page of ``written`` came
        try:
            fetched = http.submit(self.client.fetch, request(token))
            while True:
                try:
                    content, next_token = fetched.result()
                except HarvestError:
                    if written:  # what was received is kept: the next harvest goes on after it
                        self._commit_pages(written, window, window_start)
                    raise
                if next_token:
                    fetched = http.submit(self.client.fetch, request(next_token))
                if written and self.parallel and number > 0:
                    workers = workers or worker_pool(self.workers)
                    parts = self.workers
                    shares = [
                        workers.submit(
                            packed, prepare_page, content, number + 1, self.profile, True, rows, i, parts
                        )
                        for i in range(parts)
                    ]
                    if _due(written, since):
                        self._commit_pages(written, window, window_start)  # while the workers prepare
                        written = []
                    page = joined([unpacked(share) for share in shares])
                else:
                    page = prepare_page(content, number + 1, self.profile, library=rows)
                if page.error_code == "badResumptionToken" and token and not self.summary.restarted:
                    # The token of an interrupted harvest expired: read its window again (what was
                    # committed comes back unchanged, by checksum), once.
                    self.summary.restarted = True
                    token = None
                    fetched = http.submit(self.client.fetch, request(None))
                    continue
                if page.error_code == "noRecordsMatch":
                    page.entries, page.token = [], None
                elif page.error_code:
                    raise HarvestError(f"the repository answered {page.error_code}: {page.error_message}")
                window_start = window_start or page.response_date
                if written and _due(written, since):
                    self._commit_pages(written, window, window_start)
                    written = []
                number += len(page.entries)
                token = page.token
                if not written:
                    since = time.monotonic()
                written.append(page)
                if not token:
                    self._commit_pages(written, window, window_start)
                    break
        finally:  # a failure does not wait for a fetch that may be backing off
            http.shutdown(wait=False, cancel_futures=True)
            if workers is not None:
                workers.shutdown(wait=False, cancel_futures=True)
        with writing(self.engine) as conn:
            conn.execute(
                update(LIBRARY)
                .where(LIBRARY.c.id == self.library_id)
                .values(
                    last_harvest_datestamp=window_start or self.library.last_harvest_datestamp,
                    oai_resumption_token=None,
                    oai_window_from=None,
                    oai_window_start=None,
                )
            )
            jobs.finish(conn, self.job_id, self.summary.counts)

    def _prepare(self, page: PreparedPage) -> tuple[list[PreparedRecord], list[str], list[dict[str, Any]]]:
        upserts: dict[str, PreparedRecord] = {}
        deletions: dict[str, None] = {}
        rejections: list[dict[str, Any]] = []
        counts = self.summary.counts
        for entry in page.entries:
            counts["read"] += 1
            if entry.reason is None and entry.deleted and entry.identifier:
                upserts.pop(entry.identifier, None)
                deletions[entry.identifier] = None
                continue
            if entry.prepared is not None:
                if entry.prepared.warnings:
                    counts["warnings"] += 1
                deletions.pop(entry.identifier or "", None)
                upserts[entry.identifier or entry.prepared.local_id] = entry.prepared
                continue
            counts["rejected"] += 1
            rejections.append(
                {
                    "record_number": entry.number,
                    "byte_offset": None,
                    "local_id": entry.identifier[:255] if entry.identifier else None,
                    "reason": entry.reason or "rejected",
                }
            )
        return list(upserts.values()), list(deletions), rejections

    def _commit_pages(
        self, pages: list[PreparedPage], window: dict[str, str], window_start: str | None
    ) -> None:
        """Consecutive pages' records, their rejections, the job's counts and the place to resume
        from (after the last of them), in one transaction: an interruption loses nothing and re-reads
        nothing that was committed. Each page is written as it would be on its own (see _due)."""
        counts = self.summary.counts
        before = dict(counts)
        try:
            self._write_pages(pages, window, window_start)
        except BaseException:
            counts.update(before)  # the pages did not commit: neither do their counts
            raise

    def _write_pages(
        self, pages: list[PreparedPage], window: dict[str, str], window_start: str | None
    ) -> None:
        counts = self.summary.counts
        with self._transaction() as (conn, writer, updater):
            for page in pages:
                prepared, deletions, rejections = self._prepare(page)
                touched = WriteResult()
                if prepared:
                    written = writer.write(prepared)
                    for key in ("added", "updated", "unchanged"):
                        counts[key] += getattr(written, key)
                    touched.merge(written)
                if deletions:
                    gone = writer.delete_oai_identifiers(deletions)
                    counts["deleted"] += gone.deleted
                    counts["unchanged"] += gone.unchanged
                    touched.merge(gone)
                if touched.touched:
                    updater.records_changed(touched.touched, touched.documents, touched.fresh)
                jobs.record_rejections(conn, self.job_id, rejections)
            jobs.set_counts(conn, self.job_id, counts)
            conn.execute(
                update(LIBRARY)
                .where(LIBRARY.c.id == self.library_id)
                .values(
                    oai_resumption_token=pages[-1].token,
                    oai_window_from=window.get("from"),
                    oai_window_start=window_start,
                )
            )
        self.summary.pages += len(pages)
        if self.progress is not None:
            self.progress(self.summary.counts["read"], None)

    @contextmanager
    def _transaction(self) -> Iterator[tuple[Connection, LibraryWriter, CatalogueUpdater]]:
        """One transaction of the harvest's writes, the library locked. Once it has committed, its
        union-record changes join the summary and go to a search engine that is not transactional."""
        with writing(self.engine) as conn:
            lock_library(conn, self.library_id)
            updater = CatalogueUpdater(conn, self.ignore_isbns, self.search, self.code)
            yield conn, LibraryWriter(conn, self.library_id, self.job_id, utcnow()), updater
        self.summary.dedup_seconds += updater.summary.dedup_seconds
        self.summary.index_seconds += updater.summary.index_seconds
        changed = updater.summary.changed_union_ids
        self.summary.union_ids |= changed
        if self.search is not None and not self.search.transactional and changed:
            start = time.perf_counter()
            push_after_commit(self.engine, self.search, changed)
            self.summary.index_seconds += time.perf_counter() - start

    # ------------------------------------------------------------------ ListIdentifiers sweep
    def _sweep_due(self, repository: Repository) -> bool:
        if self.sweep_wanted is not None:
            return self.sweep_wanted
        if repository.deleted_record == "persistent":
            return False
        last = self.library.oai_last_sweep
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        return last is None or utcnow() - last >= SWEEP_EVERY

    def _sweep(self) -> None:
        """Records the repository no longer lists become deleted: for repositories that keep no
        deletions (deletedRecord 'no' or 'transient'). All identifiers are read first; nothing is
        deleted unless the whole list was read."""
        params: dict[str, str] = {"metadataPrefix": self.prefix}
        if self.library.oai_set:
            params["set"] = self.library.oai_set
        present: set[str] = set()
        try:
            for header in self.client.ListIdentifiers(**params):
                if not header.deleted and header.identifier:
                    present.add(header.identifier.strip())
        except NoRecordsMatch:
            pass
        except OAIError as exc:
            raise HarvestError(f"ListIdentifiers sweep failed: {exc}") from None
        except HarvestError:
            raise
        except Exception as exc:  # a page Sickle cannot read: no deletion on a partial list
            raise HarvestError(f"ListIdentifiers sweep failed: {exc!r}") from None
        with self._transaction() as (conn, writer, updater):
            gone = writer.delete_oai_missing(present)
            if gone.touched:
                updater.records_changed(gone.touched)
            self.summary.counts["deleted"] += gone.deleted
            jobs.set_counts(conn, self.job_id, self.summary.counts)
            conn.execute(
                update(LIBRARY).where(LIBRARY.c.id == self.library_id).values(oai_last_sweep=utcnow())
            )
        self.summary.swept = True


def harvest_library(engine: Engine, library_code: str, **options: Any) -> dict[str, Any]:
    """Harvest one library (see :class:`Harvester` for the options)."""
    return Harvester(engine, library_code, **options).run()


def due_libraries(engine: Engine, now: datetime | None = None) -> list[str]:
    """Active libraries with an OAI-PMH URL and an interval whose last harvest is older than it."""
    now = now or utcnow()
    due = []
    with Session(engine) as session:
        libraries = [
            (lib.id, lib.code, lib.harvest_interval_hours)
            for lib in list_libraries(session, active_only=True)
            if lib.oai_base_url and lib.harvest_interval_hours
        ]
    with engine.connect() as conn:
        for library_id, code, hours in libraries:
            last = conn.execute(
                select(JOB.c.created_at)
                .where(JOB.c.library_id == library_id, JOB.c.source == "oai")
                .order_by(JOB.c.id.desc())
                .limit(1)
            ).scalar()
            if last is not None and last.tzinfo is None:
                last = last.replace(tzinfo=UTC)
            if last is None or now - last >= timedelta(hours=hours):
                due.append(code)
    return due
