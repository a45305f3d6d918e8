"""The job queue and its workers, on real catalogues and real processes: a job is claimed by exactly
one worker, never beside another job of its library; a worker killed with -9 loses nothing and its
job is run again (or failed after its attempts); a job whose upload vanished fails with the reason;
an upload is answered while a job holds SQLite's write lock, and searches and lookups answer while
it writes."""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalog import db, jobs
from catalog.db import session_scope
from catalog.libraries import add_library, get_library
from catalog.models import IngestJob, SourceRecord
from catalog.settings import Settings
from harvest.ingest import FileIngest
from harvest.queue import enqueue_harvest, enqueue_upload, pending_upload, upload_path
from harvest.runner import run_job
from harvest.worker import VANISHED, Worker
from tests.conftest import ROOT, VIETNAMESE, _pg_database

JOB = IngestJob.__table__  # type: ignore[attr-defined]
ADMIN = "queue-admin-token"


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from _pg_database()


def _libraries(engine: Engine, *codes: str) -> None:
    with session_scope(engine) as session:
        for code in codes:
            add_library(session, code, f"Thư viện {code}")


def _upload(engine: Engine, settings: Settings, code: str, source: Path = VIETNAMESE) -> int:
    settings.uploads_dir.mkdir(parents=True, exist_ok=True)
    received = settings.uploads_dir / f"incoming-{code}-{time.monotonic_ns()}"
    shutil.copy(source, received)
    with Session(engine) as session:
        library = get_library(session, code)
    return enqueue_upload(engine, settings.uploads_dir, library, "update", None, source.name, received)


def _job(engine: Engine, job_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        row = jobs.job_row(conn, job_id)
    assert row is not None
    return row


def _big_file(path: Path, rounds: int) -> Path:
    with open(path, "wb") as fh:
        data = VIETNAMESE.read_bytes()
        for n in range(rounds):
            fh.write(data.replace(b"\x1e00", b"\x1e%02d" % n))
    return path


def _worker_script(tmp_path: Path, url: str, max_jobs: int, **settings: Any) -> str:
    """A worker process (without search engine) that runs ``max_jobs`` jobs and ends."""
    given = dict(data_dir=str(tmp_path / "data"), database_url=url, harvest_check_minutes=0, **settings)
    return (
        "import threading; from catalog.db import make_engine; from catalog.settings import Settings; "
        f"from harvest.worker import Worker; s = Settings(**{given!r}); "
        f"Worker(make_engine(s.resolved_database_url), s, None).run(threading.Event(), max_jobs={max_jobs})"
    )


def _records(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(SourceRecord)).scalar_one()


# ------------------------------------------------------------------------------ claims
@pytest.mark.postgres
def test_concurrent_claims_take_each_job_once_and_one_job_per_library(pg_url: str) -> None:
    engine = db.make_engine(pg_url)
    db.upgrade(engine)
    codes = ["LIB-A", "LIB-B", "LIB-C"]
    _libraries(engine, *codes)
    with Session(engine) as session:
        libraries = [get_library(session, code) for code in codes]
    queued = [jobs.create_job(engine, lib, "upload", "update", None, "x") for lib in libraries * 4]
    claimed: list[tuple[str, int]] = []
    lock = threading.Lock()

    def claimer(name: str) -> None:
        for _ in range(10):
            job_id = jobs.claim(engine, name)
            if job_id is not None:
                with lock:
                    claimed.append((name, job_id))

    threads = [threading.Thread(target=claimer, args=(f"w{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Nothing finishes: each library has exactly one job running, the oldest, claimed once.
    assert sorted(job_id for _name, job_id in claimed) == queued[:3]
    with engine.connect() as conn:
        running = conn.execute(
            select(JOB.c.library_id, JOB.c.claimed_by).where(JOB.c.status == "running")
        ).all()
    assert len(running) == 3 and len({library for library, _ in running}) == 3
    # A job of the whole catalogue waits until no job runs, and then runs alone.
    reindex = jobs.create_job(engine, None, "reindex", "update", None, None)
    assert jobs.claim(engine, "w0") is None  # every library busy, and the reindex waits for them
    with db.writing(engine) as conn:
        for _name, job_id in claimed:
            jobs.finish(conn, job_id, {})
    for job_id in queued[3:]:
        jobs.fail(engine, job_id, "withdrawn")
    assert jobs.claim(engine, "w0") == reindex
    later = jobs.create_job(engine, libraries[0], "upload", "update", None, "x")
    assert jobs.claim(engine, "w1") is None
    with db.writing(engine) as conn:
        jobs.finish(conn, reindex, {})
    assert jobs.claim(engine, "w1") == later
    engine.dispose()


@pytest.mark.postgres
def test_two_worker_processes_share_the_queue(pg_url: str, tmp_path: Path) -> None:
    """Two ``Worker`` processes on one PostgreSQL catalogue: every job runs once, by one of them,
    and two jobs of one library never run at the same time."""
    engine = db.make_engine(pg_url)
    db.upgrade(engine)
    _libraries(engine, "LIB-A", "LIB-B")
    settings = Settings(data_dir=tmp_path / "data", harvest_check_minutes=0, database_url=pg_url)
    queued = [_upload(engine, settings, code) for code in ("LIB-A", "LIB-B") * 3]
    script = _worker_script(tmp_path, pg_url, 6, worker_poll_seconds=0.2)
    procs = [subprocess.Popen([sys.executable, "-c", script], cwd=ROOT) for _ in range(2)]
    try:
        deadline = time.time() + 240
        while time.time() < deadline:
            with engine.connect() as conn:
                if jobs.pending(conn) == 0:
                    break
            time.sleep(0.3)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    rows = [_job(engine, job_id) for job_id in queued]
    assert [(r["status"], r["attempts"]) for r in rows] == [("succeeded", 1)] * 6
    assert {r["claimed_by"].rsplit(":", 1)[1] for r in rows} <= {str(p.pid) for p in procs}
    assert rows[0]["added"] == 529 and all(r["added"] == 0 and r["unchanged"] == 529 for r in rows[2:])
    for code in ("LIB-A", "LIB-B"):
        spans = sorted((r["started_at"], r["finished_at"]) for r in rows if r["library_code"] == code)
        assert all(end <= start for (_s, end), (start, _e) in itertools.pairwise(spans)), spans
    assert not list(settings.uploads_dir.glob("job-*"))  # every upload removed once its job ran
    engine.dispose()


@pytest.mark.postgres
def test_jobs_of_different_libraries_running_at_once_merge_their_shared_editions(pg_url: str) -> None:
    """Four libraries' jobs of the same 529 records, run at the same moment on PostgreSQL: each
    edition ends as one union record of the four, as when the jobs run one after another (a job
    that decided against records another had not committed yet would have merged nothing)."""
    from harvest.ingest import ingest_file

    engine = db.make_engine(pg_url)
    db.upgrade(engine)
    codes = ("LIB-A", "LIB-B", "LIB-C", "LIB-D")
    _libraries(engine, *codes)
    failures: list[BaseException] = []

    def ingest(code: str) -> None:
        try:
            ingest_file(engine, code, VIETNAMESE, workers=0)
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=ingest, args=(code,)) for code in codes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    with engine.connect() as conn:
        unions = conn.execute(
            text("SELECT count(*), min(library_count), max(member_count) FROM union_record")
        )
        assert tuple(unions.one()) == (529, 4, 4)
        assert (
            conn.execute(
                text("SELECT count(*) FROM source_record WHERE union_record_id IS NULL")
            ).scalar_one()
            == 0
        )
    engine.dispose()


# ------------------------------------------------------------------------------ dead workers
@pytest.mark.postgres
def test_a_worker_killed_mid_job_loses_nothing_and_another_runs_the_job_again(
    pg_url: str, tmp_path: Path
) -> None:
    """kill -9 of a worker in the middle of a file ingest: nothing of it is in the catalogue; its
    lease expires (as seen from another machine: no process to look at) and a second worker runs
    the job again, to the end."""
    engine = db.make_engine(pg_url)
    db.upgrade(engine)
    _libraries(engine, "LIB-A")
    settings = Settings(data_dir=tmp_path / "data", harvest_check_minutes=0, database_url=pg_url)
    big = _big_file(tmp_path / "big.mrc", 12)
    job_id = _upload(engine, settings, "LIB-A", big)
    script = _worker_script(tmp_path, pg_url, 1, job_lease_seconds=10, ingest_batch_size=200)
    first = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    deadline = time.time() + 60
    while _job(engine, job_id)["status"] != "running" and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(1.5)  # well inside the job: batches are being written
    assert first.poll() is None, "the job finished before it could be killed: make the file bigger"
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    assert _records(engine) == 0  # nothing half-written
    killed = _job(engine, job_id)
    assert (killed["status"], killed["attempts"]) == ("running", 1)
    with engine.begin() as conn:  # as if it had run on another machine: only its lease tells
        conn.execute(update(JOB).where(JOB.c.id == job_id).values(host="another-machine"))
    second = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    try:
        assert second.wait(240) == 0
    finally:
        if second.poll() is None:
            second.kill()
    done = _job(engine, job_id)
    assert (done["status"], done["attempts"], done["read"]) == ("succeeded", 2, 12 * 529)
    assert _records(engine) == done["added"] > 0
    assert not upload_path(settings.uploads_dir, job_id).exists()
    engine.dispose()


def test_an_interrupted_job_out_of_attempts_fails_with_the_reason(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    engine = sqlite_engine
    _libraries(engine, "LIB-A")
    settings = Settings(data_dir=tmp_path / "data", harvest_check_minutes=0)
    job_id = _upload(engine, settings, "LIB-A")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    for attempt in (1, 2):
        assert jobs.claim(engine, "w") == job_id
        with engine.begin() as conn:  # its process died (kill -9 leaves exactly this)
            conn.execute(update(JOB).where(JOB.c.id == job_id).values(pid=gone.pid))
        assert jobs.recover_interrupted(engine, max_attempts=2) == [job_id]
        status = _job(engine, job_id)
        if attempt == 1:
            assert status["status"] == "queued" and status["error"].startswith("attempt 1 interrupted")
    assert status["status"] == "failed"
    assert "interrupted" in status["error"] and "attempt 2 of 2: not tried again" in status["error"]


def test_a_job_whose_upload_vanished_fails_with_the_reason(sqlite_engine: Engine, tmp_path: Path) -> None:
    engine = sqlite_engine
    _libraries(engine, "LIB-A")
    settings = Settings(data_dir=tmp_path / "data", harvest_check_minutes=0)
    job_id = _upload(engine, settings, "LIB-A")
    upload_path(settings.uploads_dir, job_id).unlink()
    assert Worker(engine, settings, None).run_once() == job_id
    failed = _job(engine, job_id)
    assert (failed["status"], failed["error"], failed["read"]) == ("failed", VANISHED, 0)
    assert failed["finished_at"] is not None


def test_a_queued_harvest_that_cannot_start_fails_with_the_reason(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """A harvest queued for a library whose OAI-PMH URL was removed since: failed, not left running."""
    engine = sqlite_engine
    _libraries(engine, "LIB-A")
    with Session(engine) as session:
        job_id = enqueue_harvest(engine, get_library(session, "LIB-A"))
        assert job_id is not None
        assert enqueue_harvest(engine, get_library(session, "LIB-A")) is None  # one is waiting already
    settings = Settings(data_dir=tmp_path / "data", harvest_check_minutes=0)
    assert Worker(engine, settings, None).run_once() == job_id
    failed = _job(engine, job_id)
    assert failed["status"] == "failed" and "has no OAI-PMH base URL" in failed["error"]


# ------------------------------------------------------------------------------ readers and writers
def test_uploads_searches_and_lookups_answer_while_a_job_holds_the_write_lock(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    """A file ingest is paused inside its write transaction (after its first batch): meanwhile an
    upload answers 202 with its job's URL, the job reads as queued, and searches and holdings
    lookups answer well within two seconds. Once the ingest commits, a worker records the upload's
    job and runs it."""
    from api.app import create_app

    engine = sqlite_engine
    _libraries(engine, "LIB-A", "LIB-B")
    settings = Settings(data_dir=tmp_path / "data", harvest_check_minutes=0, admin_token=ADMIN)
    settings.uploads_dir.mkdir(parents=True)
    worker = Worker(engine, settings, None)
    _upload(engine, settings, "LIB-B")
    assert worker.run_once() is not None  # LIB-B's records are searchable
    with Session(engine) as session:
        writing_job = jobs.create_job(engine, get_library(session, "LIB-A"), "cli", "update", None, "big")
    paused, release = threading.Event(), threading.Event()

    def pause(_conn: Any, _result: Any) -> None:
        paused.set()
        assert release.wait(120)

    ingest = threading.Thread(
        target=run_job,
        args=(engine, writing_job, FileIngest(_big_file(tmp_path / "big.mrc", 2), "update", None, 200, 0)),
        kwargs={"after_write": pause},
    )
    ingest.start()
    try:
        assert paused.wait(60)
        admin = {"Authorization": f"Bearer {ADMIN}"}
        with TestClient(create_app(engine, settings, start_worker=False)) as client:
            start = time.perf_counter()
            upload = client.post(
                "/api/v1/libraries/LIB-B/uploads", content=VIETNAMESE.read_bytes(), headers=admin
            )
            assert upload.status_code == 202, upload.text
            assert time.perf_counter() - start < 10  # the short wait for the lock, not its 60 s
            queued = client.get(upload.headers["location"], headers=admin).json()
            assert (queued["status"], queued["library"], queued["source"]) == ("queued", "LIB-B", "upload")
            assert pending_upload(settings.uploads_dir, upload.json()["job_id"]) is not None
            for path, params in (
                ("/api/v1/search", {"q": "Việt Nam"}),
                ("/api/v1/holdings", {"id": 1}),
                ("/api/v1/search", {"q": "lịch sử"}),
            ):
                start = time.perf_counter()
                answer = client.get(path, params=params)
                assert answer.status_code == 200, answer.text
                assert time.perf_counter() - start < 2.0, path
            assert client.get("/api/v1/search", params={"q": "Việt Nam"}).json()["total"] > 0
    finally:
        release.set()
        ingest.join(120)
    assert _job(engine, writing_job)["status"] == "succeeded"
    job_id = upload.json()["job_id"]
    assert worker.run_once() == job_id  # recorded from its note, then run
    assert _job(engine, job_id)["status"] == "succeeded"
    assert pending_upload(settings.uploads_dir, job_id) is None
    with engine.connect() as conn:
        ids = conn.execute(select(JOB.c.id).order_by(JOB.c.id)).scalars().all()
    assert len(ids) == len(set(ids)) == 3


# ------------------------------------------------------------------------------ unioncat serve
def test_serve_starts_its_worker_and_stops_it(tmp_path: Path) -> None:
    """'unioncat serve' on the embedded default runs jobs in a worker process beside it: an upload
    and a reindex run there (not in the server), and the worker ends with the server."""
    import json
    import socket
    import urllib.request

    from api.cli.worker import WORKER_NICENESS
    from tests.conftest import descendants, unioncat_command, wait_gone

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNIONCAT_")}
    env.update(UNIONCAT_DATA_DIR=str(tmp_path / "data"), UNIONCAT_ADMIN_TOKEN=ADMIN)
    subprocess.run(
        [*unioncat_command(), "library", "add", "LIB-A", "--name", "Thư viện A"],
        env=env,
        check=True,
        timeout=60,
    )
    proc = subprocess.Popen([*unioncat_command(), "serve", "--port", str(port)], env=env, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"

    def call(method: str, path: str, body: bytes | None = None) -> dict[str, Any]:
        request = urllib.request.Request(
            base + path, data=body, method=method, headers={"Authorization": f"Bearer {ADMIN}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]

    def finished(url: str) -> dict[str, Any]:
        deadline = time.time() + 120
        while time.time() < deadline:
            job = call("GET", url)
            if job["status"] in ("succeeded", "failed"):
                return job
            time.sleep(0.2)
        raise AssertionError(f"{url} did not finish")

    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                call("GET", "/health")
                break
            except OSError:
                time.sleep(0.2)
        workers = descendants(proc.pid)
        assert len(workers) == 1 and b"worker" in Path(f"/proc/{workers[0]}/cmdline").read_bytes()
        niceness = int(Path(f"/proc/{workers[0]}/stat").read_text().rsplit(")", 1)[1].split()[16])
        assert niceness == min(19, os.nice(0) + WORKER_NICENESS)  # it yields the processor to the server
        upload = finished(call("POST", "/api/v1/libraries/LIB-A/uploads", VIETNAMESE.read_bytes())["url"])
        assert (upload["status"], upload["added"]) == ("succeeded", 529)
        reindex = finished(call("POST", "/api/v1/admin/reindex")["url"])
        assert (reindex["status"], reindex["read"]) == ("succeeded", 529)
        catalogue = db.make_engine(f"sqlite:///{tmp_path / 'data' / 'unioncat.db'}")
        with catalogue.connect() as conn:
            pids = set(conn.execute(text("SELECT pid FROM ingest_job")).scalars())
        catalogue.dispose()
        assert pids == {workers[0]}  # run by the worker, not by the server
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    assert wait_gone(workers) == []
