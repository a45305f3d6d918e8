"""A running job's progress, written by a worker apart from the service (another process or
machine), grows as the service shows it (SQLite), and as another machine reads it from the job's row
(PostgreSQL, whose service needs a Meilisearch this machine lacks: the same function answers)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from bench.busy_catalogue import renumbered
from catalog import db, jobs
from catalog.db import session_scope
from catalog.job_progress import read_progress
from catalog.libraries import add_library, get_library
from catalog.settings import Settings
from catalog.tokens import create_token
from harvest.queue import enqueue_upload
from harvest.worker import Worker
from tests.conftest import _pg_database, fixture


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'unioncat.db'}"
    else:
        yield from _pg_database()


def _follow(status: Callable[[], dict[str, Any]], seen: list[dict[str, Any]]) -> dict[str, Any]:
    """The job's status, asked until it ends; each new progress it showed kept in ``seen``."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        job = status()
        if job["status"] in ("succeeded", "failed"):
            return job
        if job["progress"] and (not seen or job["progress"] != seen[-1]):
            seen.append(job["progress"])
        time.sleep(0.1)
    raise AssertionError("the job did not end")


def test_a_running_jobs_progress_grows_as_any_replica_sees_it(database_url: str, tmp_path: Path) -> None:
    from api.app import create_app

    settings = Settings(
        data_dir=tmp_path / "data", database_url=database_url, admin_token="admin", harvest_check_minutes=0
    )
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    with session_scope(engine) as session:
        add_library(session, "VNU-LIC", "Trung tâm Thư viện ĐHQGHN")
        _, token = create_token(session, "VNU-LIC", "tests")
    sample = fixture("sample-2000.mrc").read_bytes()
    body = b"".join(renumbered(sample, copy) for copy in range(5))  # 10,000 records
    worker = Worker(db.make_engine(database_url), settings, None)  # as in a process of its own
    worker.progress_every = 0.3
    stop = threading.Event()
    seen: list[dict[str, Any]] = []
    auth = {"Authorization": f"Bearer {token}"}
    thread = threading.Thread(target=worker.run, args=(stop,), kwargs={"max_jobs": 1}, daemon=True)
    if engine.dialect.name == "sqlite":
        with TestClient(create_app(engine, settings, start_worker=False)) as client:
            answer = client.post("/api/v1/libraries/VNU-LIC/uploads", content=body, headers=auth)
            assert answer.status_code == 202
            thread.start()
            job = _follow(lambda: client.get(answer.headers["location"], headers=auth).json(), seen)
    else:
        received = settings.uploads_dir / "incoming-test"
        settings.uploads_dir.mkdir(parents=True)
        received.write_bytes(body)
        with Session(engine) as session:
            library = get_library(session, "VNU-LIC")
        job_id = enqueue_upload(engine, settings.uploads_dir, library, "update", None, "big.mrc", received)
        replica = db.make_engine(database_url)
        thread.start()

        def status() -> dict[str, Any]:
            with replica.connect() as conn:
                row = jobs.job_row(conn, job_id)
                assert row is not None
                return {**row, "progress": read_progress(conn, settings.uploads_dir, job_id)}

        job = _follow(status, seen)
        replica.dispose()
    assert job["status"] == "succeeded", job
    assert job["progress"] is None and job["read"] == 10_000  # ended: its counts tell
    stop.set()
    thread.join(timeout=60)
    records = [p["records"] for p in seen]
    assert len(records) >= 2 and records == sorted(records) and records[-1] > records[0], seen
    assert all(p["file_bytes"] == len(body) for p in seen)
    offsets = [p["offset"] for p in seen if p["offset"] is not None]
    assert offsets and offsets == sorted(offsets) and offsets[-1] <= len(body)
    assert not list(settings.uploads_dir.glob("job-*"))  # the upload and its progress file are gone
    engine.dispose()
