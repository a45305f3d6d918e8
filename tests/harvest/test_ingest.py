"""Ingest jobs on a real catalogue (SQLite file and PostgreSQL): counts, modes, atomicity, reports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalog import jobs
from catalog.db import session_scope
from catalog.libraries import add_library
from catalog.models import Holding, IngestJob, RecordKey, SourceRecord
from harvest.ingest import IngestError, ingest_file
from harvest.iso2709 import split_records
from tests.conftest import JAZZ_949, KOHA, VIETNAMESE, fixture


def _library(engine: Engine, code: str = "VNU-LIC", **values: object) -> None:
    with session_scope(engine) as session:
        add_library(session, code, f"Thư viện {code}", **values)


def _count(engine: Engine, model: type, *where: object) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _subset(path: Path, target: Path, keep) -> Path:  # type: ignore[no-untyped-def]
    with open(path, "rb") as src, open(target, "wb") as dst:
        for i, (_off, raw) in enumerate(split_records(src)):
            if keep(i):
                dst.write(raw)
    return target


def _invariant(summary: dict) -> None:
    assert (
        summary["read"] == summary["added"] + summary["updated"] + summary["unchanged"] + summary["rejected"]
    )


def test_ingest_then_reingest_changes_nothing(engine: Engine) -> None:
    _library(engine)
    first = ingest_file(engine, "VNU-LIC", VIETNAMESE)
    assert (first["read"], first["added"], first["rejected"], first["status"]) == (529, 529, 0, "succeeded")
    _invariant(first)
    before = _count(engine, Holding), _count(engine, RecordKey)
    again = ingest_file(engine, "VNU-LIC", VIETNAMESE)
    assert (again["added"], again["updated"], again["unchanged"], again["deleted"]) == (0, 0, 529, 0)
    _invariant(again)
    assert (_count(engine, Holding), _count(engine, RecordKey)) == before
    with Session(engine) as session:
        record = session.scalars(select(SourceRecord).where(SourceRecord.local_id == "00038496")).first()
    # The record is stored exactly as received, with its extracted fields.
    raw = VIETNAMESE.read_bytes()
    assert record.raw in raw and record.raw.startswith(raw[:24])
    assert record.fields["isbns"] == ["9781888375152"]
    assert record.job_id == first["job_id"] and record.last_job_id == again["job_id"]


def test_koha_items_become_holdings(engine: Engine) -> None:
    _library(engine, "TNU-LRC", holdings_profile="koha")
    summary = ingest_file(engine, "TNU-LRC", KOHA, mode="snapshot")
    assert (summary["read"], summary["added"], summary["warnings"]) == (436, 436, 1)
    assert _count(engine, Holding, Holding.barcode.is_not(None)) == 961  # every 952 item
    assert _count(engine, Holding) == 986  # and one holding for each of the 25 records without items
    with Session(engine) as session:
        held = session.execute(
            select(Holding.call_number, Holding.barcode, Holding.location)
            .join(SourceRecord, SourceRecord.id == Holding.source_record_id)
            .where(SourceRecord.title.like("E Street shuffle%"))
        ).first()
    assert held == ("ML420.S77 H28 2013", "3999900000001", "CPL")


def test_update_snapshot_and_delete_modes(engine: Engine, tmp_path: Path) -> None:
    _library(engine)
    part = _subset(VIETNAMESE, tmp_path / "part.mrc", lambda i: i < 400)
    ingest_file(engine, "VNU-LIC", VIETNAMESE)
    # update mode never deletes
    update = ingest_file(engine, "VNU-LIC", part, mode="update")
    assert (update["unchanged"], update["deleted"]) == (400, 0)
    # snapshot: the 129 records missing from the complete export become tombstones without holdings
    snap = ingest_file(engine, "VNU-LIC", part, mode="snapshot")
    assert (snap["unchanged"], snap["deleted"]) == (400, 129)
    _invariant(snap)
    assert _count(engine, SourceRecord, SourceRecord.status == "deleted") == 129
    assert _count(engine, SourceRecord, SourceRecord.status == "active") == 400
    assert _count(engine, Holding) == 400
    # a deleted record that comes back is added again
    back = ingest_file(engine, "VNU-LIC", VIETNAMESE, mode="update")
    assert (back["added"], back["unchanged"]) == (129, 400)
    assert _count(engine, Holding) == 529
    # delete mode: the file lists the records to delete
    gone = _subset(VIETNAMESE, tmp_path / "gone.mrc", lambda i: i < 10)
    deleted = ingest_file(engine, "VNU-LIC", gone, mode="delete")
    assert (deleted["read"], deleted["deleted"], deleted["unchanged"]) == (10, 10, 0)
    again = ingest_file(engine, "VNU-LIC", gone, mode="delete")
    assert (again["deleted"], again["unchanged"]) == (0, 10)


def test_changed_record_is_updated(engine: Engine, tmp_path: Path) -> None:
    _library(engine)
    ingest_file(engine, "VNU-LIC", VIETNAMESE)
    data = VIETNAMESE.read_bytes()
    changed = data.replace(b"The path of emancipation", b"The path of emancipatioN", 1)
    path = tmp_path / "changed.mrc"
    path.write_bytes(changed)
    summary = ingest_file(engine, "VNU-LIC", path)
    assert (summary["updated"], summary["unchanged"]) == (1, 528)
    with Session(engine) as session:
        titles = session.scalars(select(SourceRecord.title).where(SourceRecord.local_id == "00038496")).all()
    assert titles == ["The path of emancipatioN : talks from a 21-day mindfulness retreat"]


def test_rejections_are_reported_with_position_and_reason(engine: Engine) -> None:
    _library(engine)
    summary = ingest_file(engine, "VNU-LIC", fixture("bad_records.mrc"))
    assert (summary["read"], summary["rejected"], summary["added"]) == (9, 9, 0)
    with engine.connect() as conn:
        rejected = jobs.rejections(conn, summary["job_id"])
    assert [r["record_number"] for r in rejected] == list(range(1, 10))
    assert rejected[0]["reason"] == "no local record identifier (001)"
    assert rejected[1]["byte_offset"] == 127 and "base address" in rejected[1]["reason"]


def test_a_failing_job_leaves_the_catalogue_as_it_was(engine: Engine) -> None:
    _library(engine)
    ingest_file(engine, "VNU-LIC", fixture("marc.dat"))
    before = _count(engine, SourceRecord), _count(engine, Holding), _count(engine, RecordKey)
    calls = []

    def explode(_conn, _result) -> None:  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        ingest_file(engine, "VNU-LIC", VIETNAMESE, batch_size=100, after_batch=explode)
    assert (_count(engine, SourceRecord), _count(engine, Holding), _count(engine, RecordKey)) == before
    with Session(engine) as session:
        job = session.scalars(select(IngestJob).order_by(IngestJob.id.desc())).first()
    assert job.status == "failed" and "disk on fire" in job.error


def test_not_marc_and_empty_snapshot_fail_cleanly(engine: Engine, tmp_path: Path) -> None:
    _library(engine)
    ingest_file(engine, "VNU-LIC", VIETNAMESE)
    junk = tmp_path / "report.pdf"
    junk.write_bytes(b"%PDF-1.4 not a catalogue")
    with pytest.raises(IngestError, match="not a MARC file") as info:
        ingest_file(engine, "VNU-LIC", junk)
    assert info.value.job_id
    # a snapshot in which nothing is readable must not wipe the library
    with pytest.raises(IngestError, match="refusing to delete"):
        ingest_file(engine, "VNU-LIC", fixture("bad_records.mrc"), mode="snapshot")
    assert _count(engine, SourceRecord, SourceRecord.status == "active") == 529


def test_two_jobs_of_one_library_never_interleave(engine: Engine) -> None:
    _library(engine)
    started = threading.Event()
    results: dict[str, dict] = {}

    def slow(_conn, _result) -> None:  # type: ignore[no-untyped-def]
        started.set()
        time.sleep(0.2)

    def first() -> None:
        results["a"] = ingest_file(engine, "VNU-LIC", VIETNAMESE, batch_size=100, after_batch=slow)

    thread = threading.Thread(target=first)
    thread.start()
    assert started.wait(30)
    results["b"] = ingest_file(engine, "VNU-LIC", VIETNAMESE)
    thread.join(60)
    # b ran entirely after a committed: it found every record already there
    assert results["a"]["added"] == 529
    assert (results["b"]["added"], results["b"]["unchanged"]) == (0, 529)


def test_holdings_profiles_per_library(engine: Engine) -> None:
    _library(engine, "VNAM-LIB", holdings_profile="949")
    summary = ingest_file(engine, "VNAM-LIB", JAZZ_949)
    assert summary["rejected"] == 1  # one record has no 001
    assert _count(engine, Holding, Holding.barcode.is_not(None)) == 1237  # every 949 item with a barcode ($i)


def test_kill_9_leaves_the_catalogue_unchanged(sqlite_engine: Engine, tmp_path: Path) -> None:
    """A job killed with SIGKILL in the middle of writing changes nothing; the next job records it failed."""
    engine = sqlite_engine
    _library(engine)
    ingest_file(engine, "VNU-LIC", fixture("marc.dat"))
    before = _count(engine, SourceRecord), _count(engine, Holding)
    big = tmp_path / "big.mrc"
    with open(big, "wb") as fh:
        for n in range(40):
            data = VIETNAMESE.read_bytes()
            fh.write(data.replace(b"\x1e00", b"\x1e%02d" % n))  # new 001s each round: all added
    url = engine.url.render_as_string(hide_password=False)
    script = (
        "import sys; from pathlib import Path; from catalog.db import make_engine; "
        "from harvest.ingest import ingest_file; "
        f"ingest_file(make_engine({url!r}), 'VNU-LIC', Path({str(big)!r}), batch_size=200, workers=0)"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[2])
    deadline = time.time() + 60
    while time.time() < deadline:
        with engine.connect() as conn:
            status = conn.execute(text("SELECT status FROM ingest_job ORDER BY id DESC LIMIT 1")).scalar()
        if status == "running":
            break
        time.sleep(0.05)
    time.sleep(1.5)  # well inside the job: batches are being written
    assert proc.poll() is None, "the job finished before it could be killed: make the file bigger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert (_count(engine, SourceRecord), _count(engine, Holding)) == before
    ingest_file(engine, "VNU-LIC", fixture("marc.dat"))  # the next job notices the dead one
    with Session(engine) as session:
        killed = session.scalars(select(IngestJob).where(IngestJob.filename == "big.mrc")).one()
    assert killed.status == "failed" and killed.error.startswith("interrupted")
