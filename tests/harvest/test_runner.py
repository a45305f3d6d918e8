"""The job runner on a real catalogue (SQLite file and PostgreSQL): whatever ends a job (its source,
its writer, an interruption, a killed process), the job is recorded with the right status, the counts
and rejections of what it committed, and nothing of what it did not commit."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalog import jobs
from catalog.db import session_scope
from catalog.libraries import add_library, get_library
from catalog.records import PreparedRecord
from harvest import sources
from harvest.incoming import Incoming
from harvest.ingest import IngestError, ingest_file, outcomes
from harvest.prepare import Outcome
from harvest.runner import RunningJob, run_job
from tests.conftest import VIETNAMESE, fixture

ROOT = Path(__file__).resolve().parents[2]
PER_COMMIT = 100
BAD = 9  # the records of bad_records.mrc: every one rejected


class Pages:
    """A source that commits its file's records ``PER_COMMIT`` at a time, as a harvest commits its
    pages; in transaction ``fail_in`` it raises ``error`` (or waits, to be killed) after writing."""

    def __init__(self, path: Path, fail_in: int | None = None, error: BaseException | None = None) -> None:
        self.path = path
        self.fail_in = fail_in
        self.error = error

    def kept(self, job: RunningJob) -> str:
        return f"; {job.commits} transaction(s) committed stay"

    def ingest(self, job: RunningJob) -> None:
        items: Iterator[Incoming] = sources.read_path(self.path, decoded=False)
        found = outcomes(items, job.profile, 0, job.rows_library)
        for number, part in enumerate(_parts(found)):
            with job.transaction() as tx:
                batch: list[PreparedRecord] = []
                for outcome in part:
                    if outcome.prepared is None:
                        tx.reject(outcome.number, outcome.offset, outcome.local_id, outcome.reason)
                    else:
                        tx.accept(outcome.prepared)
                        batch.append(outcome.prepared)
                tx.write(batch)
                if number == self.fail_in:
                    if self.error is None:
                        print("waiting", flush=True)
                        time.sleep(600)
                    raise self.error


def _parts(found: Iterator[Outcome]) -> Iterator[list[Outcome]]:
    part: list[Outcome] = []
    for outcome in found:
        part.append(outcome)
        if len(part) == PER_COMMIT:
            yield part
            part = []
    if part:
        yield part


def _file(tmp_path: Path) -> Path:
    """Nine broken records, then the 529 Vietnamese ones: the first transaction holds rejections."""
    path = tmp_path / "mixed.mrc"
    # the last broken record is cut short: its end-of-record byte keeps the next record whole
    path.write_bytes(fixture("bad_records.mrc").read_bytes() + b"\x1d" + VIETNAMESE.read_bytes())
    return path


def _job(engine: Engine, source: str = "cli") -> int:
    with session_scope(engine) as session:
        add_library(session, "VNU-LIC", "Thư viện VNU-LIC")
    with Session(engine) as session:
        return jobs.create_job(engine, get_library(session, "VNU-LIC"), source, "update", "iso2709", "x")


def _state(engine: Engine, job_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        job = jobs.job_dict(conn, job_id)
        job["rejection_rows"] = jobs.rejection_count(conn, job_id)
        job["records"] = conn.execute(text("SELECT count(*) FROM source_record")).scalar_one()
        job["holdings"] = conn.execute(text("SELECT count(*) FROM holding")).scalar_one()
        job["without_union"] = conn.execute(
            text("SELECT count(*) FROM source_record WHERE union_record_id IS NULL")
        ).scalar_one()
    return job


def _committed_first(job: dict[str, Any]) -> None:
    """Only the first transaction is there: its 9 rejections and 91 records, each in a union record."""
    counts = tuple(job[k] for k in ("read", "added", "updated", "unchanged", "deleted", "rejected"))
    assert counts == (PER_COMMIT, PER_COMMIT - BAD, 0, 0, 0, BAD)
    assert job["rejection_rows"] == BAD
    assert (job["records"], job["holdings"], job["without_union"]) == (PER_COMMIT - BAD, PER_COMMIT - BAD, 0)
    assert job["started_at"] and job["finished_at"]


def test_a_source_that_runs_to_its_end_succeeds_with_every_count(engine: Engine, tmp_path: Path) -> None:
    job_id = _job(engine)
    summary = run_job(engine, job_id, Pages(_file(tmp_path)))
    job = _state(engine, job_id)
    assert summary["status"] == job["status"] == "succeeded" and job["error"] is None
    assert (job["read"], job["added"], job["rejected"], job["rejection_rows"]) == (529 + BAD, 529, BAD, BAD)
    assert (job["records"], job["without_union"]) == (529, 0)
    assert summary["union_records_changed"] > 0


def test_a_failing_source_keeps_what_it_committed_and_says_why(engine: Engine, tmp_path: Path) -> None:
    job_id = _job(engine)
    source = Pages(_file(tmp_path), fail_in=1, error=IngestError("the repository went away"))
    with pytest.raises(IngestError, match="the repository went away") as failed:
        run_job(engine, job_id, source)
    assert failed.value.job_id == job_id
    job = _state(engine, job_id)
    assert job["status"] == "failed"
    assert job["error"] == "the repository went away; 1 transaction(s) committed stay"
    _committed_first(job)


def test_a_failing_writer_rolls_its_transaction_back(engine: Engine, tmp_path: Path) -> None:
    job_id = _job(engine)
    writes: list[int] = []

    def explode(_conn: Any, result: Any) -> None:
        writes.append(result.added)
        if len(writes) == 2:
            raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        run_job(engine, job_id, Pages(_file(tmp_path)), after_write=explode)
    job = _state(engine, job_id)
    assert job["status"] == "failed"
    assert job["error"] == "internal error: RuntimeError('disk on fire'); 1 transaction(s) committed stay"
    _committed_first(job)


def test_an_interrupted_job_is_failed_with_what_it_committed(engine: Engine, tmp_path: Path) -> None:
    job_id = _job(engine)
    with pytest.raises(KeyboardInterrupt):
        run_job(engine, job_id, Pages(_file(tmp_path), fail_in=1, error=KeyboardInterrupt()))
    job = _state(engine, job_id)
    assert job["status"] == "failed" and job["error"].startswith("interrupted; 1 transaction(s)")
    _committed_first(job)


def test_a_file_ingest_that_fails_commits_nothing_not_even_its_rejections(
    engine: Engine, tmp_path: Path
) -> None:
    with session_scope(engine) as session:
        add_library(session, "VNU-LIC", "Thư viện VNU-LIC")

    def explode(_conn: Any, _result: Any) -> None:
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        ingest_file(engine, "VNU-LIC", _file(tmp_path), batch_size=100, after_batch=explode)
    with engine.connect() as conn:
        job_id = conn.execute(text("SELECT max(id) FROM ingest_job")).scalar_one()
    job = _state(engine, job_id)
    assert job["status"] == "failed" and job["error"].endswith("; nothing was changed")
    assert (job["read"], job["added"], job["rejected"], job["rejection_rows"], job["records"]) == (
        0,
        0,
        0,
        0,
        0,
    )


def test_a_job_of_a_library_whose_holdings_profile_is_wrong_fails_before_it_starts(engine: Engine) -> None:
    job_id = _job(engine)
    with session_scope(engine) as session:
        get_library(session, "VNU-LIC").holdings_profile = "no-such-profile"
    with pytest.raises(IngestError, match="VNU-LIC") as failed:
        run_job(engine, job_id, Pages(VIETNAMESE))
    assert failed.value.job_id == job_id
    job = _state(engine, job_id)
    assert job["status"] == "failed" and job["error"].endswith("; nothing was changed")
    assert job["started_at"] is None and job["records"] == 0


def test_a_killed_job_is_recovered_with_what_it_committed(engine: Engine, tmp_path: Path) -> None:
    """kill -9 in the middle of the second transaction: the next job marks it failed; the first
    transaction's records, rejections and counts stay, nothing of the second."""
    job_id = _job(engine)
    url = engine.url.render_as_string(hide_password=False)
    script = (
        "from pathlib import Path; from catalog.db import make_engine; from harvest.runner import run_job; "
        "from tests.harvest.test_runner import Pages; "
        f"run_job(make_engine({url!r}), {job_id}, Pages(Path({str(_file(tmp_path))!r}), fail_in=1))"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "waiting"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert _state(engine, job_id)["status"] == "running"
    assert job_id in jobs.recover_interrupted(engine)
    job = _state(engine, job_id)
    assert job["status"] == "failed" and job["error"].startswith("interrupted: the process running the job")
    _committed_first(job)


def test_an_unreachable_search_engine_leaves_the_committed_job_succeeded_and_says_so(
    engine: Engine, tmp_path: Path
) -> None:
    """A search engine that is not transactional is sent each commit's union records after it; when
    it cannot be reached, the catalogue is right and the job says to reindex."""
    from catalog.search.meili import MeiliSearchEngine

    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    job_id = _job(engine)
    started = time.monotonic()
    summary = run_job(
        engine, job_id, Pages(_file(tmp_path)), search=MeiliSearchEngine(f"http://127.0.0.1:{port}", None)
    )
    assert time.monotonic() - started < 30
    job = _state(engine, job_id)
    assert summary["status"] == job["status"] == "succeeded" and job["records"] == 529
    assert "run 'unioncat reindex'" in summary["index_error"]
