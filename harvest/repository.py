"""Harvesting a member library's digital repository (DSpace and the like) into the digital library.

The repository's items come over OAI-PMH as Dublin Core descriptions (``oai_dc`` or ``qdc``); each
becomes a source record of the library (:mod:`harvest.dc_marc`), so the ingest's deduplication
matches it to a union record or keeps it as a digital-only one. Each item's file list (DSpace's
ORE resource map or METS, one GetRecord per item) names its files; those of its ORIGINAL bundle are
fetched (:mod:`harvest.file_fetch`), judged by their content, stored, and recorded as digital
objects of the item's record, and their text extraction is queued.

The harvest is one job, incremental by datestamp with the place to resume from committed with
each page, as the MARC harvest (:mod:`harvest.oai`) is, whose client it uses. The files of a few
items are fetched before the transaction that writes those items' records, objects and file
states together: a harvest killed at any moment leaves each item as its last commit did. A file
that cannot be fetched is reported on the job, its item's record lands all the same, and it is
fetched again at the next harvest; a deleted item's record is deleted and its files withdrawn.
"""

from __future__ import annotations

import logging
import tempfile
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalog import jobs
from catalog.digital.objects import DigitalError, find_record
from catalog.digital.storage import ObjectStorage
from catalog.libraries import REPOSITORY_ACCESS, REPOSITORY_FILE_LISTS, REPOSITORY_FORMATS, get_library
from catalog.models import (
    JobMode,
    Library,
    SourceRecord,
)
from catalog.records import PreparedRecord, RecordRejected
from catalog.search.engine import SearchEngine
from harvest.bitstreams import Bitstream, content_files
from harvest.dc_marc import prepare_item
from harvest.dublin_core import DcItem
from harvest.file_fetch import FileFetcher
from harvest.oai import libraries_due
from harvest.oai_client import HarvestError, OaiClient, Repository, identify, next_from
from harvest.oai_page import PageError
from harvest.repository_files import (
    FileOutcome,
    ItemFiles,
    Recorded,
    failed_files,
    fetch_file,
    known_files,
    withdraw_item,
)
from harvest.repository_page import RepositoryEntry, RepositoryPage, read_list_page, read_record_metadata
from harvest.runner import RunningJob, Transaction, job_search, run_job

log = logging.getLogger(__name__)
LIBRARY = Library.__table__  # type: ignore[attr-defined]
SOURCE = "repository"
# Items whose files are fetched before one commit: their temporary files are on disk until then.
COMMIT_ITEMS = 20
COMMIT_BYTES = 512 * 1024 * 1024
# Items whose file lists and files are fetched at the same time (a repository's latency, not its
# bandwidth, bounds a harvest of many small files).
FETCH_THREADS = 4
EnqueueText = Callable[[Engine, Library, int], Any]


@dataclass
class ItemWork:
    """An item of the page, made ready outside the transaction that writes it."""

    entry: RepositoryEntry
    prepared: PreparedRecord | None = None
    reason: str | None = None  # why its record was rejected
    listed: bool = False  # its file list was read (files no longer listed are withdrawn)
    list_problem: str | None = None
    files: list[FileOutcome] = field(default_factory=list)


@dataclass
class RepositorySummary:
    pages: int = 0
    resumed: bool = False
    restarted: bool = False
    window_from: str | None = None
    files_fetched: int = 0
    files_unchanged: int = 0
    files_failed: int = 0
    files_withdrawn: int = 0
    retried: int = 0  # files that had failed before, tried again
    text_queued: list[int] = field(default_factory=list)


def _default_enqueue_text(engine: Engine, library: Library, object_id: int) -> Any:
    from harvest.queue import enqueue_text

    return enqueue_text(engine, library, object_id)


class RepositoryHarvester:
    """One harvest of one library's repository: ``run()`` returns the job's summary."""

    def __init__(
        self,
        engine: Engine,
        library_code: str,
        storage: ObjectStorage,
        *,
        max_bytes: int,
        client: OaiClient | None = None,
        fetcher: FileFetcher | None = None,
        full: bool = False,
        search: SearchEngine | None = None,
        ignore_isbns: Sequence[str] = (),
        work_dir: Path | None = None,
        enqueue_text: EnqueueText = _default_enqueue_text,
        progress: Callable[[int, int | None], None] | None = None,
    ) -> None:
        self.engine = engine
        self.storage = storage
        self.full = full
        self.search = job_search(engine, search)
        self.ignore_isbns = ignore_isbns
        self.work_dir = work_dir
        self.enqueue_text = enqueue_text
        self.progress = progress
        with Session(engine) as session:
            library = get_library(session, library_code)
            session.expunge(library)
        if not library.repository_url:
            raise HarvestError(
                f"library {library.code} has no digital repository (set it with "
                f"'unioncat library update {library.code} --repository-url URL')"
            )
        assert library.id is not None
        self.library = library
        self.library_id: int = library.id
        self.code = library.code
        self.prefix = library.repository_format or REPOSITORY_FORMATS[0]
        self.files_prefix = library.repository_files or REPOSITORY_FILE_LISTS[0]
        self.default_access = library.repository_access or REPOSITORY_ACCESS[0]
        self.client = client or OaiClient(library.repository_url)
        self.fetcher = fetcher or FileFetcher(max_bytes)
        self.summary = RepositorySummary()
        self.seen_items: set[str] = set()

    # ------------------------------------------------------------------ the job
    def run(self, job_id: int | None = None) -> dict[str, Any]:
        """Harvest as a new job, or as the queued job ``job_id`` a worker claimed."""
        if job_id is None:
            jobs.recover_interrupted(self.engine)
            self._refuse_if_running()
            job_id = jobs.create_job(
                self.engine,
                self.library,
                SOURCE,
                JobMode.UPDATE.value,
                self.prefix,
                self.library.repository_url,
            )
        try:
            result = run_job(
                self.engine,
                job_id,
                self,
                search=self.search,
                ignore_isbns=self.ignore_isbns,
                progress=self.progress,
            )
        finally:
            self.fetcher.close()
        summary = self.summary
        result.update(
            pages=summary.pages,
            resumed=summary.resumed,
            restarted=summary.restarted,
            window_from=summary.window_from,
            files_fetched=summary.files_fetched,
            files_unchanged=summary.files_unchanged,
            files_failed=summary.files_failed,
            files_withdrawn=summary.files_withdrawn,
            files_retried=summary.retried,
            text_queued=len(summary.text_queued),
            requests=self.client.requests_made + self.fetcher.requests_made,
            retries=self.client.retried + self.fetcher.retried,
        )
        return result

    def ingest(self, job: RunningJob) -> None:
        """The job's work (see harvest.runner.JobSource): the ListRecords window, then the files that
        failed in earlier harvests."""
        self.job = job
        with tempfile.TemporaryDirectory(prefix="unioncat-harvest-", dir=self.work_dir) as work:
            self.work = Path(work)
            repository = identify(self.client)
            self._harvest(repository)
            self._retry_failed()

    def kept(self, job: RunningJob) -> str:
        return f"; {self.summary.pages} page(s) were committed and the next harvest goes on after them"

    def _refuse_if_running(self) -> None:
        with self.engine.connect() as conn:
            running = jobs.running_job(conn, self.library_id, SOURCE)
        if running is not None:
            raise HarvestError(f"a repository harvest of {self.code} is already running (job {running})")

    # ------------------------------------------------------------------ ListRecords
    def _window(self, repository: Repository) -> dict[str, str]:
        params = {"verb": "ListRecords", "metadataPrefix": self.prefix}
        if self.library.repository_set:
            params["set"] = self.library.repository_set
        unfinished = self.library.repository_resumption_token and not self.full
        start = self.library.repository_window_from if unfinished else None
        if start is None and not self.full and self.library.repository_last_datestamp:
            start = next_from(self.library.repository_last_datestamp, repository)
        if start:
            params["from"] = start
        self.summary.window_from = start
        return params

    def _harvest(self, repository: Repository) -> None:
        window = self._window(repository)
        unfinished = self.library.repository_resumption_token is not None and not self.full
        window_start = self.library.repository_window_start if unfinished else None
        token = self.library.repository_resumption_token if unfinished else None
        self.summary.resumed = token is not None
        number = 0
        while True:
            params = {"verb": "ListRecords", "resumptionToken": token} if token else window
            content, _ = self.client.fetch(params)
            try:
                page = read_list_page(content, number + 1)
            except PageError as exc:
                raise HarvestError(f"the repository's answer to {params} cannot be read: {exc}") from None
            if page.error_code == "badResumptionToken" and token and not self.summary.restarted:
                self.summary.restarted = True  # the interrupted harvest's token expired: read again
                token = None
                continue
            if page.error_code == "noRecordsMatch":
                page.entries, page.token = [], None
            elif page.error_code:
                raise HarvestError(f"the repository answered {page.error_code}: {page.error_message}")
            window_start = window_start or page.response_date
            number += len(page.entries)
            self._page(page, window, window_start)
            token = page.token
            if not token:
                break
        with self.job.transaction() as tx:
            tx.conn.execute(
                update(LIBRARY)
                .where(LIBRARY.c.id == self.library_id)
                .values(
                    repository_last_datestamp=window_start or self.library.repository_last_datestamp,
                    repository_resumption_token=None,
                    repository_window_from=None,
                    repository_window_start=None,
                )
            )

    def _page(self, page: RepositoryPage, window: dict[str, str], window_start: str | None) -> None:
        """The page's items, a few at a time: their files fetched (``FETCH_THREADS`` items at once),
        then their records, objects and file states committed together, in the page's order; the
        place to resume from goes with the page's last items."""
        batch: list[ItemWork] = []
        pending_bytes = 0
        entries = iter(page.entries)
        ahead: deque[Future[ItemWork]] = deque()
        with ThreadPoolExecutor(max_workers=FETCH_THREADS, thread_name_prefix="repository-fetch") as pool:
            try:
                while True:
                    while len(ahead) < FETCH_THREADS and (entry := next(entries, None)) is not None:
                        ahead.append(pool.submit(self._prepare, entry))
                    if not ahead:
                        break
                    work = ahead.popleft().result()
                    batch.append(work)
                    pending_bytes += sum(f.checked.size for f in work.files if f.checked is not None)
                    if len(batch) >= COMMIT_ITEMS or pending_bytes >= COMMIT_BYTES:
                        self._commit(batch)
                        batch, pending_bytes = [], 0
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)  # their files go with the work folder
                raise
        self._commit(batch, resume=(page.token, window.get("from"), window_start))
        self.summary.pages += 1

    def _prepare(self, entry: RepositoryEntry) -> ItemWork:
        work = ItemWork(entry)
        if entry.identifier:
            self.seen_items.add(entry.identifier)
        if entry.deleted or entry.error is not None or entry.item is None or entry.identifier is None:
            return work
        try:
            work.prepared = prepare_item(entry.item, entry.identifier, self.job.rows_library)
        except RecordRejected as exc:
            work.reason = str(exc)
            return work
        if self.files_prefix == "none":
            return work
        bitstreams = self._file_list(entry.identifier, work)
        if bitstreams is None:
            return work
        access, until = self._access(entry.item)
        known = known_files(self.engine, self.library_id, entry.identifier)
        for bitstream in bitstreams:
            outcome = FileOutcome(bitstream, access, until)
            work.files.append(fetch_file(self.fetcher, self.work, outcome, known.get(bitstream.url)))
        return work

    def _access(self, item: DcItem) -> tuple[str, datetime | None]:
        rule, until = item.access
        return (rule, until) if rule is not None else (self.default_access, None)

    def _file_list(self, identifier: str, work: ItemWork) -> list[Bitstream] | None:
        """The item's content files from its ORE or METS record; None (and the reason on ``work``)
        when the repository gives none for it."""
        params = {"verb": "GetRecord", "identifier": identifier, "metadataPrefix": self.files_prefix}
        try:
            metadata, problem = self.client.until_usable(
                lambda: read_record_metadata(self.client.fetch(params)[0]),
                PageError,
                f"{self.client.endpoint} gave no usable {self.files_prefix} record for {identifier}",
            )
        except HarvestError as exc:
            work.list_problem = f"its {self.files_prefix} file list could not be read: {exc}"
            return None
        if metadata is None:
            work.list_problem = f"the repository gave no {self.files_prefix} file list ({problem})"
            return None
        work.listed = True
        return content_files(metadata)

    # ------------------------------------------------------------------ writing
    def _commit(
        self, batch: list[ItemWork], resume: tuple[str | None, str | None, str | None] | None = None
    ) -> None:
        """The items' records, deletions, objects, file states and rejections in one transaction
        (with ``resume``: the page's resumption token, window and start, after its last items)."""
        new_objects: list[int] = []
        try:
            with self.job.transaction() as tx:
                records = self._write_records(tx, batch)
                with Session(bind=tx.conn, expire_on_commit=False) as session:
                    for work in batch:
                        if work.entry.deleted and work.entry.identifier:
                            withdrawn = withdraw_item(session, self.library_id, work.entry.identifier)
                            self.summary.files_withdrawn += withdrawn
                        elif work.prepared is not None:
                            new_objects += self._write_files(tx, session, work, records)
                    session.flush()
                if resume is not None:
                    token, window_from, window_start = resume
                    tx.conn.execute(
                        update(LIBRARY)
                        .where(LIBRARY.c.id == self.library_id)
                        .values(
                            repository_resumption_token=token,
                            repository_window_from=window_from,
                            repository_window_start=window_start,
                        )
                    )
        finally:
            for work in batch:
                for outcome in work.files:
                    outcome.discard()
        self._queue_text(new_objects)
        if self.progress is not None:
            self.progress(self.job.counts["read"], None)

    def _write_records(self, tx: Transaction, batch: list[ItemWork]) -> dict[str, int]:
        """Write the batch's records and deletions; the ids of the records written, by local id."""
        upserts: dict[str, PreparedRecord] = {}
        deletions: list[str] = []
        for work in batch:
            entry = work.entry
            if entry.deleted and entry.identifier:
                tx.read()
                deletions.append(entry.identifier)
                upserts.pop(entry.identifier, None)
            elif work.prepared is not None:
                tx.accept(work.prepared)
                upserts[work.prepared.local_id] = work.prepared
            else:
                tx.reject(entry.number, None, entry.identifier, entry.error or work.reason)
        if upserts:
            tx.write(list(upserts.values()))
        if deletions:
            tx.apply(tx.writer.delete_local_ids(deletions))
        if not upserts:
            return {}
        rows = tx.conn.execute(
            select(SourceRecord.local_id, SourceRecord.id).where(  # type: ignore[call-overload]
                SourceRecord.library_id == self.library_id,
                SourceRecord.local_id.in_(list(upserts)),  # type: ignore[attr-defined]
            )
        )
        return dict(rows.all())

    def _write_files(
        self, tx: Transaction, session: Session, work: ItemWork, records: dict[str, int]
    ) -> list[int]:
        """The item's files recorded (see :class:`ItemFiles`), its failures reported; the ids of its
        new objects."""
        entry, identifier = work.entry, work.entry.identifier
        assert identifier is not None and work.prepared is not None
        if work.list_problem:
            self._report(tx, entry, work.list_problem)
        if not work.listed:
            return []
        record = session.get(SourceRecord, records[work.prepared.local_id])
        assert record is not None
        files = ItemFiles(session, self.storage, self.library_id, identifier)
        return self._count(tx, entry, files.record(record, work.files, listed_all=True))

    def _count(self, tx: Transaction, entry: RepositoryEntry, done: Recorded) -> list[int]:
        summary = self.summary
        summary.files_fetched += done.fetched
        summary.files_unchanged += done.unchanged
        summary.files_withdrawn += done.withdrawn
        for failed in done.failed or []:
            summary.files_failed += 1
            self._report(tx, entry, f"file {failed.bitstream.url}: {failed.reason}")
        return done.new_objects

    def _report(self, tx: Transaction, entry: RepositoryEntry, reason: str) -> None:
        """A problem with an item's files, on the job's report; the item's record is not rejected."""
        tx.counts["warnings"] += 1
        tx.rejections.append(
            {
                "record_number": entry.number,
                "byte_offset": None,
                "local_id": (entry.identifier or "")[:255] or None,
                "reason": reason[:2000],
            }
        )

    def _queue_text(self, object_ids: list[int]) -> None:
        for object_id in object_ids:
            try:
                self.enqueue_text(self.engine, self.library, object_id)
            except Exception:  # the object stays pending: its extraction can be queued again
                log.exception("could not queue the text extraction of digital object %s", object_id)
                continue
            self.summary.text_queued.append(object_id)

    # ------------------------------------------------------------------ files that failed before
    def _retry_failed(self) -> None:
        """Files that failed in an earlier harvest, of items this one did not read again: fetched
        again as their item listed them, a few items per commit."""
        failed = failed_files(self.engine, self.library_id)
        batch: list[tuple[str, list[FileOutcome]]] = []
        for identifier, outcomes in failed.items():
            if identifier in self.seen_items:
                continue
            for outcome in outcomes:
                fetch_file(self.fetcher, self.work, outcome, None)
                self.summary.retried += 1
            batch.append((identifier, outcomes))
            if len(batch) >= COMMIT_ITEMS:
                self._commit_retried(batch)
                batch = []
        if batch:
            self._commit_retried(batch)

    def _commit_retried(self, batch: list[tuple[str, list[FileOutcome]]]) -> None:
        """The files fetched again, recorded (their item's other files stay as they are)."""
        new_objects: list[int] = []
        try:
            with self.job.transaction() as tx, Session(bind=tx.conn, expire_on_commit=False) as session:
                for identifier, outcomes in batch:
                    try:
                        record = find_record(session, self.library_id, identifier)
                    except DigitalError:
                        continue  # its record is gone, and its files with it
                    files = ItemFiles(session, self.storage, self.library_id, identifier)
                    entry = RepositoryEntry(0, identifier, None)  # not in this harvest's list
                    new_objects += self._count(tx, entry, files.record(record, outcomes, listed_all=False))
                session.flush()
        finally:
            for _identifier, outcomes in batch:
                for outcome in outcomes:
                    outcome.discard()
        self._queue_text(new_objects)


def due_repositories(engine: Engine, now: datetime | None = None) -> list[str]:
    """Active libraries with a repository and a harvest interval whose last repository harvest is
    older than it."""
    return libraries_due(engine, SOURCE, lambda lib: lib.repository_url, now)


def harvest_repository(
    engine: Engine, library_code: str, storage: ObjectStorage, **options: Any
) -> dict[str, Any]:
    """Harvest one library's repository (see :class:`RepositoryHarvester` for the options)."""
    return RepositoryHarvester(engine, library_code, storage, **options).run()


__all__ = ["SOURCE", "RepositoryHarvester", "due_repositories", "harvest_repository"]
