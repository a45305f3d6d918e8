"""Ingest with worker processes (the default for files over 16 MB): the same catalogue as one process
gives, and a file that breaks half-way, or a writer that fails, ends the job cleanly."""

from __future__ import annotations

import gc
import gzip
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from catalog.db import make_engine, session_scope, upgrade
from catalog.libraries import add_library
from catalog.records import PreparedRecord
from harvest import sources
from harvest.incoming import Incoming
from harvest.ingest import IngestError, ingest_file
from harvest.prepare import Outcome, packed, process_chunk
from tests.conftest import VIETNAMESE, descendants, fixture, wait_gone

ROOT = Path(__file__).resolve().parents[2]


def _catalogue(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with session_scope(engine) as session:
        add_library(session, "VNU-LIC", "Thư viện VNU-LIC")
    return engine


def _contents(engine: Engine) -> dict[str, list[Any]]:
    queries = {
        "records": "SELECT id, local_id, checksum, fields, title, title_key, union_record_id "
        "FROM source_record",
        "holdings": "SELECT source_record_id, call_number, barcode FROM holding",
        "keys": "SELECT source_record_id, kind, value FROM record_key",
        "unions": "SELECT id, title, fields, member_count FROM union_record",
        "index": "SELECT rowid, title, authors, subjects, other FROM search_fts",
        "filters": "SELECT union_id, year, has_digital, codes FROM search_filter",
        "facet values": "SELECT id, facet, value FROM search_facet_value",
    }
    with engine.connect() as conn:
        return {name: sorted(map(tuple, conn.exec_driver_sql(sql))) for name, sql in queries.items()}


@pytest.mark.parametrize("name", ["sample-2000.mrc", VIETNAMESE])
def test_workers_build_the_same_catalogue_as_one_process(tmp_path: Path, name: str) -> None:
    serial, parallel = _catalogue(tmp_path / "serial.db"), _catalogue(tmp_path / "parallel.db")
    one = ingest_file(serial, "VNU-LIC", fixture(name), batch_size=300, workers=0)
    two = ingest_file(parallel, "VNU-LIC", fixture(name), batch_size=300, workers=2)
    counts = ("read", "added", "updated", "unchanged", "rejected")
    assert [one[k] for k in counts] == [two[k] for k in counts]
    assert one["added"] > 500
    assert _contents(serial) == _contents(parallel)


@pytest.mark.parametrize("library", [None, "VNU-LIC"])
def test_outcomes_cross_to_the_writer_whole(library: str | None) -> None:
    """What a worker hands back (prepared records with holdings, keys, warnings and search rows;
    rejections) is unpickled by calling the classes with every field, and arrives equal."""
    items = list(sources.read_path(fixture("koha-sample-436-with-952.xml"), "auto", decoded=False))
    items += list(sources.read_path(fixture("bad_records.mrc"), "auto", decoded=False))
    sent = process_chunk(items, None, library)
    assert any(o.prepared is None for o in sent) and any(o.prepared and o.prepared.warnings for o in sent)
    assert any(o.prepared and o.prepared.holdings for o in sent)
    assert all(o.prepared.document for o in sent if o.prepared) == (library is not None)
    got = pickle.loads(packed(process_chunk, items, None, library))
    assert got == sent

    def plain(read: list[Incoming]) -> list[tuple[Any, ...]]:  # a pymarc Record equals only itself
        return [(i.number, i.offset, i.raw, i.raw_format, i.error, i.warnings, i.member) for i in read]

    assert plain(pickle.loads(pickle.dumps(items))) == plain(items)
    assert all(item.__reduce_ex__(pickle.HIGHEST_PROTOCOL)[0] is Incoming for item in items)
    for outcome in sent:  # rebuilt by a call of the class, not slot by slot
        assert outcome.__reduce_ex__(pickle.HIGHEST_PROTOCOL)[0] is Outcome
        if outcome.prepared is not None:
            assert outcome.prepared.__reduce_ex__(pickle.HIGHEST_PROTOCOL)[0] is PreparedRecord


def test_a_file_cut_half_way_fails_the_job_with_workers(tmp_path: Path) -> None:
    engine = _catalogue(tmp_path / "c.db")
    whole = gzip.compress(fixture("sample-2000.mrc").read_bytes())
    cut = tmp_path / "cut.mrc.gz"
    cut.write_bytes(whole[: len(whole) * 2 // 3])
    with pytest.raises(IngestError) as failed:
        ingest_file(engine, "VNU-LIC", cut, batch_size=200, workers=2)
    assert failed.value.job_id is not None
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM source_record").scalar_one() == 0
        status, reason = conn.exec_driver_sql("SELECT status, error FROM ingest_job").one()
    assert status == "failed" and reason


def test_a_failing_writer_stops_the_workers(tmp_path: Path) -> None:
    engine = _catalogue(tmp_path / "c.db")
    batches = []

    def fail_on_third(conn: Any, result: Any) -> None:
        batches.append(len(result.touched))
        if len(batches) == 3:
            raise RuntimeError("disk full (simulated)")

    with pytest.raises(RuntimeError, match="disk full"):
        ingest_file(
            engine,
            "VNU-LIC",
            fixture("sample-2000.mrc"),
            batch_size=100,
            workers=2,
            after_batch=fail_on_third,
        )
    assert len(batches) == 3
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM source_record")).scalar_one() == 0
        assert conn.execute(text("SELECT status FROM ingest_job")).scalar_one() == "failed"


def test_a_job_leaves_the_garbage_collector_as_it_found_it(tmp_path: Path) -> None:
    """Jobs run the collector less often (they also run inside the API server): only while they run."""
    engine = _catalogue(tmp_path / "c.db")
    before = gc.get_threshold()
    seen = []
    ingest_file(
        engine,
        "VNU-LIC",
        fixture(VIETNAMESE),
        workers=0,
        after_batch=lambda *_: seen.append(gc.get_threshold()),
    )
    assert seen and seen[0] != before and gc.get_threshold() == before
    with pytest.raises(IngestError):
        ingest_file(engine, "VNU-LIC", tmp_path / "missing.mrc", workers=0)
    assert gc.get_threshold() == before


def test_overlapping_jobs_leave_the_garbage_collector_as_they_found_it() -> None:
    """Jobs in the API server's threads overlap: the first starts, the second starts, the first ends
    and the second ends. The thresholds of before the first come back, not the jobs' own."""
    from harvest.pool import fewer_collections
    from harvest.prepare import GC_THRESHOLDS

    before = gc.get_threshold()
    assert before != GC_THRESHOLDS
    first, second = fewer_collections(), fewer_collections()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_threshold() == GC_THRESHOLDS  # the second job still runs
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before


@pytest.mark.parametrize("modules", ["harvest.prepare, harvest.oai_fetch", "api.entry"])
def test_workers_import_no_database_layer(modules: str) -> None:
    """What a worker imports: the code it runs to prepare records (file ingests and OAI-PMH pages),
    and the main module of the job's process, which multiprocessing imports again in each worker
    (the console script's api.entry). Neither needs the database layer or the web framework."""
    code = (
        f"import sys, {modules}; "
        "print(sorted(m for m in ('sqlalchemy', 'sqlmodel', 'alembic', 'fastapi') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]"


def test_workers_end_with_a_job_killed_by_sigkill(tmp_path: Path) -> None:
    """kill -9 of a job leaves none of its processes behind: its workers (and their fork server)
    notice that the job's process is gone and end."""
    engine = _catalogue(tmp_path / "c.db")
    big = tmp_path / "big.mrc"
    data = fixture("sample-2000.mrc").read_bytes()
    big.write_bytes(data * 30)  # the same records again: counted unchanged, but all prepared
    script = (
        "from pathlib import Path; from catalog.db import make_engine; "
        "from harvest.ingest import ingest_file; "
        f"ingest_file(make_engine('sqlite:///{tmp_path / 'c.db'}'), 'VNU-LIC', Path({str(big)!r}), workers=2)"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    deadline = time.monotonic() + 60
    helpers: list[int] = []
    while len(helpers) < 3 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
        helpers = descendants(proc.pid)  # fork server, two workers (and the resource tracker)
    assert proc.poll() is None and len(helpers) >= 3, "the job ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert wait_gone(helpers) == [], "processes of the killed job are still running"
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM source_record").scalar() == 0
