"""Harvesting a member's digital repository: a DSpace-like OAI-PMH peer (tests/dspace_peer.py)
giving items as oai_dc or qdc with their files listed in ORE or METS, and a web server giving
the files, real PDFs and faulty ones; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pymarc import MARCReader
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalog.db import as_utc, session_scope
from catalog.digital.storage import LocalStorage
from catalog.libraries import add_library, get_library
from catalog.models import (
    DigitalObject,
    IngestJob,
    JobRejection,
    RecordKey,
    RepositoryFile,
    SourceRecord,
    UnionRecord,
)
from harvest.file_fetch import FileFetcher
from harvest.ingest import ingest_file
from harvest.oai_client import HarvestError, OaiClient
from harvest.repository import harvest_repository
from tests.conftest import VIETNAMESE
from tests.dspace_peer import DspacePeer, PeerFile
from tests.pdf_files import make_pdf

LIMIT = 64 * 1024
CODE = "DSPACE"


@pytest.fixture
def peer() -> Iterator[DspacePeer]:
    with DspacePeer(batch_size=3, slow_seconds=2.5) as p:
        yield p


def _loc_records() -> list[Any]:
    with VIETNAMESE.open("rb") as fh:
        return list(MARCReader(fh, to_unicode=True, force_utf8=True))


def _clean(value: str) -> str:
    return value.strip().rstrip(" /:;,.").strip()


def _thesis(title: str, pages: int = 2) -> bytes:
    return make_pdf([f"{title} - page {n}" for n in range(1, pages + 1)])


def _items(peer: DspacePeer, with_matches: bool = True) -> None:
    """The repository: a digital-only thesis with its thumbnail, extracted text and licence; an
    embargoed thesis; an item whose files all fail one way or another; an item that is not Dublin
    Core; and (``with_matches``) a book with a LoC record's ISBN and one with another LoC record's
    title, author and year."""
    peer.add(
        "123456789/1",
        {
            "title": ["Nghiên cứu phát triển thư viện số tại các trường đại học Việt Nam"],
            "contributor.author": ["Trần, Thị Bình"],
            "contributor.advisor": ["Lê, Văn Cường"],
            "date.accessioned": ["2021-03-04T05:06:07Z"],
            "date.available": ["2021-03-04T05:06:07Z"],
            "date.issued": ["2020"],
            "identifier.uri": ["http://hdl.handle.net/123456789/1"],
            "identifier.doi": ["https://doi.org/10.15625/vnu.2020.0001"],
            "language.iso": ["vi"],
            "subject": ["Thư viện số", "Giáo dục đại học"],
            "description.abstract": ["Luận văn khảo sát các thư viện số của mười trường đại học."],
            "type": ["Thesis"],
            "publisher": ["Đại học Quốc gia Hà Nội"],
            "rights": ["info:eu-repo/semantics/openAccess"],
        },
        [
            PeerFile("luan-van.pdf", _thesis("Thu vien so", 3), etag='"lv-1"'),
            PeerFile("luan-van.pdf.jpg", b"\xff\xd8\xff\xe0 thumbnail", "image/jpeg", "THUMBNAIL"),
            PeerFile("luan-van.pdf.txt", b"Thu vien so page 1", "text/plain", "TEXT"),
            PeerFile("license.txt", b"Deposit licence", "text/plain", "LICENSE"),
        ],
    )
    peer.add(
        "123456789/4",
        {
            "title": ["Quản lý tài nguyên học liệu mở"],
            "contributor.author": ["Phạm, Minh Đức"],
            "date.issued": ["2024-06"],
            "date.available": ["info:eu-repo/date/embargoEnd/2099-01-01"],
            "identifier.uri": ["http://hdl.handle.net/123456789/4"],
            "language.iso": ["vi"],
            "type": ["Thesis"],
            "rights": ["info:eu-repo/semantics/embargoedAccess"],
        },
        [PeerFile("hoc-lieu-mo.pdf", _thesis("Hoc lieu mo"))],
    )
    peer.add(
        "123456789/5",
        {
            "title": ["Báo cáo tổng kết đề tài khoa học cấp trường"],
            "contributor.author": ["Vũ, Thị Hoa"],
            "date.issued": ["2019"],
            "identifier.uri": ["http://hdl.handle.net/123456789/5"],
        },
        [
            PeerFile("missing.pdf", _thesis("Missing"), behaviour="missing"),
            PeerFile("slow.pdf", _thesis("Slow"), behaviour="slow"),
            PeerFile("endless.pdf", _thesis("Endless"), behaviour="endless"),
            PeerFile("huge.pdf", _thesis("Huge") + b"%" * (LIMIT + 10)),
            PeerFile("fake.pdf", b"<html><body>Please sign in to read this thesis</body></html>"),
            PeerFile("elsewhere.pdf", _thesis("Elsewhere"), behaviour="to-ftp"),
        ],
    )
    peer.add("123456789/6", {})  # no Dublin Core at all
    if not with_matches:
        return
    records = _loc_records()
    isbn_book, title_book = records[1], records[24]
    peer.add(
        "123456789/2",
        {
            "title": ["Five loaves and two fish"],
            "contributor.author": [_clean(isbn_book["100"]["a"])],
            "date.issued": ["2000"],
            "identifier.isbn": [isbn_book["020"]["a"].split()[0]],
            "identifier.uri": ["http://hdl.handle.net/123456789/2"],
            "language.iso": ["en"],
        },
        [PeerFile("five-loaves.pdf", _thesis("Five loaves"), behaviour="busy-once")],
    )
    place_publisher_date = title_book.get("264") or title_book["260"]
    peer.add(
        "123456789/3",
        {
            "title": [_clean(title_book["245"]["a"])],
            "contributor.author": [_clean(title_book["100"]["a"])],
            "date.issued": ["1999"],
            "publisher": [_clean(place_publisher_date["b"])],
            "identifier.uri": ["http://hdl.handle.net/123456789/3"],
        },
    )


def _library(engine: Engine, peer: DspacePeer, fmt: str = "oai_dc", files: str = "ore") -> None:
    with session_scope(engine) as session:
        add_library(
            session,
            CODE,
            "Thư viện số Đại học",
            repository_url=peer.url,
            repository_format=fmt,
            repository_files=files,
        )


def _harvest(engine: Engine, peer: DspacePeer, tmp_path: Path, **options: Any) -> dict[str, Any]:
    client = OaiClient(peer.url, retries=2, backoff=0.01, timeout=10, sleep=lambda _s: None)
    fetcher = FileFetcher(LIMIT, timeout=1.0, deadline=5.0, retries=1, backoff=0.01, sleep=lambda _s: None)
    return harvest_repository(
        engine,
        CODE,
        LocalStorage(tmp_path / "digital"),
        max_bytes=LIMIT,
        client=client,
        fetcher=fetcher,
        work_dir=tmp_path,
        **options,
    )


def _record(session: Session, handle: str) -> SourceRecord:
    library = get_library(session, CODE)
    record = session.scalars(
        select(SourceRecord).where(
            SourceRecord.library_id == library.id,
            SourceRecord.local_id == f"oai:repo.example.edu.vn:{handle}",
        )
    ).first()
    assert record is not None, handle
    return record


def _objects(session: Session, handle: str) -> list[DigitalObject]:
    record = _record(session, handle)
    rows = session.scalars(select(DigitalObject).where(DigitalObject.source_record_id == record.id))
    return list(rows)


def _reasons(session: Session, job_id: int) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for row in session.scalars(select(JobRejection).where(JobRejection.job_id == job_id)):
        found.setdefault(row.local_id or "", []).append(row.reason)
    return found


def test_first_harvest_records_files_and_matches(engine: Engine, peer: DspacePeer, tmp_path: Path) -> None:
    with session_scope(engine) as session:
        add_library(session, "LOC", "Library of Congress (Vietnamese books)")
    ingest_file(engine, "LOC", VIETNAMESE)
    _items(peer)
    _library(engine, peer)
    summary = _harvest(engine, peer, tmp_path)

    assert summary["status"] == "succeeded", summary
    assert (summary["read"], summary["added"], summary["rejected"]) == (6, 5, 1)
    assert summary["pages"] == 2  # pages of three items, through the repository's token
    assert (summary["files_fetched"], summary["files_failed"]) == (3, 6)
    with Session(engine) as session:
        # the digital-only thesis: its record, its own union record, its one content file
        thesis = _record(session, "123456789/1")
        fields = thesis.fields
        assert thesis.title == "Nghiên cứu phát triển thư viện số tại các trường đại học Việt Nam"
        assert thesis.year == 2020
        assert fields["authors"][0]["name"] == "Trần, Thị Bình"
        assert fields["summary"].startswith("Luận văn khảo sát")
        assert "Thư viện số" in fields["subjects"] and fields["languages"] == ["vie"]
        assert {link["url"] for link in fields["links"]} == {"http://hdl.handle.net/123456789/1"}
        union = session.get(UnionRecord, thesis.union_record_id)
        assert union is not None and union.member_count == 1
        (pdf,) = _objects(session, "123456789/1")  # thumbnail, text and licence are not content
        assert (pdf.filename, pdf.content_type, pdf.origin, pdf.access) == (
            "luan-van.pdf",
            "application/pdf",
            "harvest",
            "open",
        )
        assert pdf.origin_url == peer.file_url("123456789/1", 1)
        assert (tmp_path / "digital" / pdf.storage_key).read_bytes() == _thesis("Thu vien so", 3)
        # the embargo the repository gives
        (embargoed,) = _objects(session, "123456789/4")
        assert embargoed.access == "embargo"
        assert as_utc(embargoed.embargo_until) == datetime(2099, 1, 1, tzinfo=UTC)
        # matched: by ISBN (its file fetched after the server was busy once), by title, author, year
        loc = get_library(session, "LOC")
        by_isbn = _record(session, "123456789/2")
        isbn = session.scalars(
            select(RecordKey.value).where(RecordKey.source_record_id == by_isbn.id, RecordKey.kind == "isbn")
        ).one()
        twin = session.scalars(
            select(SourceRecord)
            .join(RecordKey, RecordKey.source_record_id == SourceRecord.id)
            .where(SourceRecord.library_id == loc.id, RecordKey.kind == "isbn", RecordKey.value == isbn)
        ).one()
        assert by_isbn.union_record_id == twin.union_record_id
        assert len(_objects(session, "123456789/2")) == 1
        by_title = _record(session, "123456789/3")
        title_twin = session.scalars(
            select(SourceRecord).where(
                SourceRecord.library_id == loc.id, SourceRecord.union_record_id == by_title.union_record_id
            )
        ).all()
        assert len(title_twin) == 1 and title_twin[0].year == 1999
        # the item whose files all failed: its record landed, each file reported with its reason
        failing = _record(session, "123456789/5")
        assert failing.status == "active" and _objects(session, "123456789/5") == []
        reasons = _reasons(session, summary["job_id"])
        files = sorted(reasons["oai:repo.example.edu.vn:123456789/5"])
        assert len(files) == 6
        joined = "\n".join(files)
        assert "HTTP 404" in joined
        assert "ReadTimeout" in joined  # the slow one, after its retry
        assert joined.count(f"limit of {LIMIT} bytes") + joined.count(f"the limit is {LIMIT}") == 2
        assert "not a PDF, EPUB, PNG, JPEG or TIFF file" in joined  # the HTML page calling itself a PDF
        assert "not http(s)" in joined
        assert reasons["oai:repo.example.edu.vn:123456789/6"] == [
            "the record's metadata is not Dublin Core (no title, no identifier)"
        ]
        states = session.scalars(
            select(RepositoryFile.status).where(RepositoryFile.status != "fetched")
        ).all()
        assert sorted(states) == ["failed"] * 2 + ["refused"] * 4  # the missing and the slow one: again
        # each new file's text extraction is queued
        texts = session.scalars(select(IngestJob).where(IngestJob.source == "text")).all()
        objects = session.scalars(select(DigitalObject.id)).all()
        assert sorted(job.options["object_id"] for job in texts) == sorted(objects)
    assert not list(tmp_path.glob("unioncat-harvest-*"))  # no temporary file left behind


def test_incremental_harvest_changes_deletions_and_retries(
    engine: Engine, peer: DspacePeer, tmp_path: Path
) -> None:
    _items(peer, with_matches=False)
    _library(engine, peer)
    first = _harvest(engine, peer, tmp_path)
    assert (first["added"], first["files_fetched"]) == (3, 2)
    assert peer.file_requests("123456789/1", 1) == 1

    peer.change("123456789/1", title=["Phát triển thư viện số tại các trường đại học Việt Nam"])
    peer.delete("123456789/4")
    peer.repository.items["123456789/5"].files[0].behaviour = "ok"  # the missing file is back
    second = _harvest(engine, peer, tmp_path)

    assert second["status"] == "succeeded" and second["window_from"]
    assert (second["read"], second["updated"], second["deleted"]) == (2, 1, 1)
    assert second["files_unchanged"] == 1  # the changed item's file: same address and size
    assert peer.file_requests("123456789/1", 1) == 1  # not fetched again
    assert second["files_retried"] == 2 and second["files_fetched"] == 1  # the file that is back
    with Session(engine) as session:
        assert _record(session, "123456789/1").title.startswith("Phát triển thư viện số")
        (still,) = _objects(session, "123456789/1")
        assert still.status == "active"
        deleted = _record(session, "123456789/4")
        assert deleted.status == "deleted"
        (withdrawn,) = _objects(session, "123456789/4")
        assert withdrawn.status == "withdrawn"
        (back,) = _objects(session, "123456789/5")
        assert back.filename == "missing.pdf" and back.status == "active"
        failed = session.scalars(select(RepositoryFile.url).where(RepositoryFile.status == "failed")).all()
        assert failed == [peer.file_url("123456789/5", 2)]  # the slow one

    # a file replaced in the repository: the old object withdrawn, the new one recorded; a file
    # that failed ten harvests in a row is given up
    peer.replace_files("123456789/1", [PeerFile("luan-van-v2.pdf", _thesis("Thu vien so v2", 4))])
    with session_scope(engine) as session:
        slow = session.scalars(select(RepositoryFile).where(RepositoryFile.status == "failed")).one()
        slow.attempts = 9
    third = _harvest(engine, peer, tmp_path)
    assert (third["files_fetched"], third["files_withdrawn"], third["files_retried"]) == (1, 1, 1)
    with Session(engine) as session:
        states = {o.filename: o.status for o in _objects(session, "123456789/1")}
        assert states == {"luan-van.pdf": "withdrawn", "luan-van-v2.pdf": "active"}
        slow = session.scalars(select(RepositoryFile).where(RepositoryFile.url == failed[0])).one()
        assert slow.status == "refused" and slow.reason.endswith("(given up after 10 harvests)")
    assert _harvest(engine, peer, tmp_path)["files_retried"] == 0


@pytest.mark.parametrize(("fmt", "files"), [("qdc", "mets"), ("oai_dc", "mets"), ("qdc", "ore")])
def test_qualified_dc_and_mets(
    fmt: str, files: str, sqlite_engine: Engine, peer: DspacePeer, tmp_path: Path
) -> None:
    _items(peer, with_matches=False)
    _library(sqlite_engine, peer, fmt, files)
    summary = _harvest(sqlite_engine, peer, tmp_path)
    assert summary["status"] == "succeeded"
    assert (summary["added"], summary["files_fetched"], summary["files_failed"]) == (3, 2, 6)
    assert {r.get("metadataPrefix") for r in peer.requests if r.get("verb") == "GetRecord"} == {files}
    with Session(sqlite_engine) as session:
        thesis = _record(session, "123456789/1")
        assert thesis.year == 2020 and thesis.fields["summary"].startswith("Luận văn")
        assert [o.filename for o in _objects(session, "123456789/1")] == ["luan-van.pdf"]
        (embargoed,) = _objects(session, "123456789/4")
        assert embargoed.access == "embargo"


def test_descriptions_only_and_the_default_rule(
    sqlite_engine: Engine, peer: DspacePeer, tmp_path: Path
) -> None:
    peer.add(
        "123456789/9",
        {"title": ["Bài giảng Cơ sở dữ liệu"], "identifier.uri": ["http://hdl.handle.net/123456789/9"]},
        [PeerFile("bai-giang.pdf", _thesis("Bai giang"))],
    )
    _library(sqlite_engine, peer, files="none")
    summary = _harvest(sqlite_engine, peer, tmp_path)
    assert (summary["added"], summary["files_fetched"]) == (1, 0)
    assert not [r for r in peer.requests if r.get("verb") == "GetRecord"]
    with session_scope(sqlite_engine) as session:
        library = get_library(session, CODE)
        library.repository_files, library.repository_access = "ore", "members"
    summary = _harvest(sqlite_engine, peer, tmp_path, full=True)
    assert summary["files_fetched"] == 1
    with Session(sqlite_engine) as session:
        (lecture,) = _objects(session, "123456789/9")
        assert lecture.access == "members"  # the item says nothing: the library's rule


def test_a_library_without_a_repository_is_refused(sqlite_engine: Engine, tmp_path: Path) -> None:
    with session_scope(sqlite_engine) as session:
        add_library(session, CODE, "Thư viện")
    with pytest.raises(HarvestError, match="--repository-url"):
        harvest_repository(sqlite_engine, CODE, LocalStorage(tmp_path), max_bytes=LIMIT)
    with Session(sqlite_engine) as session:
        assert session.scalar(select(func.count()).select_from(IngestJob)) == 0
