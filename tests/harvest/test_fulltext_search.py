"""The text of digital objects extracted by the worker's "text" jobs, indexed, and searched: records
found by words inside their files, with snippets, ranked below title and author matches, only for
readers who may read the files; pages removed when an object is withdrawn, replaced when re-extracted."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from catalog.digital.access import ANONYMOUS, Reader
from catalog.digital.objects import PDF, Checked, add_file, check_file, withdraw
from catalog.digital.storage import LocalStorage
from catalog.models import DigitalObject, Library, SourceRecord
from catalog.search.embedded import EmbeddedSearchEngine
from catalog.search.query import SearchQuery
from catalog.settings import Settings
from harvest.queue import enqueue_text
from harvest.worker import Worker
from tests.conftest import shared_catalogue
from tests.fulltext_files import write_pdf

WORDS = "trồng rau mầm thủy canh"  # in no record of the catalogue
PAGE_1 = "Chương một. Mở đầu về nông nghiệp đô thị và nhà kính."
PAGE_2 = f"Chương hai. Kỹ thuật {WORDS} trên giá thể xơ dừa, <script>alert(1)</script> kết quả tốt."


MEILI_URL = os.environ.get("UNIONCAT_MEILI_URL")


@pytest.fixture(params=["embedded", "meilisearch"])
def library(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A catalogue of the Vietnamese LoC records, searched by each engine: the embedded one always,
    a live Meilisearch when UNIONCAT_MEILI_URL points at one (skipped, saying so, otherwise)."""
    if request.param == "meilisearch" and not MEILI_URL:
        pytest.skip(
            "no Meilisearch server: set UNIONCAT_MEILI_URL (and UNIONCAT_MEILI_KEY) to run this suite live"
        )
    engine = shared_catalogue(tmp_path, {"VNU-LIC": lambda i: True, "HUST-LIB": lambda i: i < 50})
    settings = Settings(data_dir=tmp_path / "data", harvest_check_minutes=0)
    search: Any = EmbeddedSearchEngine(engine)
    if request.param == "meilisearch":
        from catalog.search.meili import MeiliSearchEngine

        key = os.environ.get("UNIONCAT_MEILI_KEY")
        search = MeiliSearchEngine(MEILI_URL, key, index="unioncat_test_fulltext", catalogue=engine)
        search.rebuild(engine)
    yield {
        "engine": engine,
        "settings": settings,
        "storage": LocalStorage(settings.digital_dir),
        "worker": Worker(engine, settings, search if request.param == "meilisearch" else None),
        "search": search,
        "dir": tmp_path,
    }
    engine.dispose()


def _library_id(engine: Engine, code: str) -> int:
    with Session(engine) as session:
        found = session.exec(select(Library.id).where(Library.code == code)).one()
        return int(found)


def _record(engine: Engine, title_start: str) -> tuple[SourceRecord, int]:
    """A VNU-LIC record of the union record whose title starts with ``title_start``."""
    with engine.connect() as conn:
        source_id, union_id = conn.execute(
            text(
                "SELECT s.id, s.union_record_id FROM source_record s JOIN union_record u "
                "ON u.id = s.union_record_id JOIN library l ON l.id = s.library_id "
                "WHERE l.code = 'VNU-LIC' AND u.title LIKE :t ORDER BY s.id LIMIT 1"
            ),
            {"t": title_start + "%"},
        ).one()
    with Session(engine) as session:
        record = session.get(SourceRecord, source_id)
        assert record is not None
        session.expunge(record)
    return record, int(union_id)


def deposit(lib: dict[str, Any], record: SourceRecord, pdf: Path, **rule: Any) -> int:
    engine = lib["engine"]
    with Session(engine) as session:
        session.add(record)
        obj, _new = add_file(session, lib["storage"], record, check_file(pdf, 10**8), pdf.name, **rule)
        session.commit()
        assert obj.id is not None
        object_id = obj.id
        library = session.get(Library, record.library_id)
        assert library is not None
        enqueue_text(engine, library, object_id)
    assert lib["worker"].run(threading.Event(), max_jobs=1) == 1
    return object_id


def find(lib: dict[str, Any], q: str, reader: Reader = ANONYMOUS, **kwargs: Any):  # type: ignore[no-untyped-def]
    kwargs.setdefault("per_page", 50)
    return lib["search"].search(SearchQuery(q=q, reader=reader, **kwargs))


def _object(engine: Engine, object_id: int) -> DigitalObject:
    with Session(engine) as session:
        obj = session.get(DigitalObject, object_id)
        assert obj is not None
        return obj


def test_a_record_is_found_by_the_words_inside_its_file_with_snippets(library: dict[str, Any]) -> None:
    engine = library["engine"]
    assert find(library, WORDS).total == 0
    record, union_id = _record(engine, "Five loaves")
    pdf = write_pdf(library["dir"] / "luan-van.pdf", [PAGE_1, PAGE_2, "Kết luận."])
    object_id = deposit(library, record, pdf)
    obj = _object(engine, object_id)
    assert (obj.text_status, obj.page_count, obj.text_error) == ("extracted", 3, None)
    with engine.connect() as conn:
        stored = dict(
            conn.execute(
                text("SELECT page, text FROM digital_page WHERE object_id = :o"), {"o": object_id}
            ).all()
        )
    assert stored[2] == PAGE_2  # with its diacritics, as printed
    for typed in (WORDS, "trong rau mam thuy canh", "TRỒNG RAU MẦM THỦY CANH ", '"rau mầm thủy canh"'):
        result = find(library, typed)
        assert [h.id for h in result.hits] == [union_id], typed
        pages = result.hits[0].fulltext
        assert [(p["object"], p["page"]) for p in pages] == [(object_id, 2)], typed
        assert "<mark>thủy</mark> <mark>canh</mark>" in pages[0]["snippet"]
        assert "<script>" not in pages[0]["snippet"] and "&lt;script&gt;" in pages[0]["snippet"]
    assert find(library, WORDS, fulltext=False).total == 0
    assert [h.id for h in find(library, "thủy canh", has_fulltext=True).hits] == [union_id]
    assert union_id not in {h.id for h in find(library, "thủy canh", has_fulltext=False).hits}
    assert union_id in {h.id for h in find(library, "", has_fulltext=True, per_page=100).hits}
    assert union_id not in {h.id for h in find(library, "", has_fulltext=False, per_page=100).hits}
    assert union_id not in {h.id for h in find(library, WORDS, year_to=1000).hits}  # the filters apply
    assert [h.id for h in find(library, WORDS, libraries=["VNU-LIC"]).hits] == [union_id]
    # The index is rebuilt with the records' by a reindex.
    assert library["search"].rebuild(engine) > 0
    assert [h.id for h in find(library, WORDS).hits] == [union_id]


def test_title_and_author_matches_rank_above_full_text_only_matches(library: dict[str, Any]) -> None:
    engine = library["engine"]
    titled = find(library, "loaves")
    assert titled.total >= 1
    record, union_id = _record(engine, "The Vietnamese war")
    pdf = write_pdf(library["dir"] / "bread.pdf", ["The five loaves and two fish, told again. " * 3])
    deposit(library, record, pdf)
    result = find(library, "loaves")
    ids = [h.id for h in result.hits]
    assert ids == [h.id for h in titled.hits] + [union_id]
    assert result.total == titled.total + 1
    assert result.hits[-1].fulltext and "<mark>loaves</mark>" in result.hits[-1].fulltext[0]["snippet"]
    assert all(not h.fulltext for h in result.hits[:-1])  # their titles matched; they have no files
    by_year = find(library, "loaves", sort="year_desc")
    assert sorted(h.id for h in by_year.hits) == sorted(ids)


def test_text_the_reader_may_not_read_neither_finds_its_record_nor_shows(library: dict[str, Any]) -> None:
    engine = library["engine"]
    vnu, hust = _library_id(engine, "VNU-LIC"), _library_id(engine, "HUST-LIB")
    record, union_id = _record(engine, "Five loaves")
    pdf = write_pdf(library["dir"] / "members.pdf", [PAGE_2])
    object_id = deposit(library, record, pdf, access="members")
    assert find(library, WORDS).total == 0  # anonymous: not even the record
    for reader in (Reader(library_id=hust), Reader(library_id=vnu), Reader(admin=True)):
        result = find(library, WORDS, reader)
        assert [h.id for h in result.hits] == [union_id]
        assert result.hits[0].fulltext[0]["object"] == object_id
    # A record found by its title shows no snippet of a file the reader may not read.
    assert all(not h.fulltext for h in find(library, "loaves thủy canh").hits)
    later = datetime.now(UTC) + timedelta(days=365)
    with Session(engine) as session:
        obj = session.get(DigitalObject, object_id)
        assert obj is not None
        obj.access, obj.embargo_until = "embargo", later
        session.add(obj)
        session.commit()
    assert find(library, WORDS, Reader(library_id=hust)).total == 0  # embargoed: its own library only
    assert [h.id for h in find(library, WORDS, Reader(library_id=vnu)).hits] == [union_id]


def test_withdrawn_objects_lose_their_pages_and_replaced_ones_are_read_again(library: dict[str, Any]) -> None:
    engine = library["engine"]
    record, union_id = _record(engine, "Five loaves")
    first = deposit(library, record, write_pdf(library["dir"] / "v1.pdf", [PAGE_2]))
    assert find(library, WORDS).total == 1
    with Session(engine) as session:
        obj = session.get(DigitalObject, first)
        assert obj is not None
        withdraw(session, obj)
        session.commit()
        library_row = session.get(Library, obj.library_id)
        assert library_row is not None
    assert find(library, WORDS).total == 0  # withdrawn: nobody but its library reads it, at once
    enqueue_text(engine, library_row, first)
    assert library["worker"].run(threading.Event(), max_jobs=1) == 1
    with engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM digital_page WHERE object_id = :o"), {"o": first}
            ).scalar()
            == 0
        )
    assert find(library, WORDS, Reader(admin=True)).total == 0  # unindexed, not just hidden
    # A new version of the file: its text replaces the old one's.
    second = deposit(
        library, record, write_pdf(library["dir"] / "v2.pdf", ["Phiên bản mới: rau mầm khí canh."])
    )
    assert second != first
    assert [h.id for h in find(library, "rau mầm khí canh").hits] == [union_id]
    assert find(library, WORDS).total == 0


def test_a_bad_file_fails_its_own_job_and_the_worker_goes_on(library: dict[str, Any]) -> None:
    engine = library["engine"]
    record, union_id = _record(engine, "Five loaves")
    locked = write_pdf(library["dir"] / "locked.pdf", [PAGE_2], password="mật khẩu")
    with Session(engine) as session:
        session.add(record)
        # stored as it came (a deposit now refuses such a file; one stored before, or by hand, is not)
        unchecked = Checked(
            locked, hashlib.sha256(locked.read_bytes()).hexdigest(), locked.stat().st_size, PDF
        )
        bad, _n = add_file(session, library["storage"], record, unchecked, "locked.pdf")
        good, _n = add_file(
            session,
            library["storage"],
            record,
            check_file(write_pdf(library["dir"] / "ok.pdf", [PAGE_2]), 10**8),
            "ok.pdf",
        )
        session.commit()
        lib = session.get(Library, record.library_id)
        assert lib is not None and bad.id is not None and good.id is not None
        bad_id, good_id = bad.id, good.id
        bad_job = enqueue_text(engine, lib, bad_id)
        good_job = enqueue_text(engine, lib, good_id)
    assert library["worker"].run(threading.Event(), max_jobs=2) == 2
    failed = _object(engine, bad_id)
    assert failed.text_status == "failed" and "encrypted" in (failed.text_error or "")
    assert _object(engine, good_id).text_status == "extracted"
    with engine.connect() as conn:
        states = dict(
            conn.execute(
                text("SELECT id, status FROM ingest_job WHERE id IN (:a, :b)"), {"a": bad_job, "b": good_job}
            ).all()
        )
        error = conn.execute(text("SELECT error FROM ingest_job WHERE id = :a"), {"a": bad_job}).scalar()
    assert states == {bad_job: "failed", good_job: "succeeded"}
    assert "encrypted with a password" in error
    assert [h.id for h in find(library, WORDS).hits] == [union_id]
