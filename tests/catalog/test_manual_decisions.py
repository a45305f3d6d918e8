"""Librarians' manual match decisions win over the rules, survive re-ingest and rebuild, and give the
same union records whatever the order of ingest, rebuild and decisions."""

from __future__ import annotations

from pathlib import Path

import pytest
from pymarc import MARCReader
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalog import corrections, db
from catalog.db import session_scope, writing
from catalog.dedup.clusters import rebuild
from catalog.dedup.report import explain
from catalog.libraries import add_library
from catalog.models import Library, SourceRecord, UnionTombstone
from harvest.ingest import ingest_file
from harvest.iso2709 import split_records
from tests.conftest import VIETNAMESE

Cluster = frozenset[tuple[str, str]]


def _books(count: int = 6) -> list[tuple[str, bytes]]:
    """The first ``count`` Vietnamese records of the Library of Congress set: (001, record)."""
    out = []
    with open(VIETNAMESE, "rb") as fh:
        for _offset, raw in split_records(fh):
            record = next(MARCReader(raw, to_unicode=True, force_utf8=True))
            out.append((record["001"].data.strip(), raw))
            if len(out) == count:
                break
    return out


BOOKS = _books()
IDS = [local for local, _raw in BOOKS]


def _ingest(engine: Engine, tmp_path: Path, code: str, books: list[int], mode: str = "update") -> None:
    path = tmp_path / f"{code}-{'-'.join(map(str, books))}.mrc"
    path.write_bytes(b"".join(BOOKS[n][1] for n in books))
    ingest_file(engine, code, path, mode=mode)


def _catalogue(
    engine: Engine, tmp_path: Path, order: tuple[str, ...] = ("LIB-A", "LIB-B", "LIB-C", "LIB-D")
) -> None:
    """Libraries A, B and C hold books 0-4; D holds book 5 alone."""
    with session_scope(engine) as session:
        for code in sorted(order):
            add_library(session, code, f"Thư viện {code}")
    for code in order:
        _ingest(engine, tmp_path, code, [5] if code == "LIB-D" else [0, 1, 2, 3, 4])


def _clusters(engine: Engine) -> set[Cluster]:
    with Session(engine) as session:
        rows = session.execute(
            select(SourceRecord.union_record_id, Library.code, SourceRecord.local_id)
            .join(Library, Library.id == SourceRecord.library_id)
            .where(SourceRecord.status == "active")
        ).all()
    groups: dict[int, set[tuple[str, str]]] = {}
    for union_id, code, local_id in rows:
        assert union_id is not None
        groups.setdefault(union_id, set()).add((code, local_id))
    return {frozenset(g) for g in groups.values()}


def _union_of(engine: Engine, code: str, local_id: str) -> int:
    with Session(engine) as session:
        uid = session.execute(
            select(SourceRecord.union_record_id)
            .join(Library, Library.id == SourceRecord.library_id)
            .where(Library.code == code, SourceRecord.local_id == local_id)
        ).scalar_one()
    assert uid is not None
    return uid


def _book(n: int, *codes: str) -> Cluster:
    return frozenset((code, IDS[n]) for code in codes)


def _rebuilt(engine: Engine) -> set[Cluster]:
    with writing(engine) as conn:
        rebuild(conn)
    return _clusters(engine)


@pytest.fixture
def catalogue(engine: Engine, tmp_path: Path) -> Engine:
    _catalogue(engine, tmp_path)
    assert _clusters(engine) == {_book(n, "LIB-A", "LIB-B", "LIB-C") for n in range(5)} | {_book(5, "LIB-D")}
    return engine


def test_split_wins_over_the_rules_through_reingest_and_rebuild(catalogue: Engine, tmp_path: Path) -> None:
    engine = catalogue
    old = _union_of(engine, "LIB-B", IDS[0])
    with writing(engine) as conn:
        done = corrections.split(conn, ("LIB-B", IDS[0]), "LIB-B", note="different printing")
    assert done.correction.label.startswith("manual: split by LIB-B on ")
    assert done.correction.label.endswith("(different printing)")
    expected = ({_book(n, "LIB-A", "LIB-B", "LIB-C") for n in range(1, 5)} | {_book(5, "LIB-D")}) | {
        _book(0, "LIB-A", "LIB-C"),
        _book(0, "LIB-B"),
    }
    assert _clusters(engine) == expected
    assert _union_of(engine, "LIB-A", IDS[0]) == old  # the larger part keeps the permalink
    with engine.connect() as conn:
        data = explain(conn, old)
    assert [c["label"] for c in data["corrections"]] == [done.correction.label]
    manual = [d for d in data["decisions"] if d["rule"] == "manual"]
    assert manual and all(not d["accepted"] and "manual: split by LIB-B" in d["reason"] for d in manual)

    assert _rebuilt(engine) == expected
    _ingest(engine, tmp_path, "LIB-B", [0, 1, 2, 3, 4])  # the same records sent again: nothing changes
    assert _clusters(engine) == expected
    _ingest(engine, tmp_path, "LIB-B", [0], mode="delete")  # deleted, then back as a new row
    _ingest(engine, tmp_path, "LIB-B", [0])
    assert _clusters(engine) == expected

    with writing(engine) as conn:
        undone = corrections.undo(conn, done.correction.id, "LIB-B")
    assert undone.undone
    assert _clusters(engine) == {_book(n, "LIB-A", "LIB-B", "LIB-C") for n in range(5)} | {_book(5, "LIB-D")}
    with engine.connect() as conn:
        assert explain(conn, _union_of(engine, "LIB-B", IDS[0]))["corrections"] == []


def test_merge_joins_two_union_records_and_the_gone_one_points_to_the_other(catalogue: Engine) -> None:
    engine = catalogue
    big, small = _union_of(engine, "LIB-A", IDS[0]), _union_of(engine, "LIB-D", IDS[5])
    with writing(engine) as conn:
        done = corrections.merge(conn, big, small, "LIB-D")
    assert done.unions == [big]
    assert _book(0, "LIB-A", "LIB-B", "LIB-C") | _book(5, "LIB-D") in _clusters(engine)
    with Session(engine) as session:
        tomb = session.get(UnionTombstone, small)
    assert tomb is not None and tomb.merged_into == big
    assert _book(0, "LIB-A", "LIB-B", "LIB-C") | _book(5, "LIB-D") in _rebuilt(engine)

    other = _union_of(engine, "LIB-A", IDS[1])
    refused = pytest.raises(corrections.CorrectionError, match="both hold a record of LIB-A, LIB-B, LIB-C")
    with writing(engine) as conn, refused:  # A, B and C each hold a record of both: refused, with the reason
        corrections.merge(conn, big, other, corrections.ADMIN)


def test_keep_apart_splits_now_and_for_good(catalogue: Engine) -> None:
    engine = catalogue
    with writing(engine) as conn:
        corrections.keep_apart(
            conn, ("LIB-A", IDS[2]), ("LIB-C", IDS[2]), corrections.ADMIN, note="two printings"
        )
    clusters = _clusters(engine)
    a, c = (next(g for g in clusters if (code, IDS[2]) in g) for code in ("LIB-A", "LIB-C"))
    assert a != c and a | c == _book(2, "LIB-A", "LIB-B", "LIB-C")
    assert _rebuilt(engine) == clusters
    # the union records of A's and C's copies, kept apart as wholes
    ua, uc = _union_of(engine, "LIB-A", IDS[2]), _union_of(engine, "LIB-C", IDS[2])
    with writing(engine) as conn:
        corrections.keep_apart(conn, ua, uc, "LIB-A")
    assert _rebuilt(engine) == clusters


def test_a_library_corrects_its_own_records_only(catalogue: Engine) -> None:
    engine = catalogue
    with engine.connect() as conn:
        with pytest.raises(corrections.Forbidden):
            corrections.check_allowed(conn, "LIB-D", "split", [("LIB-A", IDS[0])])
        with pytest.raises(corrections.Forbidden):
            corrections.check_allowed(conn, "LIB-D", "never", [("LIB-A", IDS[0]), ("LIB-B", IDS[1])])
        with pytest.raises(corrections.Forbidden):
            corrections.check_allowed(
                conn,
                "LIB-D",
                "merge",
                [_union_of(engine, "LIB-A", IDS[0]), _union_of(engine, "LIB-A", IDS[1])],
            )
        corrections.check_allowed(conn, "LIB-A", "split", [("LIB-A", IDS[0])])
        corrections.check_allowed(conn, "LIB-D", "never", [("LIB-D", IDS[5]), ("LIB-B", IDS[1])])
        corrections.check_allowed(
            conn, "LIB-D", "merge", [_union_of(engine, "LIB-D", IDS[5]), _union_of(engine, "LIB-A", IDS[1])]
        )
    with writing(engine) as conn:
        done = corrections.split(conn, ("LIB-A", IDS[3]), "LIB-A")
        with pytest.raises(corrections.Forbidden):
            corrections.undo(conn, done.correction.id, "LIB-B")
        with pytest.raises(corrections.NotFound):
            corrections.undo(conn, done.correction.id + 1000, corrections.ADMIN)
        with pytest.raises(corrections.CorrectionError, match="already a union record of its own"):
            corrections.split(conn, ("LIB-A", IDS[3]), "LIB-A")
        with pytest.raises(corrections.NotFound):
            corrections.split(conn, ("LIB-A", "no-such-record"), "LIB-A")


def test_parse_target() -> None:
    assert corrections.parse_target("42") == 42
    assert corrections.parse_target("VNU-LIC:b:12") == ("VNU-LIC", "b:12")
    assert corrections.parse_target(" vnu-lic:b12 ") == ("VNU-LIC", "b12")
    for bad in ("", "x", ":1", "A:", "99999999999999999999", "²"):
        with pytest.raises(corrections.CorrectionError):
            corrections.parse_target(bad)


def test_decisions_exported_and_imported_give_the_same_union_records_in_any_order(
    catalogue: Engine, tmp_path: Path
) -> None:
    engine = catalogue
    with writing(engine) as conn:
        corrections.split(conn, ("LIB-B", IDS[0]), "LIB-B")
        corrections.merge(
            conn, _union_of(engine, "LIB-A", IDS[1]), _union_of(engine, "LIB-D", IDS[5]), "LIB-D"
        )
        corrections.keep_apart(conn, ("LIB-A", IDS[4]), ("LIB-C", IDS[4]), corrections.ADMIN)
    expected = _clusters(engine)
    assert _rebuilt(engine) == expected
    with engine.connect() as conn:
        exported = corrections.export_decisions(conn)
    assert len(exported["decisions"]) == 3

    for n, order in enumerate((("LIB-D", "LIB-C", "LIB-B", "LIB-A"), ("LIB-B", "LIB-D", "LIB-A", "LIB-C"))):
        # a full reload: decisions first, then the libraries in another order; then decisions last
        for decisions_first in (True, False):
            other = db.make_engine(f"sqlite:///{tmp_path / f'reload-{n}-{decisions_first}.db'}")
            db.upgrade(other)
            folder = tmp_path / f"files-{n}-{decisions_first}"
            folder.mkdir()
            if decisions_first:
                with writing(other) as conn:
                    counts, _changed = corrections.import_decisions(conn, exported)
                assert counts["added"] == 3
                _catalogue(other, folder, order)
            else:
                _catalogue(other, folder, order)
                with writing(other) as conn:
                    corrections.import_decisions(conn, exported)
            assert _clusters(other) == expected, (order, decisions_first)
            with writing(other) as conn:  # importing again adds nothing
                again, _ = corrections.import_decisions(conn, exported)
            assert again["added"] == 0
            assert _rebuilt(other) == expected
            other.dispose()


def test_import_rejects_what_is_not_an_export(catalogue: Engine) -> None:
    with writing(catalogue) as conn:
        for bad in (
            [],
            {"format": "other", "decisions": []},
            {"format": corrections.EXPORT_FORMAT, "decisions": [{"action": "explode"}]},
            {
                "format": corrections.EXPORT_FORMAT,
                "decisions": [{"action": "split", "side_a": [["LIB-A"]], "side_b": [["LIB-B", "1"]]}],
            },
        ):
            with pytest.raises(corrections.CorrectionError):
                corrections.import_decisions(conn, bad)


def test_control_characters_are_refused_before_the_database(catalogue: Engine) -> None:
    with writing(catalogue) as conn:
        with pytest.raises(corrections.CorrectionError, match="control characters"):
            corrections.split(conn, ("LIB-A", "x\x00y"), corrections.ADMIN)
        with pytest.raises(corrections.CorrectionError, match="control characters"):
            corrections.split(conn, ("LIB-A", IDS[0]), corrections.ADMIN, note="a\x00b")
