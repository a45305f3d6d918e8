"""Background work of the service: uploaded files are ingested one job at a time, in order.

Jobs are recorded in the catalogue before they are queued, so a restart finds queued jobs again
(their uploads are on disk) and interrupted ones are marked failed by the next ingest.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from catalog.db import writing
from catalog.models import IngestJob, JobStatus, Library
from catalog.search.engine import SearchEngine
from catalog.settings import Settings
from harvest.ingest import IngestError, ingest_file

log = logging.getLogger("unioncat.worker")
JOB = IngestJob.__table__  # type: ignore[attr-defined]


@dataclass
class Task:
    job_id: int
    library_code: str
    path: Path
    mode: str
    fmt: str | None


class JobWorker:
    def __init__(self, engine: Engine, settings: Settings, search: SearchEngine | None) -> None:
        self.engine = engine
        self.settings = settings
        self.search = search
        self.queue: queue.Queue[Task | None] = queue.Queue()
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

    def submit(self, task: Task) -> None:
        self._idle.clear()
        self.queue.put(task)

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
                with writing(self.engine) as conn:
                    conn.execute(
                        update(JOB)
                        .where(JOB.c.id == job_id)
                        .values(
                            status=JobStatus.FAILED.value, error="the uploaded file is gone; upload it again"
                        )
                    )

    def upload_path(self, job_id: int) -> Path:
        return self.settings.uploads_dir / f"job-{job_id}.upload"

    def _loop(self) -> None:
        while True:
            if self.queue.empty():
                self._idle.set()
            task = self.queue.get()
            if task is None:
                return
            self._run(task)

    def _run(self, task: Task) -> None:
        state = self.progress.setdefault(task.job_id, {"records": 0})

        def progress(records: int, _offset: int | None) -> None:
            state["records"] = records

        try:
            ingest_file(
                self.engine,
                task.library_code,
                task.path,
                mode=task.mode,
                fmt=task.fmt,
                source="upload",
                progress=progress,
                batch_size=self.settings.ingest_batch_size,
                job_id=task.job_id,
                ignore_isbns=self.settings.dedup_ignore_isbns,
                search=self.search,
                workers=0,
            )
        except IngestError as exc:
            log.info("job %s failed: %s", task.job_id, exc)
        except Exception:  # the job is marked failed by ingest_file; the worker keeps serving
            log.exception("job %s failed", task.job_id)
        finally:
            self.progress.pop(task.job_id, None)
            task.path.unlink(missing_ok=True)
