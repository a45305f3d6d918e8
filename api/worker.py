"""The service's side of the job queue: where uploads are kept, the harvests due, whether every job
has run, and, when the application is created with ``start_worker`` (tests, embedding), a worker
thread in this process.

The jobs themselves run in ``unioncat worker`` processes (see :mod:`harvest.worker`): ``unioncat
serve`` starts one beside it on the embedded default, and production runs them apart. A request
only queues a job and answers with its URL.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalog.libraries import get_library
from catalog.search.engine import SearchEngine
from catalog.settings import Settings
from harvest.queue import enqueue_due_harvests, enqueue_upload, upload_path
from harvest.worker import Worker, idle


class JobWorker:
    def __init__(self, engine: Engine, settings: Settings, search: SearchEngine | None) -> None:
        self.engine = engine
        self.settings = settings
        self.worker = Worker(engine, settings, search)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def progress(self) -> dict[int, dict[str, Any]]:
        """The records read so far by the jobs this process runs (none when workers run apart)."""
        return self.worker.progress

    def start(self) -> None:
        """Run queued jobs in a thread of this process."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self.worker.run, args=(self._stop,), name="unioncat-jobs", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=60)
            self._thread = None

    def enqueue_upload(self, code: str, mode: str, fmt: str | None, filename: str, received: Path) -> int:
        """Queue the upload ``received`` of library ``code``; its job id, at once (see harvest.queue)."""
        with Session(self.engine) as db:
            library = get_library(db, code)
        return enqueue_upload(self.engine, self.settings.uploads_dir, library, mode, fmt, filename, received)

    def queue_due_harvests(self) -> list[str]:
        return enqueue_due_harvests(self.engine)

    def wait_idle(self, timeout: float = 60) -> bool:
        """For tests: wait until every queued job has run."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if idle(self.engine, self.settings.uploads_dir) and not self.worker.busy:
                return True
            time.sleep(0.1)
        return False

    def upload_path(self, job_id: int) -> Path:
        return upload_path(self.settings.uploads_dir, job_id)
