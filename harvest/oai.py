"""Harvesting a member library's OAI-PMH repository into the catalogue.

The protocol plumbing is Sickle's (see :mod:`harvest.oai_client`); what is ours is what a union
catalogue needs around it: one ingest job per harvest that commits page by page together with the
place to resume from, incremental windows with one granularity unit of overlap, deletions, and a
ListIdentifiers sweep for repositories that keep no deletions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sickle.oaiexceptions import NoRecordsMatch, OAIError
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalog import jobs
from catalog.db import as_utc
from catalog.libraries import get_library, list_libraries
from catalog.models import IngestJob, JobMode, Library, utcnow
from catalog.records import PreparedRecord
from catalog.search.engine import SearchEngine
from catalog.store import WriteResult
from harvest.oai_client import HarvestError, OaiClient, Repository, identify, next_from
from harvest.oai_fetch import PreparedPage, joined, prepare_page
from harvest.pool import default_workers, worker_pool
from harvest.prepare import packed, unpacked
from harvest.runner import RunningJob, Transaction, job_search, profile_for, run_job

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


class Harvester:
    """One harvest of one library: ``run()`` returns the job summary. The harvest is the job's source
    (see harvest.runner): it commits page after page, each time with the place to resume from."""

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
    def run(self, job_id: int | None = None) -> dict[str, Any]:
        """Harvest as a new job, or as the queued job ``job_id`` a worker claimed."""
        if job_id is None:
            jobs.recover_interrupted(self.engine)
            self._refuse_if_running()
            job_id = jobs.create_job(
                self.engine, self.library, "oai", JobMode.UPDATE.value, "marcxml", self.library.oai_base_url
            )
        self.job_id = job_id
        result = run_job(
            self.engine,
            self.job_id,
            self,
            search=self.search,
            ignore_isbns=self.ignore_isbns,
            progress=self.progress,
        )
        result.update(
            pages=self.summary.pages,
            resumed=self.summary.resumed,
            restarted=self.summary.restarted,
            swept=self.summary.swept,
            window_from=self.summary.window_from,
            requests=self.client.requests_made,
            retries=self.client.retried,
        )
        return result

    def ingest(self, job: RunningJob) -> None:
        """The job's work (see harvest.runner.JobSource): the ListRecords window, then the sweep when due."""
        self.job = job
        repository = identify(self.client)
        sweep = self._sweep_due(repository)
        self._harvest(repository, last=not sweep)
        if sweep:
            self._sweep()

    def kept(self, job: RunningJob) -> str:
        return f"; {self.summary.pages} page(s) were committed and the next harvest goes on after them"

    def _refuse_if_running(self) -> None:
        with self.engine.connect() as conn:
            running = jobs.running_job(conn, self.library_id, "oai")
        if running is not None:
            raise HarvestError(f"a harvest of {self.code} is already running (job {running})")

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

    def _harvest(self, repository: Repository, last: bool) -> None:
        """Three stages overlap: a thread fetches page N+1 as soon as page N's token is known, page N
        is prepared (when ``parallel``, from the second page on, by worker processes that each take a
        share of its records), and page N-1 is written meanwhile."""
        window = self._window_params(repository)
        window_start = self.library.oai_window_start if self.library.oai_resumption_token else None
        token = None if self.full else self.library.oai_resumption_token
        self.summary.resumed = token is not None
        rows = self.job.rows_library

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
        with self.job.transaction(last=last) as tx:
            tx.conn.execute(
                update(LIBRARY)
                .where(LIBRARY.c.id == self.library_id)
                .values(
                    last_harvest_datestamp=window_start or self.library.last_harvest_datestamp,
                    oai_resumption_token=None,
                    oai_window_from=None,
                    oai_window_start=None,
                )
            )

    def _commit_pages(
        self, pages: list[PreparedPage], window: dict[str, str], window_start: str | None
    ) -> None:
        """Consecutive pages' records, their rejections, the job's counts and the place to resume
        from (after the last of them), in one transaction: an interruption loses nothing and re-reads
        nothing that was committed. Each page is written as it would be on its own (see _due)."""
        with self.job.transaction() as tx:
            for page in pages:
                _write_page(tx, page)
            tx.conn.execute(
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
            self.progress(self.job.counts["read"], None)

    # ------------------------------------------------------------------ ListIdentifiers sweep
    def _sweep_due(self, repository: Repository) -> bool:
        if self.sweep_wanted is not None:
            return self.sweep_wanted
        if repository.deleted_record == "persistent":
            return False
        last = as_utc(self.library.oai_last_sweep)
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
        with self.job.transaction(last=True) as tx:
            tx.apply(tx.writer.delete_oai_missing(present))
            tx.conn.execute(
                update(LIBRARY).where(LIBRARY.c.id == self.library_id).values(oai_last_sweep=utcnow())
            )
        self.summary.swept = True


def _write_page(tx: Transaction, page: PreparedPage) -> None:
    """A page's records, deletions and rejections; a record the page holds twice is written as its
    last entry has it."""
    upserts: dict[str, PreparedRecord] = {}
    deletions: dict[str, None] = {}
    for entry in page.entries:
        if entry.reason is None and entry.deleted and entry.identifier:
            tx.read()
            upserts.pop(entry.identifier, None)
            deletions[entry.identifier] = None
        elif entry.prepared is not None:
            tx.accept(entry.prepared)
            deletions.pop(entry.identifier or "", None)
            upserts[entry.identifier or entry.prepared.local_id] = entry.prepared
        else:
            local_id = entry.identifier[:255] if entry.identifier else None
            tx.reject(entry.number, None, local_id, entry.reason)
    touched = WriteResult()
    if upserts:
        touched.merge(tx.writer.write(list(upserts.values())))
    if deletions:
        touched.merge(tx.writer.delete_oai_identifiers(list(deletions)))
    tx.apply(touched)
    tx.record_rejections()


def harvest_library(engine: Engine, library_code: str, **options: Any) -> dict[str, Any]:
    """Harvest one library (see :class:`Harvester` for the options)."""
    return Harvester(engine, library_code, **options).run()


def due_libraries(engine: Engine, now: datetime | None = None) -> list[str]:
    """Active libraries with an OAI-PMH URL and an interval whose last harvest is older than it."""
    return libraries_due(engine, "oai", lambda lib: lib.oai_base_url, now)


def libraries_due(
    engine: Engine, source: str, configured: Callable[[Library], Any], now: datetime | None = None
) -> list[str]:
    """Codes of the active libraries with a harvest interval, ``configured`` for jobs of ``source``
    (an OAI-PMH URL, a repository ...), whose last such job is older than the interval."""
    now = now or utcnow()
    due = []
    with Session(engine) as session:
        libraries = [
            (lib.id, lib.code, lib.harvest_interval_hours)
            for lib in list_libraries(session, active_only=True)
            if configured(lib) and lib.harvest_interval_hours
        ]
    with engine.connect() as conn:
        for library_id, code, hours in libraries:
            last = conn.execute(
                select(JOB.c.created_at)
                .where(JOB.c.library_id == library_id, JOB.c.source == source)
                .order_by(JOB.c.id.desc())
                .limit(1)
            ).scalar()
            last = as_utc(last)
            if last is None or now - last >= timedelta(hours=hours):
                due.append(code)
    return due
