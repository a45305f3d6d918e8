"""The text job on each catalogue (SQLite, and PostgreSQL when a server is given): pages stored and
replaced in one transaction, an image's status ``none``, a withdrawn object's pages removed."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalog.digital.objects import add_file, check_file, withdraw
from catalog.digital.storage import LocalStorage
from catalog.models import DigitalObject, Library, SourceRecord
from harvest.fulltext import run_text_job
from harvest.queue import enqueue_text
from harvest.runner import job_search
from tests.fulltext_files import write_pdf

PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002"
    "0001e221bc330000000049454e44ae426082"
)


def _job(engine: Engine, storage: LocalStorage, object_id: int) -> dict:
    with Session(engine) as session:
        obj = session.get(DigitalObject, object_id)
        assert obj is not None
        library = session.get(Library, obj.library_id)
        assert library is not None
        job_id = enqueue_text(engine, library, object_id)
    return run_text_job(engine, job_id, object_id, storage, job_search(engine, None))


def _pages(engine: Engine, object_id: int) -> dict[int, str]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT page, text FROM digital_page WHERE object_id = :o"), {"o": object_id}
        )
        return {int(p): t for p, t in rows}


def test_the_text_job_stores_replaces_and_removes_pages(engine: Engine, tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "store")
    with Session(engine) as session:
        library = Library(code="LIB-A", name_vi="Thư viện A")
        session.add(library)
        session.flush()
        assert library.id is not None
        record = SourceRecord(
            library_id=library.id, local_id="r1", raw_format="marcxml", raw=b"<r/>", checksum="x"
        )
        session.add(record)
        session.flush()
        pdf = write_pdf(tmp_path / "a.pdf", ["Trang một: mở đầu.", "Trang hai: thủy canh."])
        obj, _new = add_file(session, storage, record, check_file(pdf, 10**8), "a.pdf")
        png = tmp_path / "scan.png"
        png.write_bytes(PNG_1X1)
        image, _new = add_file(session, storage, record, check_file(png, 10**8), "scan.png")
        session.commit()
        assert obj.id is not None and image.id is not None
        object_id, image_id = obj.id, image.id
    assert _job(engine, storage, object_id) == {"status": "extracted", "pages": 2}
    assert _pages(engine, object_id) == {1: "Trang một: mở đầu.", 2: "Trang hai: thủy canh."}
    assert _job(engine, storage, object_id) == {"status": "extracted", "pages": 2}  # again: replaced
    assert len(_pages(engine, object_id)) == 2
    assert _job(engine, storage, image_id) == {"status": "none", "pages": 0}
    with Session(engine) as session:
        found = session.get(DigitalObject, image_id)
        assert found is not None and found.text_status == "none" and found.text_error is None
        obj = session.get(DigitalObject, object_id)
        assert obj is not None
        withdraw(session, obj)
        session.commit()
    assert _job(engine, storage, object_id) == {"status": "removed", "pages": 0}
    assert _pages(engine, object_id) == {}
    with engine.connect() as conn:
        states = [r[0] for r in conn.execute(text("SELECT status FROM ingest_job WHERE source = 'text'"))]
    assert states == ["succeeded"] * 4
