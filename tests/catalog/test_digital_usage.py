"""Usage counts: COUNTER's double-click rule, unique uses per day, batched writes that add up on
both engines, and the item report by month and member."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from catalog.digital.objects import add_file, change, check_file, find_record, replace_file
from catalog.digital.storage import LocalStorage
from catalog.digital.usage import DOWNLOAD, VIEW, UsageCounter, report
from catalog.models import DigitalObject, DigitalPage, DigitalUsage, Library, SourceRecord
from tests.digital_files import text_pdf


def _object(engine, tmp_path: Path) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        library = Library(code="LIB-A", name_vi="Thư viện A")
        session.add(library)
        session.flush()
        assert library.id is not None
        session.add(
            SourceRecord(library_id=library.id, local_id="r1", raw_format="marcxml", raw=b"<record/>",
                         checksum="x", title="Luận văn về thư viện số")
        )  # fmt: skip
        session.flush()
        record = find_record(session, library.id, "r1")
        checked = check_file(text_pdf(tmp_path / "a.pdf", pages=2), 10_000_000)
        obj, _new = add_file(session, LocalStorage(tmp_path / "store"), record, checked, "a.pdf")
        session.commit()
        assert obj.id is not None
        return obj.id


def test_counts_follow_the_double_click_rule_and_add_up_across_writes(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    object_id = _object(engine, tmp_path)
    counter = UsageCounter(engine, flush_seconds=3600)
    start = datetime(2026, 3, 31, 23, 59, 0, tzinfo=UTC)
    assert counter.count(object_id, DOWNLOAD, "", "1.2.3.4|a", start)
    assert not counter.count(object_id, DOWNLOAD, "", "1.2.3.4|a", start + timedelta(seconds=29))
    assert counter.count(object_id, DOWNLOAD, "", "1.2.3.4|a", start + timedelta(seconds=61))  # next month
    assert counter.count(object_id, VIEW, "LIB-B", "5.6.7.8|b", start)
    assert counter.flush() > 0
    assert counter.count(object_id, DOWNLOAD, "", "9.9.9.9|c", start + timedelta(seconds=10))
    counter.count(424242, VIEW, "", "x", start)  # an object deleted meanwhile is skipped, not an error
    counter.flush()
    assert counter.flush() == 0
    with Session(engine) as session:
        rows = {(u.month, u.kind, u.requester): u.count for u in session.exec(select(DigitalUsage)).all()}
        assert rows == {
            ("2026-03", "download", ""): 2,
            ("2026-03", "unique_download", ""): 2,
            ("2026-04", "download", ""): 1,
            ("2026-04", "unique_download", ""): 1,
            ("2026-03", "view", "LIB-B"): 1,
            ("2026-03", "unique", "LIB-B"): 1,
        }
        lines = [
            (r.month, r.member, r.metric_type, r.count, r.item, r.publisher) for r in report(session, None)
        ]
        assert ("2026-03", "", "Total_Item_Requests", 2, "Luận văn về thư viện số", "LIB-A") in lines
        assert (
            "2026-03",
            "LIB-B",
            "Total_Item_Investigations",
            1,
            "Luận văn về thư viện số",
            "LIB-A",
        ) in lines
        assert ("2026-03", "", "Unique_Item_Requests", 2, "Luận văn về thư viện số", "LIB-A") in lines
        assert [r.month for r in report(session, None, "2026-04", "2026-04")] == ["2026-04"] * 3
        assert list(report(session, 999)) == []


def test_a_replaced_file_keeps_its_object_and_loses_its_old_text(engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    object_id = _object(engine, tmp_path)
    storage = LocalStorage(tmp_path / "store")
    with Session(engine) as session:
        session.add(DigitalPage(object_id=object_id, page=1, text="văn bản cũ"))
        session.commit()
        obj = session.get(DigitalObject, object_id)
        assert obj is not None
        old_key = obj.storage_key
        newer = check_file(text_pdf(tmp_path / "b.pdf", pages=4), 10_000_000)
        assert replace_file(session, storage, obj, newer, "b.pdf") == old_key  # nobody else uses it
        change(session, obj, label="  Bản sửa  ")
        session.commit()
        again = session.get(DigitalObject, object_id)
        assert again is not None
        assert (again.page_count, again.filename, again.label, again.text_status) == (
            4,
            "b.pdf",
            "Bản sửa",
            "pending",
        )
        assert session.exec(select(DigitalPage)).all() == []
        assert storage.exists(again.storage_key)
