"""Collection analytics: the summary tables kept by the refresh equal the figures computed from
scratch from the catalogue, after every kind of job (adds, re-ingest, snapshot deletions, a delete
job, a dedup rebuild), on SQLite and PostgreSQL; and the readers' figures."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from catalog.analytics import breakdowns, cache, growth, overlap, unique
from catalog.analytics.dimensions import DIMENSIONS, dimensions_of, subject_class
from catalog.analytics.members import UnknownMember, member
from catalog.db import session_scope, writing
from catalog.libraries import add_library
from harvest.ingest import ingest_file
from harvest.iso2709 import split_records
from tests.conftest import VIETNAMESE

CODES = ("HN-A", "HN-B", "HCM-C")


def scratch(engine: Engine) -> dict[str, Any]:
    """The figures computed anew from the catalogue, independently of the refresh's code."""
    with engine.connect() as conn:
        holders: dict[int, set[int]] = defaultdict(set)
        for union_id, library_id in conn.execute(
            text(
                "SELECT union_record_id, library_id FROM source_record "
                "WHERE status = 'active' AND union_record_id IS NOT NULL"
            )
        ):
            holders[union_id].add(library_id)
        fields = {
            uid: orjson.loads(f) if isinstance(f, (str, bytes)) else f
            for uid, f in conn.execute(text("SELECT id, fields FROM union_record"))
        }
    counts: Counter[tuple[int, str, str]] = Counter()
    uniques: Counter[tuple[int, str, str]] = Counter()
    pairs: Counter[tuple[int, int]] = Counter()
    for union_id, libs in holders.items():
        dims = dimensions_of(fields[union_id])
        keys = [("holders", str(len(libs)))] + [(d, v) for d in DIMENSIONS for v in dims[d] or [""]]
        for scope in [0, *libs]:
            for key in keys:
                counts[(scope, *key)] += 1
                uniques[(scope, *key)] += len(libs) == 1
        for a in libs:
            for b in libs:
                if a <= b:
                    pairs[(a, b)] += 1
    return {
        "counts": {k: (n, uniques[k]) for k, n in counts.items()},
        "overlap": dict(pairs),
        "unions": {u: sorted(libs) for u, libs in holders.items()},
    }


def cached(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        counts = {
            (s, d, v): (n, u)
            for s, d, v, n, u in conn.execute(
                text("SELECT scope, dimension, value, titles, unique_titles FROM analytics_count")
            )
        }
        pairs = {
            (a, b): n
            for a, b, n in conn.execute(text("SELECT library_a, library_b, titles FROM analytics_overlap"))
        }
        unions = {
            u: orjson.loads(libs)
            for u, libs in conn.execute(text("SELECT union_record_id, libraries FROM analytics_union"))
        }
        sole = dict(conn.execute(text("SELECT union_record_id, sole_library_id FROM analytics_union")).all())
    assert all((s is None) == (len(unions[u]) != 1) for u, s in sole.items())
    return {"counts": counts, "overlap": pairs, "unions": unions}


@pytest.fixture
def records() -> list[bytes]:
    with open(VIETNAMESE, "rb") as fh:
        return [raw for _offset, raw in split_records(fh)]


def _file(tmp_path: Path, name: str, records: list[bytes], keep: Any) -> Path:
    path = tmp_path / f"{name}.mrc"
    path.write_bytes(b"".join(r for i, r in enumerate(records) if keep(i)))
    return path


def test_cached_figures_equal_a_computation_from_scratch_after_every_job(
    engine: Engine, records: list[bytes], tmp_path: Path
) -> None:
    with session_scope(engine) as db:
        for code in CODES:
            add_library(db, code, f"Thư viện {code}")
    steps = [
        ("HN-A", "update", lambda i: i % 2 == 0),
        ("HN-B", "update", lambda i: i % 3 == 0),
        ("HCM-C", "update", lambda i: i < 150),
        ("HN-A", "update", lambda i: i % 2 == 0),  # the same file again: nothing changes
        ("HN-A", "snapshot", lambda i: i % 4 == 0),  # half of A's records deleted
        ("HCM-C", "delete", lambda i: i < 40),  # a delete job
        ("HN-B", "update", lambda i: i % 5 == 0),  # re-ingest with new records
    ]
    for n, (code, mode, keep) in enumerate(steps):
        ingest_file(engine, code, _file(tmp_path, f"{n}-{code}", records, keep), mode=mode)
        with engine.connect() as conn:
            assert cache.status(conn).pending or n == 3  # (the same file again may change nothing)
        cache.refresh(engine)  # what the worker does after each job
        assert cached(engine) == scratch(engine), f"after step {n}: {code} {mode}"
    figures = scratch(engine)
    assert any(len(libs) == 3 for libs in figures["unions"].values())  # real overlap
    assert any(len(libs) == 1 for libs in figures["unions"].values())

    from catalog.dedup.clusters import rebuild

    with writing(engine) as conn:  # every union record decided again: logged, and refreshed anew
        rebuild(conn)
    with engine.connect() as conn:
        assert cache.status(conn).pending
    cache.refresh(engine)
    assert cached(engine) == scratch(engine)

    # a refresh with nothing logged changes nothing; one from scratch gives the same figures
    before = cached(engine)
    assert cache.refresh(engine).union_records == 0
    assert cache.refresh(engine, full=True).full
    assert cached(engine) == before


def test_union_records_changed_by_hand_reach_the_figures(
    sqlite_engine: Engine, records: list[bytes], tmp_path: Path
) -> None:
    """The triggers log every path: a record withdrawn and a union record deleted outside any job."""
    engine = sqlite_engine
    with session_scope(engine) as db:
        add_library(db, "HN-A", "A")
        add_library(db, "HN-B", "B")
    ingest_file(engine, "HN-A", _file(tmp_path, "a", records, lambda i: i < 60))
    ingest_file(engine, "HN-B", _file(tmp_path, "b", records, lambda i: i < 30))
    with writing(engine) as conn:
        conn.execute(
            text(
                "UPDATE source_record SET status = 'deleted' WHERE id IN (SELECT min(id) FROM source_record)"
            )
        )
        gone = conn.execute(text("SELECT max(id) FROM union_record")).scalar_one()
        conn.execute(text("DELETE FROM union_record WHERE id = :id"), {"id": gone})
    cache.refresh(engine)
    assert cached(engine) == scratch(engine)


def test_readers_figures(sqlite_engine: Engine, records: list[bytes], tmp_path: Path) -> None:
    engine = sqlite_engine
    with session_scope(engine) as db:
        for code in CODES:
            add_library(db, code, f"Thư viện {code}", name_en=f"Library {code}")
    ingest_file(engine, "HN-A", _file(tmp_path, "a", records, lambda i: i < 100))
    ingest_file(engine, "HN-B", _file(tmp_path, "b", records, lambda i: 50 <= i < 120))
    ingest_file(engine, "HCM-C", _file(tmp_path, "c", records, lambda i: 90 <= i < 130))
    cache.refresh(engine)
    figures = scratch(engine)
    held = Counter(len(libs) for libs in figures["unions"].values())
    with engine.connect() as conn:
        a, b, c = (member(conn, code) for code in CODES)
        assert member(conn, " hn-a ") == a
        with pytest.raises(UnknownMember):
            member(conn, "NOPE")
        whole = breakdowns.summary(conn, min_libraries=2)
        assert whole["titles"] == len(figures["unions"])
        assert whole["distribution"] == [{"libraries": k, "titles": held[k]} for k in sorted(held)]
        assert whole["unique_titles"] == held[1]
        assert whole["held_by_at_least"] == held[2] + held[3]
        for dimension in DIMENSIONS:  # every title is counted under its dimension (at least once)
            assert sum(e["titles"] for e in whole["breakdowns"][dimension]) >= whole["titles"]
        classes = whole["breakdowns"]["class"]
        assert sum(e["titles"] for e in classes) == whole["titles"]  # one class (or none) per title
        assert [e["value"] for e in whole["breakdowns"]["decade"] if e["value"]] == sorted(
            e["value"] for e in whole["breakdowns"]["decade"] if e["value"]
        )

        mine = breakdowns.summary(conn, a)
        a_titles = sum(1 for libs in figures["unions"].values() if a.id in libs)
        a_alone = sum(1 for libs in figures["unions"].values() if libs == [a.id])
        assert (mine["titles"], mine["unique_titles"]) == (a_titles, a_alone)
        assert sum(e["unique_titles"] for e in mine["breakdowns"]["class"]) == a_alone

        matrix = overlap.overlap(conn, lang="en")
        codes = [m["code"] for m in matrix["libraries"]]
        assert codes == sorted(CODES)
        i, j = codes.index("HN-A"), codes.index("HN-B")
        both = sum(1 for libs in figures["unions"].values() if a.id in libs and b.id in libs)
        assert matrix["matrix"][i][j] == matrix["matrix"][j][i] == both > 0
        assert matrix["matrix"][i][i] == a_titles
        assert matrix["libraries"][i]["name"] == "Library HN-A"
        pairs = overlap.overlap(conn, a)["pairs"]
        assert {p["code"]: p["shared"] for p in pairs}["HN-B"] == both
        assert {p["code"] for p in pairs} == {"HN-B", "HCM-C"}

        counts = {e["code"]: e for e in unique.unique_counts(conn)}
        assert counts["HN-A"]["unique_titles"] == a_alone
        listed = unique.unique_titles(conn, a, limit=1000)
        assert [e["id"] for e in listed] == sorted(
            u for u, libs in figures["unions"].items() if libs == [a.id]
        )
        assert all(e["library"] == "HN-A" and e["title"] for e in listed)
        page = unique.unique_titles(conn, None, after=listed[0]["id"], limit=5)
        assert len(page) == 5 and all(e["id"] > listed[0]["id"] for e in page)

        grown = growth.growth(conn)
        assert {e["library"] for e in grown["months"]} == set(CODES)
        assert sum(e["added"] for e in grown["months"]) == 100 + 70 + 40
        assert sum(t["jobs"] for t in grown["totals"]) == 3
        assert [e["library"] for e in growth.growth(conn, c)["months"]] == ["HCM-C"]


def test_subject_class_of_lc_and_dewey_numbers() -> None:
    assert subject_class({"lcc": ["QA76.73.P98 L88 2019"], "ddc": ["005.133"]}) == "LC Q"
    assert subject_class({"lcc": ["DS556.5 .N45"]}) == "LC D"
    assert subject_class({"lcc": ["KPV"]}) == "LC K"
    assert subject_class({"ddc": ["339.5"]}) == "DDC 300"
    assert subject_class({"ddc": ["[E]"], "udc": ["94(597)"]}) is None
    assert subject_class(None) is None
    dims = dimensions_of({"languages": ["vie", "eng"], "year": 1987, "material_type": "book"})
    assert dims == {"class": [], "language": ["eng", "vie"], "decade": ["1980"], "material_type": ["book"]}
