"""Workers on PostgreSQL LISTEN for jobs: one waiting with a long poll interval takes a new job at
once, and one on SQLite still finds it by polling."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from catalog import db
from catalog.models import IngestJob
from catalog.settings import Settings
from harvest.worker import Worker
from tests.conftest import _pg_database
from tests.harvest.test_job_queue import _libraries, _upload

JOB = IngestJob.__table__  # type: ignore[attr-defined]


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from _pg_database()


def _started_within(engine: object, job_id: int, seconds: float) -> float | None:
    """How long the job stayed queued, if it left the queue within ``seconds``."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        with engine.connect() as conn:  # type: ignore[attr-defined]
            status = conn.execute(select(JOB.c.status).where(JOB.c.id == job_id)).scalar_one()
        if status != "queued":
            return time.monotonic() - started
        time.sleep(0.02)
    return None


def _waiting_worker(
    url: str, tmp_path: Path, poll: float
) -> tuple[Worker, threading.Event, threading.Thread]:
    engine = db.make_engine(url)
    settings = Settings(
        data_dir=tmp_path / "data", database_url=url, harvest_check_minutes=0, worker_poll_seconds=poll
    )
    worker = Worker(engine, settings, None)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    time.sleep(1.5)  # it found the queue empty and waits
    return worker, stop, thread


@pytest.mark.postgres
def test_a_waiting_postgres_worker_takes_a_new_job_within_a_second(pg_url: str, tmp_path: Path) -> None:
    engine = db.make_engine(pg_url)
    db.upgrade(engine)
    _libraries(engine, "LIB-A")
    worker, stop, thread = _waiting_worker(pg_url, tmp_path, poll=60)
    try:
        settings = worker.settings
        job_id = _upload(engine, settings, "LIB-A")
        waited = _started_within(engine, job_id, 10)
        assert waited is not None and waited < 1.0, waited
    finally:
        stop.set()
        thread.join(timeout=120)
    assert not thread.is_alive()
    engine.dispose()


def test_a_sqlite_worker_still_finds_a_new_job_by_polling(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'unioncat.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    _libraries(engine, "LIB-A")
    worker, stop, thread = _waiting_worker(url, tmp_path, poll=0.3)
    try:
        job_id = _upload(engine, worker.settings, "LIB-A")
        waited = _started_within(engine, job_id, 10)
        assert waited is not None and waited < 3.0, waited
    finally:
        stop.set()
        thread.join(timeout=120)
    engine.dispose()
