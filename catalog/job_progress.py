"""How far a running job got, for every replica of the service to show: the records read so far,
the byte offset reached in the file and the file's size (where known), and when it was noted.

The worker running the job notes its progress as it goes and writes it every
:data:`WRITE_EVERY_S`: on PostgreSQL into the job's row (``ingest_job.progress``, in a transaction
of its own beside the job's); on SQLite, whose single writer is the job itself for its whole run,
into a small file beside the job's upload in the uploads folder, which every process of the
machine reads (SQLite serves one machine). A finished job's progress is no longer shown: its
counts say what it did.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.engine import Engine

from catalog.models import IngestJob, utcnow

JOB = IngestJob.__table__  # type: ignore[attr-defined]
WRITE_EVERY_S = 2.0


def progress_file(uploads_dir: Path, job_id: int) -> Path:
    return uploads_dir / f"job-{job_id}.progress"


class ProgressWriter:
    """The progress callback of one running job (``records``, ``offset``), written now and then."""

    def __init__(
        self,
        engine: Engine,
        uploads_dir: Path,
        job_id: int,
        file_bytes: int | None = None,
        every: float = WRITE_EVERY_S,
    ) -> None:
        self.engine = engine
        self.uploads_dir = uploads_dir
        self.job_id = job_id
        self.every = every
        self.state: dict[str, Any] = {"records": 0, "offset": None, "file_bytes": file_bytes}
        self._next = time.monotonic() + every

    def __call__(self, records: int, offset: int | None) -> None:
        self.state["records"] = records
        if offset is not None:
            self.state["offset"] = offset
        if time.monotonic() >= self._next:
            self._next = time.monotonic() + self.every
            self.write()

    def write(self) -> None:
        noted = {**self.state, "at": utcnow().isoformat()}
        if self.engine.dialect.name == "postgresql":
            with self.engine.begin() as conn:
                conn.execute(update(JOB).where(JOB.c.id == self.job_id).values(progress=noted))
            return
        path = progress_file(self.uploads_dir, self.job_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f"{path.name}.{os.getpid()}.part")
        draft.write_text(json.dumps(noted))
        os.replace(draft, path)

    def close(self) -> None:
        """The job ended: its progress file (SQLite) is no longer needed."""
        progress_file(self.uploads_dir, self.job_id).unlink(missing_ok=True)


def read_progress(conn: Connection, uploads_dir: Path, job_id: int) -> dict[str, Any] | None:
    """The progress last written for the running job ``job_id`` (see the module), or None."""
    if conn.dialect.name == "postgresql":
        row = conn.execute(select(JOB.c.status, JOB.c.progress).where(JOB.c.id == job_id)).first()
        return row.progress if row is not None and row.status == "running" else None
    try:
        return json.loads(progress_file(uploads_dir, job_id).read_text())  # type: ignore[no-any-return]
    except (FileNotFoundError, ValueError):
        return None
