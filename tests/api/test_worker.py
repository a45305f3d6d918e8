"""The service's worker after a restart: the upload jobs left queued run through the job runner by
their id; one whose upload is gone ends failed with the reason."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.worker import JobWorker
from catalog import jobs
from catalog.db import session_scope
from catalog.libraries import add_library, get_library
from catalog.settings import Settings
from tests.conftest import VIETNAMESE


def test_queued_uploads_run_after_a_restart_and_a_lost_one_fails(engine: Engine, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", harvest_check_minutes=0)
    settings.uploads_dir.mkdir(parents=True)
    with session_scope(engine) as session:
        add_library(session, "VNU-LIC", "Thư viện VNU-LIC")
    with Session(engine) as session:
        library = get_library(session, "VNU-LIC")
        kept, lost = (jobs.create_job(engine, library, "upload", "update", None, name) for name in ("a", "b"))
    worker = JobWorker(engine, settings, None)
    shutil.copy(VIETNAMESE, worker.upload_path(kept))
    worker.start()
    try:
        assert worker.wait_idle(120)
    finally:
        worker.stop()
    with engine.connect() as conn:
        ran, failed = jobs.job_dict(conn, kept), jobs.job_dict(conn, lost)
    assert (ran["status"], ran["added"], ran["error"]) == ("succeeded", 529, None)
    assert not worker.upload_path(kept).exists()  # an upload is removed once its job has run
    assert failed["status"] == "failed" and failed["error"] == "the uploaded file is gone; upload it again"
    assert failed["finished_at"] is not None and failed["read"] == 0
