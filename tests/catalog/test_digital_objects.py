"""The digital library's core: files checked by content, stored once per content under safe keys,
recorded for their own library's records, and read under the access rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from catalog.digital.access import ANONYMOUS, Reader, effective_access, may_read
from catalog.digital.objects import (
    PDF,
    DigitalError,
    add_file,
    check_file,
    clean_filename,
    find_record,
    withdraw,
)
from catalog.digital.storage import LocalStorage, StorageError, content_key
from catalog.models import DigitalObject, Library, SourceRecord

# A complete one-page PDF (objects, cross-reference table and trailer), written out by hand.
_OBJECTS = [
    b"<< /Type /Catalog /Pages 2 0 R >>",
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R "
    b"/Resources << /Font << /F1 5 0 R >> >> >>",
    b"<< /Length 44 >>\nstream\nBT /F1 12 Tf 20 100 Td (Luan van) Tj ET\nendstream",
    b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
]


def one_page_pdf() -> bytes:
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(_OBJECTS, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(_OBJECTS) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(_OBJECTS) + 1, xref)
    return bytes(out)


@pytest.fixture
def pdf(tmp_path: Path) -> Path:
    path = tmp_path / "thesis.pdf"
    path.write_bytes(one_page_pdf())
    return path


@pytest.fixture
def two_libraries(engine) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        a = Library(code="LIB-A", name_vi="Thư viện A")
        b = Library(code="LIB-B", name_vi="Thư viện B")
        session.add_all([a, b])
        session.flush()
        assert a.id is not None and b.id is not None
        record = SourceRecord(
            library_id=a.id, local_id="r1", raw_format="marcxml", raw=b"<record/>", checksum="x"
        )
        session.add(record)
        session.commit()
        assert record.id is not None
        return a.id, b.id, record.id


def test_files_are_judged_by_their_content_not_their_name_or_declared_type(tmp_path: Path, pdf: Path) -> None:
    assert check_file(pdf, 10_000).content_type == PDF
    html = tmp_path / "evil.pdf"
    html.write_bytes(b"<html><script>alert(1)</script></html>")
    with pytest.raises(DigitalError, match="judged by its content"):
        check_file(html, 10_000)
    with pytest.raises(DigitalError, match="as declared"):
        check_file(pdf, 10_000, "image/png")
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    with pytest.raises(DigitalError, match="empty"):
        check_file(empty, 10_000)
    with pytest.raises(DigitalError, match="limit"):
        check_file(pdf, 10)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\Luận văn.pdf", "Luận văn.pdf"),
        ("a\x00b\nc.pdf", "a_b_c.pdf"),
        ("..", "file.pdf"),
        (None, "file.pdf"),
        ("x" * 300 + ".pdf", "x" * 187 + ".pdf"),
    ],
)
def test_file_names_lose_every_path_and_control_character(given: str | None, expected: str) -> None:
    assert clean_filename(given, PDF) == expected


def test_storage_keys_are_content_addresses_and_cannot_leave_the_root(tmp_path: Path, pdf: Path) -> None:
    storage = LocalStorage(tmp_path / "store")
    checked = check_file(pdf, 10_000)
    key = content_key(checked.sha256)
    storage.put(key, pdf)
    storage.put(key, pdf)  # a second put of the same content changes nothing
    assert storage.size(key) == checked.size
    data = one_page_pdf()
    assert b"".join(storage.read(key)) == data
    assert b"".join(storage.read(key, 5, 17)) == data[5:17]
    assert not list((tmp_path / "store").rglob("*.part"))
    for bad in ("../x", "sha256/../../x", "", "a//b"):
        with pytest.raises(StorageError):
            storage.exists(bad)
    with pytest.raises(StorageError):
        content_key("../../etc/passwd")
    with pytest.raises(StorageError):
        list(storage.read(content_key("0" * 64)))


def test_a_file_belongs_to_one_of_its_own_librarys_records_and_is_stored_once(
    engine, two_libraries, tmp_path: Path, pdf: Path
) -> None:  # type: ignore[no-untyped-def]
    lib_a, lib_b, record_id = two_libraries
    storage = LocalStorage(tmp_path / "store")
    checked = check_file(pdf, 10_000)
    with Session(engine) as session:
        with pytest.raises(DigitalError, match="no record"):
            find_record(session, lib_b, "r1")  # another library's record
        record = find_record(session, lib_a, "r1")
        first, new = add_file(session, storage, record, checked, "../Luận văn.pdf", access="members")
        again, new_again = add_file(session, storage, record, checked, "copy.pdf", access="open")
        session.commit()
        assert new and not new_again and first.id == again.id
        assert first.filename == "Luận văn.pdf" and first.access == "open"
        with pytest.raises(DigitalError, match="needs the date"):
            add_file(session, storage, record, checked, "x.pdf", access="embargo")
        with pytest.raises(DigitalError, match="unknown access"):
            add_file(session, storage, record, checked, "x.pdf", access="secret")
        withdraw(session, first)
        session.commit()
        rows = session.exec(select(DigitalObject)).all()
        assert [(r.library_id, r.source_record_id, r.status) for r in rows] == [
            (lib_a, record_id, "withdrawn")
        ]
    assert len(list((tmp_path / "store").rglob("*"))) == 3  # sha256/ab/<file>


def test_access_rules() -> None:
    now = datetime(2026, 12, 7, tzinfo=UTC)

    class Obj:
        def __init__(self, access: str, until: datetime | None = None, status: str = "active") -> None:
            self.library_id, self.access, self.embargo_until, self.status = 1, access, until, status

    member, owner, admin = Reader(library_id=2), Reader(library_id=1), Reader(admin=True)
    assert may_read(Obj("open"), ANONYMOUS, now)
    assert not may_read(Obj("members"), ANONYMOUS, now) and may_read(Obj("members"), member, now)
    future, past = now + timedelta(days=1), now - timedelta(days=1)
    assert not may_read(Obj("embargo", future), member, now)
    assert may_read(Obj("embargo", future), owner, now) and may_read(Obj("embargo", future), admin, now)
    assert may_read(Obj("embargo", past), ANONYMOUS, now)
    assert effective_access("embargo", past.replace(tzinfo=None), now) == "open"
    assert not may_read(Obj("open", status="withdrawn"), member, now)
    assert may_read(Obj("open", status="withdrawn"), owner, now)
