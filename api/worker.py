"""Background work of the service: uploaded files are ingested, and libraries harvested over
OAI-PMH, one job at a time, in order.

Upload jobs are recorded in the catalogue before they are queued, so a restart finds queued jobs
again (their uploads are on disk) and interrupted ones are marked failed by the next job. Every job
runs through the job runner (harvest.runner), which alone writes their status. While
idle, the worker looks every ``harvest_check_minutes`` for libraries due a harvest (their
``harvest_interval_hours`` passed since their last one) and harvests them.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from catalog import jobs
from catalog.models import IngestJob, JobStatus, Library
from catalog.search.engine import SearchEngine
from catalog.settings import Settings
from harvest.ingest import FileIngest
from harvest.oai import due_libraries, harvest_library
from harvest.runner import IngestError, run_job

log = logging.getLogger("unioncat.worker")
JOB = IngestJob.__table__  # type: ignore[attr-defined]


@dataclass
class Task:
    job_id: int
    library_code: str
    path: Path
    mode: str
    fmt: str | None


@dataclass
class HarvestTask:
    library_code: str
    full: bool = False
    sweep: bool | None = None


class JobWorker:
    def __init__(self, engine: Engine, settings: Settings, search: SearchEngine | None) -> None:
        self.engine = engine
        self.settings = settings
        self.search = search
        self.queue: queue.Queue[Task | HarvestTask | None] = queue.Queue()
        self.harvests_pending: set[str] = set()
        self._lock = threading.Lock()
        self.progress: dict[int, dict[str, Any]] = {}
        self._thread: threading.Thread | None = None
        self._idle = threading.Event()
        self._idle.set()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="unioncat-jobs", daemon=True)
            self._thread.start()
            self._requeue()

    def stop(self) -> None:
        if self._thread is not None:
            self.queue.put(None)
            self._thread.join(timeout=60)
            self._thread = None

    def submit(self, task: Task | HarvestTask) -> bool:
        """Queue ``task``; a harvest of a library already waiting for one is not queued twice."""
        if isinstance(task, HarvestTask):
            with self._lock:
                if task.library_code in self.harvests_pending:
                    return False
                self.harvests_pending.add(task.library_code)
        self._idle.clear()
        self.queue.put(task)
        return True

    def queue_due_harvests(self) -> list[str]:
        try:
            due = due_libraries(self.engine)
        except Exception:  # the scheduler must outlive a database hiccup
            log.exception("could not look for libraries due a harvest")
            return []
        return [code for code in due if self.submit(HarvestTask(code))]

    def wait_idle(self, timeout: float = 60) -> bool:
        """For tests: wait until every submitted job has run."""
        return self._idle.wait(timeout)

    def _requeue(self) -> None:
        """Queued jobs left by a previous run of the service whose uploads are still on disk."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(JOB.c.id, JOB.c.filename, JOB.c.mode, JOB.c.format, Library.code)
                .join(Library, Library.id == JOB.c.library_id)
                .where(JOB.c.status == JobStatus.QUEUED.value, JOB.c.source == "upload")
                .order_by(JOB.c.id)
            ).all()
        for job_id, _filename, mode, fmt, code in rows:
            path = self.upload_path(job_id)
            if path.exists():
                self.submit(Task(job_id, code, path, mode, fmt))
            else:
                jobs.fail(self.engine, job_id, "the uploaded file is gone; upload it again")

    def upload_path(self, job_id: int) -> Path:
        return self.settings.uploads_dir / f"job-{job_id}.upload"

    def _loop(self) -> None:
        interval = self.settings.harvest_check_minutes * 60
        next_check = time.monotonic() if interval else float("inf")
        while True:
            if interval and time.monotonic() >= next_check:
                self.queue_due_harvests()
                next_check = time.monotonic() + interval
            if self.queue.empty():
                self._idle.set()
            try:
                task = self.queue.get(timeout=max(1.0, next_check - time.monotonic()) if interval else None)
            except queue.Empty:
                continue
            if task is None:
                return
            if isinstance(task, HarvestTask):
                self._harvest(task)
            else:
                self._run(task)

    def _harvest(self, task: HarvestTask) -> None:
        try:
            summary = harvest_library(
                self.engine,
                task.library_code,
                full=task.full,
                sweep=task.sweep,
                search=self.search,
                ignore_isbns=self.settings.dedup_ignore_isbns,
            )
            log.info("harvest of %s: job %s, read %s", task.library_code, summary["job_id"], summary["read"])
        except IngestError as exc:
            log.warning("harvest of %s failed: %s", task.library_code, exc)
        except Exception:  # the job is marked failed by the harvester; the worker keeps serving
            log.exception("harvest of %s failed", task.library_code)
        finally:
            with self._lock:
                self.harvests_pending.discard(task.library_code)

    def _run(self, task: Task) -> None:
        state = self.progress.setdefault(task.job_id, {"records": 0})

        def progress(records: int, _offset: int | None) -> None:
            state["records"] = records

        try:
            source = FileIngest(task.path, task.mode, task.fmt, self.settings.ingest_batch_size, workers=0)
            run_job(
                self.engine,
                task.job_id,
                source,
                search=self.search,
                ignore_isbns=self.settings.dedup_ignore_isbns,
                progress=progress,
            )
        except IngestError as exc:
            log.info("job %s failed: %s", task.job_id, exc)
        except Exception:  # the job is marked failed by the runner; the worker keeps serving
            log.exception("job %s failed", task.job_id)
        finally:
            self.progress.pop(task.job_id, None)
            task.path.unlink(missing_ok=True)
