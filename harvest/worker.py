"""A worker: it takes queued jobs from the catalogue (see :mod:`catalog.jobs` for the claim and the
lease) and runs them, one at a time, until it is asked to stop.

Any number of workers run, on any number of machines sharing a PostgreSQL catalogue and the uploads
folder (one beside the service on the embedded SQLite default). Between jobs a worker records the
uploads that came while SQLite's write lock was held (see :mod:`harvest.queue`), marks the jobs of
dead workers for another try, claims the next job that may run and runs it: an upload (the file
ingest), a harvest, a harvest of a digital repository, a reindex or a dedup-rebuild. While a job
runs on PostgreSQL, a thread renews its lease. Every ``harvest_check_minutes`` it queues the
harvests of the libraries due one. With nothing to do it waits its poll interval, woken at once on
PostgreSQL by a job queued or ended (:mod:`catalog.job_signals`).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from catalog import jobs
from catalog.analytics import cache
from catalog.db import writing
from catalog.digital.storage import open_storage
from catalog.job_progress import WRITE_EVERY_S, ProgressWriter
from catalog.job_signals import JobSignals
from catalog.models import UnionRecord
from catalog.search.engine import SearchEngine
from catalog.settings import Settings
from harvest.ingest import FileIngest
from harvest.oai import Harvester
from harvest.queue import enqueue_due_harvests, record_pending_uploads, upload_path
from harvest.repository import SOURCE as REPOSITORY
from harvest.repository import RepositoryHarvester
from harvest.runner import IngestError, job_search, run_job

log = logging.getLogger("unioncat.worker")
VANISHED = "the uploaded file is gone; upload it again"


class Worker:
    """Runs queued jobs; ``progress`` holds how far the job it runs got (by job id), which is also
    written every ``progress_every`` seconds for the other processes (:mod:`catalog.job_progress`)."""

    def __init__(
        self, engine: Engine, settings: Settings, search: SearchEngine | None, name: str | None = None
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.search = search
        self.name = name or jobs.worker_name()
        self.progress: dict[int, dict[str, Any]] = {}
        self.progress_every = WRITE_EVERY_S  # how often a job's progress is written for other processes
        self.busy = False

    # ------------------------------------------------------------------ the loop
    def run(self, stop: threading.Event, max_jobs: int | None = None) -> int:
        """Run jobs until ``stop`` is set (between jobs) or ``max_jobs`` ran; how many ran."""
        interval = self.settings.harvest_check_minutes * 60
        next_check = time.monotonic() if interval else float("inf")
        ran = 0
        signals = JobSignals(self.engine)
        signals.listen()  # before the first look at the queue: no job queued meanwhile is missed
        try:
            while not stop.is_set() and (max_jobs is None or ran < max_jobs):
                if time.monotonic() >= next_check:
                    self._queue_due_harvests()
                    next_check = time.monotonic() + interval
                try:
                    job_id = self.run_once()
                except Exception:  # a database hiccup must not end the worker: it tries again
                    log.exception("worker %s: could not take a job", self.name)
                    job_id = None
                if job_id is None:
                    signals.wait(min(self.settings.worker_poll_seconds, next_check - time.monotonic()), stop)
                else:
                    ran += 1
        finally:
            signals.close()
        return ran

    def run_once(self) -> int | None:
        """Take the next job that may run and run it; its id, or None when there was none."""
        record_pending_uploads(self.engine, self.settings.uploads_dir)
        jobs.recover_interrupted(self.engine, self.settings.job_lease_seconds, self.settings.job_max_attempts)
        job_id = jobs.claim(self.engine, self.name)
        if job_id is None:
            self._refresh_analytics()  # changes of jobs run elsewhere (the command line)
            return None
        self.busy = True
        try:
            with _Lease(self.engine, job_id, self.name, self.settings.job_lease_seconds):
                self._run(job_id)
        finally:
            self.busy = False
            self.progress.pop(job_id, None)
        self._refresh_analytics()  # the job ended (its status already says so): its changes are counted
        return job_id

    def _refresh_analytics(self) -> None:
        """Bring the collection analytics up to date when changes wait (see catalog.analytics.cache)."""
        try:
            with self.engine.connect() as conn:
                waiting = cache.status(conn).pending
        except Exception:
            log.exception("worker %s: could not read the state of the analytics", self.name)
            return
        if waiting:
            cache.refresh_quietly(self.engine)

    def _queue_due_harvests(self) -> None:
        try:
            queued = enqueue_due_harvests(self.engine)
        except Exception:  # the scheduler must outlive a database hiccup
            log.exception("could not look for libraries due a harvest")
            return
        if queued:
            log.info("harvests queued: %s", ", ".join(queued))

    # ------------------------------------------------------------------ the jobs
    def _run(self, job_id: int) -> None:
        with self.engine.connect() as conn:
            row = jobs.job_row(conn, job_id)
        assert row is not None
        kind = row["source"]
        try:
            if kind == "upload":
                self._upload(job_id, row)
            elif kind == "oai":
                self._harvest(job_id, row)
            elif kind == REPOSITORY:
                self._repository(job_id, row)
            elif kind == "text":
                self._text(job_id, row)
            else:
                self._catalogue_job(job_id, kind)
        except IngestError as exc:  # recorded failed by the runner, with the reason (or here, below)
            log.info("job %s failed: %s", job_id, exc)
            self._fail_if_running(job_id, str(exc))
        except Exception as exc:  # the worker goes on with the next job
            log.exception("job %s failed", job_id)
            self._fail_if_running(job_id, f"{kind} could not run: {exc}")

    def _fail_if_running(self, job_id: int, reason: str) -> None:
        """A job that failed before the runner took it (its library has no OAI-PMH URL any more, say)
        is recorded failed here; one the runner recorded keeps its reason."""
        with self.engine.connect() as conn:
            row = jobs.job_row(conn, job_id)
        if row is not None and row["status"] == "running":
            jobs.fail(self.engine, job_id, reason)

    def _upload(self, job_id: int, row: dict[str, Any]) -> None:
        path: Path = upload_path(self.settings.uploads_dir, job_id)
        if not path.is_file():
            jobs.fail(self.engine, job_id, VANISHED)
            return
        progress = ProgressWriter(
            self.engine, self.settings.uploads_dir, job_id, path.stat().st_size, self.progress_every
        )
        self.progress[job_id] = progress.state
        try:
            source = FileIngest(path, row["mode"], row["format"], self.settings.ingest_batch_size, workers=0)
            run_job(
                self.engine,
                job_id,
                source,
                search=self.search,
                ignore_isbns=self.settings.dedup_ignore_isbns,
                progress=progress,
            )
        finally:  # the job ended (succeeded or failed): its file is no longer needed
            path.unlink(missing_ok=True)
            progress.close()

    def _harvest(self, job_id: int, row: dict[str, Any]) -> None:
        options = row["options"] or {}
        summary = Harvester(
            self.engine,
            row["library_code"],
            full=bool(options.get("full")),
            sweep=options.get("sweep"),
            search=self.search,
            ignore_isbns=self.settings.dedup_ignore_isbns,
        ).run(job_id)
        log.info("harvest of %s: job %s, read %s", row["library_code"], job_id, summary["read"])

    def _repository(self, job_id: int, row: dict[str, Any]) -> None:
        options = row["options"] or {}
        summary = RepositoryHarvester(
            self.engine,
            row["library_code"],
            open_storage(self.settings),
            max_bytes=self.settings.max_digital_bytes,
            full=bool(options.get("full")),
            search=self.search,
            ignore_isbns=self.settings.dedup_ignore_isbns,
        ).run(job_id)
        log.info(
            "repository harvest of %s: job %s, read %s, files fetched %s, failed %s",
            row["library_code"],
            job_id,
            summary["read"],
            summary["files_fetched"],
            summary["files_failed"],
        )

    def _text(self, job_id: int, row: dict[str, Any]) -> None:
        from harvest.fulltext import run_text_job

        object_id = int((row["options"] or {}).get("object_id", 0))
        storage = open_storage(self.settings)
        run_text_job(self.engine, job_id, object_id, storage, job_search(self.engine, self.search))

    def _catalogue_job(self, job_id: int, kind: str) -> None:
        """A reindex or a dedup-rebuild; ``read``: the union records indexed or rebuilt."""
        try:
            if kind == "dedup-rebuild":
                from catalog.dedup.clusters import rebuild

                with writing(self.engine) as conn:
                    rebuild(conn, self.settings.dedup_ignore_isbns)
            search = job_search(self.engine, self.search)
            if search is None:
                raise RuntimeError("no search engine is configured (UNIONCAT_MEILI_URL)")
            documents = search.rebuild(self.engine)
            with writing(self.engine) as conn:
                unions = conn.execute(select(func.count()).select_from(UnionRecord)).scalar_one()
                jobs.finish(conn, job_id, {"read": documents if kind == "reindex" else unions})
        except BaseException as exc:
            reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc) or repr(exc)
            jobs.fail(self.engine, job_id, f"{kind} failed: {reason}")
            raise


class _Lease:
    """Renews the worker's lease on its running job (PostgreSQL) every quarter of the lease."""

    def __init__(self, engine: Engine, job_id: int, worker: str, lease_seconds: float) -> None:
        self.engine = engine
        self.job_id = job_id
        self.worker = worker
        self.every = lease_seconds / 4
        self.done = threading.Event()
        self.thread: threading.Thread | None = None

    def __enter__(self) -> _Lease:
        # SQLite: one machine, and a job holds the write lock: a dead worker is found by its process.
        if self.engine.dialect.name == "postgresql":
            self.thread = threading.Thread(target=self._renew, name=f"lease-{self.job_id}", daemon=True)
            self.thread.start()
        return self

    def _renew(self) -> None:
        while not self.done.wait(self.every):
            try:
                if not jobs.heartbeat(self.engine, self.job_id, self.worker):
                    return
            except Exception:
                log.exception("job %s: the lease could not be renewed", self.job_id)

    def __exit__(self, *_exc: object) -> None:
        self.done.set()
        if self.thread is not None:
            self.thread.join(timeout=30)


def idle(engine: Engine, uploads_dir: Path) -> bool:
    """No queued or running job, and no upload waiting to be recorded."""
    if uploads_dir.is_dir() and any(uploads_dir.glob("job-*.json")):
        return False
    with engine.connect() as conn:
        return jobs.pending(conn) == 0


__all__ = ["VANISHED", "Worker", "idle"]
