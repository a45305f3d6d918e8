"""Deduplication against union records as wholes: the same union records and merged descriptions as
deciding every record against every member (``rebuild``), at a cost per record that does not grow
with the number of libraries holding the edition."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from pymarc import Field, MARCReader, Record, Subfield
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from catalog import db
from catalog.dedup.clusters import Deduplicator, rebuild
from catalog.dedup.joining import Joiner
from catalog.dedup.keys import TITLE_KINDS
from catalog.dedup.merge import add_member, merge, merge_tagged
from catalog.dedup.state import UnionState
from catalog.marc_fields import extract
from catalog.models import Library, MatchDecision, SourceRecord, UnionRecord
from harvest.ingest import ingest_file
from tests.catalog.test_dedup import (
    _clusters,
    _libraries,
    _local_id,
    _modified,
    _raws,
    _shares,
    _write,
    culturegraph_libraries,
)
from tests.conftest import VIETNAMESE, fixture


def _unions(engine: Engine) -> dict[frozenset[tuple[str, str]], tuple[Any, ...]]:
    """Every union record by its members, with what it shows: title, keys, merged fields, counts."""
    with engine.connect() as conn:
        members = conn.execute(
            select(SourceRecord.union_record_id, Library.code, SourceRecord.local_id)
            .join(Library, Library.id == SourceRecord.library_id)
            .where(SourceRecord.status == "active")
        ).all()
        unions = {
            row.id: row
            for row in conn.execute(
                select(
                    UnionRecord.id,
                    UnionRecord.title,
                    UnionRecord.title_key,
                    UnionRecord.year,
                    UnionRecord.fields,
                    UnionRecord.member_count,
                    UnionRecord.library_count,
                )
            )
        }
    groups: dict[int, set[tuple[str, str]]] = {}
    for union_id, code, local_id in members:
        groups.setdefault(union_id, set()).add((code, local_id))
    assert set(groups) == set(unions), "every union record has members, every member a union record"
    return {frozenset(g): tuple(unions[u])[1:] for u, g in groups.items()}


def _union_keys(engine: Engine) -> set[tuple[Any, ...]]:
    """union_key as members: (kind, value, the union record's smallest member, members holding it)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT k.kind, k.value, min(l.code || ':' || s.local_id), k.members FROM union_key k "
                "JOIN source_record s ON s.union_record_id = k.union_record_id AND s.status = 'active' "
                "JOIN library l ON l.id = s.library_id GROUP BY k.kind, k.value, k.union_record_id, k.members"
            )
        ).all()
    return {tuple(r) for r in rows}


def _comparable(state: UnionState) -> tuple[Any, ...]:
    classes = sorted((s, c.title, c.count, c.reps, sorted(c.keys)) for s, c in state.classes.items())
    return (classes, sorted(state.libraries), state.tags)


def _states_as_built(engine: Engine) -> int:
    """Every saved union-record state (those the joiner updated, and those the member-level
    clustering saved as it wrote union records whole) equals the state built afresh from the
    members; returns how many there are."""
    with engine.connect() as conn:
        saved = dict(conn.execute(text("SELECT union_record_id, state FROM union_state")).all())
        built = Joiner(Deduplicator(conn))._build(sorted(saved))
    for uid, raw in saved.items():
        assert _comparable(UnionState.loads(raw)) == _comparable(built[uid].state), uid
    return len(saved)


def _same_as_rebuild(engine: Engine) -> dict[frozenset[tuple[str, str]], tuple[Any, ...]]:
    """The catalogue as incremental deduplication left it equals the one a full rebuild makes, and
    its union-record states those built afresh."""
    _states_as_built(engine)
    incremental, keys = _unions(engine), _union_keys(engine)
    with engine.begin() as conn:
        rebuild(conn)
    rebuilt = _unions(engine)
    assert set(incremental) == set(rebuilt)
    for members, shown in incremental.items():
        assert shown == rebuilt[members], sorted(members)
    assert _union_keys(engine) == keys
    return incremental


def test_overlapping_libraries_as_rebuild(engine: Engine, tmp_path: Path) -> None:
    files = _shares(engine, tmp_path)
    _libraries(engine, *files)
    for code, path in files.items():
        ingest_file(engine, code, path)
    unions = _same_as_rebuild(engine)
    assert len(unions) == 529 and any(shown[-1] == 3 for shown in unions.values())


def test_culturegraph_as_rebuild(engine: Engine, tmp_path: Path) -> None:
    files, expected = culturegraph_libraries()
    _libraries(engine, *files)
    for code, raws in files.items():
        ingest_file(engine, code, _write(tmp_path / f"{code}.mrc", raws))
    unions = _same_as_rebuild(engine)
    assert all(sum(1 for group in expected if union & group) == 1 for union in unions)


def test_bookops_as_rebuild(engine: Engine, tmp_path: Path) -> None:
    raws = _raws(fixture("bookops-dups.mrc"))
    codes = [f"LIB-{n}" for n in range(len(raws))]
    _libraries(engine, *codes)
    for code, raw in zip(codes, raws, strict=True):
        ingest_file(engine, code, _write(tmp_path / f"{code}.mrc", [raw]))
    unions = _same_as_rebuild(engine)
    assert max(len(members) for members in unions) == 5


def test_simulated_libraries_as_rebuild(tmp_path: Path) -> None:
    """LoC records spread over six simulated libraries with the variations real exports show; the
    order of the libraries shuffled: the same union records and merged fields as a rebuild."""
    from bench.dedup_quality import load_originals, simulate

    originals = load_originals(fixture("sample-2000.mrc"), 700)
    files = simulate(originals, 6, 0.6, 11, tmp_path)
    engine = db.make_engine(f"sqlite:///{tmp_path / 'sim.db'}")
    db.upgrade(engine)
    order = sorted(files)
    random.Random(5).shuffle(order)
    _libraries(engine, *order)
    for code in order:
        ingest_file(engine, code, files[code], workers=0)
    unions = _same_as_rebuild(engine)
    assert sum(1 for members in unions if len(members) >= 4) > 100
    engine.dispose()


def test_changes_and_deletions_as_rebuild(engine: Engine, tmp_path: Path) -> None:
    """Members changed, deleted and added back: the union records stay those of a full rebuild."""
    raws = _raws(VIETNAMESE)[:120]
    codes = ["LIB-A", "LIB-B", "LIB-C", "LIB-D"]
    _libraries(engine, *codes)
    for code in codes:
        ingest_file(engine, code, _write(tmp_path / f"{code}.mrc", raws))
    changed = [_modified(raw, f250="2nd ed.", f300="999 p.") for raw in raws[:30]]  # now another edition
    ingest_file(engine, "LIB-B", _write(tmp_path / "b2.mrc", changed))
    ingest_file(engine, "LIB-C", _write(tmp_path / "c2.mrc", raws[30:60]), mode="delete")
    ingest_file(engine, "LIB-D", _write(tmp_path / "d2.mrc", changed[:10]))
    unions = _same_as_rebuild(engine)
    deleted = {("LIB-C", _local_id(raw)) for raw in raws[30:60]}
    held = {member for members in unions for member in members}
    assert not deleted & held and len(held) == 4 * 120 - 30


def test_a_new_record_is_decided_against_classes_not_members(engine: Engine, tmp_path: Path) -> None:
    """Eight libraries hold the same 100 records, copied as they are: each record of the eighth is
    decided once (against the one class of members), not against the seven members."""
    raws = _raws(VIETNAMESE)[:100]
    codes = [f"LIB-{n}" for n in range(8)]
    _libraries(engine, *codes)
    for code in codes[:-1]:
        ingest_file(engine, code, _write(tmp_path / f"{code}.mrc", raws))
    with engine.connect() as conn:
        before = conn.scalar(select(func.count()).select_from(MatchDecision))
    ingest_file(engine, codes[-1], _write(tmp_path / "last.mrc", raws))
    with engine.connect() as conn:
        after = conn.scalar(select(func.count()).select_from(MatchDecision))
        states = conn.scalar(text("SELECT count(*) FROM union_state"))
    assert after - before <= len(raws)
    assert states and max(len(c) for c in _clusters(engine)) == 8


def _renumbered(raw: bytes, prefix: str) -> bytes:
    record = next(MARCReader(raw, to_unicode=True, force_utf8=True))
    record["001"].data = prefix + record["001"].data.strip()
    return record.as_marc()


def test_union_records_written_whole_keep_their_states(engine: Engine, tmp_path: Path) -> None:
    """A library that holds each record twice splits the union records (one record per library):
    the member-level clustering writes them whole and saves their states as it goes; the next
    libraries are placed against those states as a rebuild would place them."""
    raws = _raws(VIETNAMESE)[:40]
    _libraries(engine, "LIB-A", "LIB-B", "LIB-C", "LIB-D")
    ingest_file(engine, "LIB-A", _write(tmp_path / "a.mrc", raws + [_renumbered(r, "X") for r in raws]))
    ingest_file(engine, "LIB-B", _write(tmp_path / "b.mrc", raws))
    with engine.connect() as conn:
        states = [UnionState.loads(raw) for (raw,) in conn.execute(text("SELECT state FROM union_state"))]
    assert len(states) >= 30 and all(len(s.libraries) == 2 for s in states)
    assert _states_as_built(engine) == len(states)
    ingest_file(engine, "LIB-C", _write(tmp_path / "c.mrc", raws))
    ingest_file(engine, "LIB-D", _write(tmp_path / "d.mrc", raws[:20]))
    unions = _same_as_rebuild(engine)
    assert max(len(members) for members in unions) == 4


def _book(local_id: str, year: str | None) -> bytes:
    """A record with no identifier: matched on title, main author, publisher and year."""
    date = year or "    "
    record = Record(force_utf8=True)
    record.leader = record.leader[:9] + "a" + record.leader[10:]
    record.add_field(Field(tag="001", data=local_id))
    record.add_field(Field(tag="008", data=f"990101s{date}    vm            000 0 vie d"))
    record.add_field(Field(tag="100", indicators=["1", " "], subfields=[Subfield("a", "Nguyễn, Văn An")]))
    record.add_field(
        Field(tag="245", indicators=["1", "0"], subfields=[Subfield("a", "Lịch sử Việt Nam hiện đại")])
    )
    published = [Subfield("a", "Hà Nội :"), Subfield("b", "Nhà xuất bản Giáo dục")]
    if year:
        published[-1] = Subfield("b", "Nhà xuất bản Giáo dục,")
        published.append(Subfield("c", year))
    record.add_field(Field(tag="260", indicators=[" ", " "], subfields=published))
    record.add_field(Field(tag="300", indicators=[" ", " "], subfields=[Subfield("a", "320 tr.")]))
    return record.as_marc()


def test_a_record_joins_a_union_record_split_from_another_as_a_rebuild_would(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Library A holds two editions (2001, 2005); library B's copy has no year, so it matches both,
    and joins one: the other is left apart by one record per library, tied to it by an accepted
    decision. Library C's copy of the 2001 edition is accepted by one union record alone, which
    holds no record of C: the joiner places it there, without the member-level clustering, and the
    union records are those of a rebuild."""
    _libraries(engine, "LIB-A", "LIB-B", "LIB-C")
    ingest_file(engine, "LIB-A", _write(tmp_path / "a.mrc", [_book("a1", "2001"), _book("a5", "2005")]))
    ingest_file(engine, "LIB-B", _write(tmp_path / "b.mrc", [_book("b0", None)]))
    with engine.connect() as conn:
        tied = conn.execute(
            text(
                "SELECT count(*) FROM match_decision m JOIN source_record s ON s.id = m.record_a_id "
                "JOIN source_record t ON t.id = m.record_b_id "
                "WHERE m.accepted AND s.union_record_id != t.union_record_id"
            )
        ).scalar()
    assert tied == 1 and len(_clusters(engine)) == 2
    clustered: list[set[int]] = []  # the seeds of every member-level clustering
    closure = Deduplicator._closure
    monkeypatch.setattr(
        Deduplicator, "_closure", lambda self, seeds: clustered.append(seeds) or closure(self, seeds)
    )
    ingest_file(engine, "LIB-C", _write(tmp_path / "c.mrc", [_book("c1", "2001")]))
    assert not clustered
    unions = _same_as_rebuild(engine)
    assert frozenset({("LIB-A", "a1"), ("LIB-B", "b0"), ("LIB-C", "c1")}) in unions


def test_title_keys_are_found_through_their_union_records(engine: Engine, tmp_path: Path) -> None:
    """The records holding a title key, as record_key holds them: found through the union records
    that hold the key, and, for records whose union record is not written yet (those a job is
    placing), from the keys the deduplication was given. Identifiers are found by value."""
    raws = _raws(VIETNAMESE)[:30]
    _libraries(engine, "LIB-A", "LIB-B", "LIB-C")
    for code in ("LIB-A", "LIB-B"):
        ingest_file(engine, code, _write(tmp_path / f"{code}.mrc", raws))
    ingest_file(engine, "LIB-C", _write(tmp_path / "c.mrc", raws[:20]), maintain=False)  # no union records
    with engine.connect() as conn:
        libraries = dict(conn.execute(text("SELECT id, library_id FROM source_record")).all())
        codes = dict(conn.execute(text("SELECT id, code FROM library")).all())
        holders: dict[tuple[str, str], set[int]] = {}
        keys_of: dict[int, list[tuple[str, str]]] = {}
        for rid, kind, value in conn.execute(text("SELECT source_record_id, kind, value FROM record_key")):
            holders.setdefault((kind, value), set()).add(rid)
            keys_of.setdefault(rid, []).append((kind, value))
        of = {code: sorted(r for r in libraries if codes[libraries[r]] == code) for code in codes.values()}
        dedup = Deduplicator(conn)
        placing = {rid: keys_of[rid] for rid in of["LIB-C"]}
        blocks = dedup._blocks(of["LIB-A"], placing)
        unplaced = dedup._blocks(of["LIB-A"])
    titles = {k for rid in of["LIB-A"] for k in keys_of[rid] if k[0] in TITLE_KINDS and len(holders[k]) > 1}
    assert len(titles) >= 40
    assert {k: set(blocks[k]) for k in titles} == {k: holders[k] for k in titles}
    assert {k: set(unplaced[k]) for k in titles} == {k: holders[k] - set(of["LIB-C"]) for k in titles}
    isbns = [k for k in blocks if k[0] == "isbn"]
    assert isbns and all(set(unplaced[k]) == set(blocks[k]) == holders[k] for k in isbns)


def test_states_saved_with_each_class_content_are_read_as_they_are_now(tmp_path: Path) -> None:
    """Union-record states written when each class kept its content beside its signature are read
    as states written now, and new libraries are placed against them as a rebuild would place them."""
    import orjson

    from bench.dedup_quality import load_originals, simulate

    originals = load_originals(fixture("sample-2000.mrc"), 300)
    files = simulate(originals, 4, 0.8, 7, tmp_path)
    engine = db.make_engine(f"sqlite:///{tmp_path / 'states.db'}")
    db.upgrade(engine)
    order = sorted(files)
    _libraries(engine, *order)
    for code in order[:2]:
        ingest_file(engine, code, files[code], workers=0)
    with engine.begin() as conn:
        states = dict(conn.execute(text("SELECT union_record_id, state FROM union_state")).all())
        for uid, raw in states.items():
            data = orjson.loads(raw)
            assert all(isinstance(title, str) for _sig, title, *_rest in data["classes"])
            # the earlier layout: [signature, content, count, reps, keys]
            data["classes"] = [[sig, orjson.loads(sig), *rest] for sig, _title, *rest in data["classes"]]
            conn.execute(
                text("UPDATE union_state SET state = :s WHERE union_record_id = :u"),
                {"s": orjson.dumps(data).decode(), "u": uid},
            )
    with engine.connect() as conn:
        old = dict(conn.execute(text("SELECT union_record_id, state FROM union_state")).all())
    assert old and all(UnionState.loads(old[u]).dumps().decode() == states[u] for u in old)
    for code in order[2:]:
        ingest_file(engine, code, files[code], workers=0)
    unions = _same_as_rebuild(engine)
    assert any(len(members) == 4 for members in unions)
    engine.dispose()


def test_union_keys_survive_the_migration(db_url: str, tmp_path: Path) -> None:
    """Migration 0011 fills union_key from the members of existing union records: down to 0010 and
    up again gives the keys deduplication kept."""
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    files = _shares(engine, tmp_path)
    _libraries(engine, *files)
    for code, path in files.items():
        ingest_file(engine, code, path)
    kept = _union_keys(engine)
    assert kept
    db.downgrade(engine, "0010")
    db.upgrade(engine)
    assert _union_keys(engine) == kept
    engine.dispose()


def test_rebuild_normalises_the_ignored_isbns(engine: Engine, tmp_path: Path) -> None:
    """An ISBN on the ignore list written as ISBN-10 with hyphens is ignored by a rebuild as by an
    ingest: two records that only that ISBN ties stay apart."""
    raws = _raws(VIETNAMESE)
    copy = _modified(raws[0], f260="", f100="", f010="")  # only the ISBN says it is the same edition
    _libraries(engine, "LIB-A", "LIB-B")
    ingest_file(engine, "LIB-A", _write(tmp_path / "a.mrc", [raws[0]]), ignore_isbns=["1-888375-15-9"])
    ingest_file(engine, "LIB-B", _write(tmp_path / "b.mrc", [copy]), ignore_isbns=["1-888375-15-9"])
    assert len(_clusters(engine)) == 2
    with engine.begin() as conn:
        rebuild(conn, ["1-888375-15-9"])
    assert len(_clusters(engine)) == 2
    with engine.begin() as conn:
        rebuild(conn, [])
    assert len(_clusters(engine)) == 1  # the ISBN alone joins them when it is not ignored


@pytest.mark.parametrize("seed", range(4))
def test_merge_takes_members_one_at_a_time(seed: int) -> None:
    """Members merged one by one, in any order, give the merged fields of all of them at once."""
    rng = random.Random(seed)
    with open(fixture("sample-2000.mrc"), "rb") as fh:
        records = [r for r in MARCReader(fh, to_unicode=True, force_utf8=True) if r is not None][:400]
    fields = [extract(r) for r in records]
    for _ in range(40):
        chosen = rng.choices(range(60), k=rng.randint(1, 8))  # the same record held twice, too
        members = [((f"LIB-{rng.randint(1, 9)}{j}", str(i)), fields[i]) for j, i in enumerate(chosen)]
        rng.shuffle(members)
        merged: dict[str, Any] = {}
        tags: dict[str, Any] = {"face": None, "lists": {}, "classification": {}}
        for order_key, member in members:
            merged, tags = add_member(merged, tags, order_key, member)
        assert merged == merge(members)
        assert (merged, tags) == merge_tagged(members)
