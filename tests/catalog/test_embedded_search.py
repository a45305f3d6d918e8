"""How the embedded engine stays fast on broad queries without changing what it answers: ranking
bucket by bucket past RANK_ALL matches, facets estimated from a sample past FACET_SAMPLE, and facet
values kept as integer codes (migration 0005 moves an older index over)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

from catalog import db
from catalog.search import embedded, matching, ranking
from catalog.search.embedded import EmbeddedSearchEngine
from catalog.search.query import SearchQuery, parse
from harvest.ingest import ingest_file
from harvest.iso2709 import split_records
from tests.conftest import KOHA, VIETNAMESE, shared_catalogue


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = shared_catalogue(
        tmp_path_factory.mktemp("embedded"),
        {"VNU-LIC": lambda i: i < 300, "HUST-LIB": lambda i: i >= 150},
        [("TNU-LRC", "Trung tâm Học liệu", "koha", KOHA)],
    )
    yield engine
    engine.dispose()


def search(engine: Engine, **kwargs: object) -> object:
    return EmbeddedSearchEngine(engine).search(SearchQuery(**kwargs))  # type: ignore[arg-type]


def every_hit(engine: Engine, per_page: int, **kwargs: object) -> list[int]:
    seen: list[int] = []
    page = 1
    while True:
        result = search(engine, per_page=per_page, page=page, facets=False, **kwargs)
        if not result.hits:  # type: ignore[attr-defined]
            return seen
        seen += [h.id for h in result.hits]  # type: ignore[attr-defined]
        page += 1


def bucket_of(engine: Engine, q: str) -> dict[int, int]:
    """Union id -> the ranking bucket it belongs to (as typed, words spelt with their diacritics,
    the words as a phrase, every word in the title)."""
    parsed = parse(q)
    with engine.connect() as conn:
        plan = matching.plan(conn.connection.driver_connection, parsed)
    match = plan.expression()
    assert match
    words = plan.exact_words
    buckets = ranking.buckets(
        match, ranking.typo_conditions(plan, match), ranking.later_conditions(plan), len(words)
    )
    assert len(buckets) >= 4
    where: dict[int, int] = {}
    with engine.connect() as conn:
        spelled: dict[int, int] = {}
        for word in words:
            for (uid,) in conn.execute(
                text("SELECT rowid FROM search_exact WHERE search_exact MATCH :e"),
                {"e": embedded.exact_expression([word])},
            ):
                spelled[uid] = spelled.get(uid, 0) + 1
        for n, (bucket, count) in enumerate(buckets):
            for (uid,) in conn.execute(
                text("SELECT rowid FROM search_fts WHERE search_fts MATCH :m"), {"m": bucket}
            ):
                if count is None or spelled.get(uid, 0) == count:
                    assert uid not in where, "buckets do not overlap"
                    where[uid] = n
    return where


@pytest.mark.parametrize("q", ["hồ ", "Việt Nam", "văn hoá"])
def test_broad_queries_rank_bucket_by_bucket_like_narrow_ones(
    catalogue: Engine, monkeypatch: pytest.MonkeyPatch, q: str
) -> None:
    narrow = every_hit(catalogue, 100, q=q)  # every match ranked together (fewer than RANK_ALL)
    buckets = bucket_of(catalogue, q)
    assert len(narrow) > 10 and set(narrow) == set(buckets)
    order = [buckets[uid] for uid in narrow]
    assert order == sorted(order) and len(set(order)) >= 2
    monkeypatch.setattr(embedded, "RANK_ALL", 4)  # now the query is "broad"
    broad = every_hit(catalogue, 100, q=q)
    assert sorted(broad) == sorted(narrow) and len(broad) == len(set(broad))
    assert [buckets[uid] for uid in broad] == order  # the same buckets in the same order
    assert every_hit(catalogue, 3, q=q) == broad  # and pages that fit together


def test_filters_on_broad_queries(catalogue: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = every_hit(catalogue, 100, q="viet", libraries=["HUST-LIB"], year_from=1990)
    monkeypatch.setattr(embedded, "RANK_ALL", 5)
    got = every_hit(catalogue, 100, q="viet", libraries=["HUST-LIB"], year_from=1990)
    assert sorted(got) == sorted(expected) and len(expected) > 5
    total = search(catalogue, q="viet", libraries=["HUST-LIB"], year_from=1990).total  # type: ignore[attr-defined]
    assert total == len(expected)


def test_facets_are_exact_up_to_the_sample_and_estimated_past_it(
    catalogue: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    exact = search(catalogue, q="viet nam", per_page=1)
    assert exact.facets_exact  # type: ignore[attr-defined]
    for code, count in exact.facets["library"]:  # type: ignore[attr-defined]
        assert search(catalogue, q="viet nam", libraries=[code], per_page=1).total == count  # type: ignore[attr-defined]
    monkeypatch.setattr(embedded, "FACET_SAMPLE", 20)
    estimated = search(catalogue, q="viet nam", per_page=1)
    assert not estimated.facets_exact and estimated.total == exact.total  # type: ignore[attr-defined]
    # a search with filters reads every match's codes anyway: its facets are exact however many
    one = search(catalogue, q="", libraries=["VNU-LIC"], per_page=1)
    assert one.facets_exact and dict(one.facets["library"])["VNU-LIC"] == one.total == 300  # type: ignore[attr-defined]
    filtered = search(catalogue, q="viet nam", year_from=1900, per_page=1)
    assert filtered.facets_exact and filtered.total > 20  # type: ignore[attr-defined]
    for code, count in filtered.facets["library"]:  # type: ignore[attr-defined]
        assert search(catalogue, q="viet nam", year_from=1900, libraries=[code]).total == count  # type: ignore[attr-defined]
    everything = search(catalogue, q="", per_page=1)  # no words, no filters: counted over the index
    assert everything.facets_exact  # type: ignore[attr-defined]


def test_facet_codes_follow_updates_and_deletions(catalogue: Engine, tmp_path: Path) -> None:
    from catalog.search.documents import all_union_ids, documents
    from catalog.search.embedded_facets import code_of, facet_pairs, unpack

    def codes_are_the_documents() -> None:
        with catalogue.connect() as conn:
            stored = {
                uid: (year, digital, unpack(blob))
                for uid, year, digital, blob in conn.execute(
                    text("SELECT union_id, year, has_digital, codes FROM search_filter")
                )
            }
            named = {code for (code,) in conn.execute(text("SELECT id FROM search_facet_value"))}
            expected = {}
            for ids in all_union_ids(conn):
                for doc in documents(conn, ids)[0]:
                    codes = sorted(code_of(*pair) for pair in facet_pairs(doc))
                    expected[doc["id"]] = (doc["year"], int(doc["has_digital"]), codes)
        assert stored == expected
        assert {code for _y, _d, codes in stored.values() for code in codes} <= named

    codes_are_the_documents()
    with open(VIETNAMESE, "rb") as fh:
        first = next(split_records(fh))[1]
    path = tmp_path / "one.mrc"
    path.write_bytes(first)
    before = search(catalogue, q="", libraries=["VNU-LIC"], per_page=1).total  # type: ignore[attr-defined]
    ingest_file(catalogue, "VNU-LIC", path, mode="delete")
    assert search(catalogue, q="", libraries=["VNU-LIC"], per_page=1).total == before - 1  # type: ignore[attr-defined]
    codes_are_the_documents()
    ingest_file(catalogue, "VNU-LIC", path, mode="update")
    assert search(catalogue, q="", libraries=["VNU-LIC"], per_page=1).total == before  # type: ignore[attr-defined]
    codes_are_the_documents()


def test_filters_agree_with_the_documents(catalogue: Engine) -> None:
    """Each facet filter finds exactly the records whose documents hold the value."""
    from catalog.search.documents import all_union_ids, documents
    from catalog.search.embedded_facets import facet_pairs

    holders: dict[tuple[str, str], set[int]] = {}
    with catalogue.connect() as conn:
        for ids in all_union_ids(conn):
            for doc in documents(conn, ids)[0]:
                for pair in facet_pairs(doc):
                    holders.setdefault(pair, set()).add(doc["id"])
    argument = {"library": "libraries", "language": "languages", "subject": "subjects", "author": "authors"}
    checked = 0
    for (facet, value), expected in sorted(holders.items()):
        if facet not in argument or (facet in ("subject", "author") and len(expected) < 3):
            continue
        got = every_hit(catalogue, 100, q="", **{argument[facet]: [value]})
        assert set(got) == expected, (facet, value)
        checked += 1
    assert checked > 20


def test_migration_0005_moves_facets_both_ways(catalogue: Engine, tmp_path: Path) -> None:
    import shutil

    url = catalogue.url.database
    assert url
    copy = tmp_path / "copy.db"
    with catalogue.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(url, copy)
    engine = db.make_engine(f"sqlite:///{copy}")
    queries = [
        dict(q="viet nam"),
        dict(q="", libraries=["TNU-LRC"]),
        dict(q="", languages=["vie"], facet_limit=200),
        dict(q="jazz", subjects=["Jazz"]),
    ]
    before = [search(engine, **q) for q in queries]
    db.downgrade(engine, "0004")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM search_facet")).scalar_one() > 1000
    db.upgrade(engine)
    after = [search(engine, **q) for q in queries]
    for old, new in zip(before, after, strict=True):
        assert (old.total, old.facets, [h.id for h in old.hits]) == (  # type: ignore[attr-defined]
            new.total,  # type: ignore[attr-defined]
            new.facets,  # type: ignore[attr-defined]
            [h.id for h in new.hits],  # type: ignore[attr-defined]
        )
    engine.dispose()


def test_index_holds_what_the_documents_say(catalogue: Engine) -> None:
    """The rows ingest workers computed for new records equal those the writer computes from the
    catalogue's documents (records merged into union records of several libraries take that path)."""
    assert len(_indexed_rows(catalogue)) > 500


def _indexed_rows(engine: Engine) -> dict[int, tuple[object, ...]]:
    """Every union record's rows in the embedded index, checked equal to the rows built again from
    the catalogue's documents."""
    with engine.connect() as conn:
        stored = {
            uid: (fts, exact, year, title_sort, digital, payload, codes)
            for uid, *fts_cols, exact, year, title_sort, digital, payload, codes in conn.execute(
                text(
                    "SELECT d.union_id, t.title, t.authors, t.subjects, t.other, e.exact, d.year, "
                    "d.title_sort, d.has_digital, d.doc, f.codes FROM search_doc d "
                    "JOIN search_fts t ON t.rowid = d.union_id JOIN search_exact e ON e.rowid = d.union_id "
                    "JOIN search_filter f ON f.union_id = d.union_id"
                )
            )
            for fts in [tuple(fts_cols)]
        }
        expected = {
            uid: (r.fts, r.exact, r.year, r.title_sort, r.has_digital, r.payload, r.codes)
            for uid, r in _rebuilt_rows(conn).items()
        }
    assert stored == expected
    return stored


def test_a_labelled_identifier_is_an_identifier_query() -> None:
    assert parse("ISBN 0-13-110362-8").isbn == "9780131103627"
    assert parse("e-ISBN: 9780131103627").isbn == "9780131103627"
    assert parse("ISSN 0028-0836").issn == "0028-0836"
    # the label alone, or with words, is searched as words
    assert parse("isbn").terms == ["isbn"] and parse("isbn").isbn is None
    assert parse("ISBN handbook").terms == ["isbn", "handbook"]
    # a number whose check digit is wrong is looked up as printed (records carry such ISBNs), never
    # normalised as if it were a valid ISBN
    assert parse("ISBN 0-13-110362-9").isbn == "0131103629"


def test_an_isbn_printed_with_a_wrong_check_digit_finds_its_record(tmp_path: Path) -> None:
    """A book whose ISBN was printed with a wrong check digit is found by that ISBN as the reader
    copies it, with or without hyphens or a label; it is never shown as the edition's ISBN, and a
    valid ISBN still finds only its own edition."""
    from pymarc import Field, MARCReader, Subfield

    from catalog.libraries import add_library

    with open(VIETNAMESE, "rb") as fh:
        records = [
            r for _, r in zip(range(3), MARCReader(fh, to_unicode=True, force_utf8=True), strict=False)
        ]
    wrong, valid = records[0], records[1]
    for record in (wrong, valid):
        record.remove_fields("020")
    wrong.add_ordered_field(Field("020", [" ", " "], [Subfield("a", "0-306-40615-3 (pbk.)")]))  # check: 2
    valid.add_ordered_field(Field("020", [" ", " "], [Subfield("a", "0-306-40615-2")]))
    path = tmp_path / "isbns.mrc"
    path.write_bytes(b"".join(r.as_marc() for r in records))
    engine = db.make_engine(f"sqlite:///{tmp_path / 'catalogue.db'}")
    db.upgrade(engine)
    with db.session_scope(engine) as session:
        add_library(session, "LIB-A", "Thư viện A")
    ingest_file(engine, "LIB-A", path)
    title_of = {search(engine, q=r["245"]["a"]).hits[0].id: r for r in (wrong, valid)}  # type: ignore[attr-defined]
    wrong_id = next(uid for uid, r in title_of.items() if r is wrong)
    valid_id = next(uid for uid, r in title_of.items() if r is valid)
    for typed in ("0306406153", "0-306-40615-3", "ISBN 0-306-40615-3", "isbn: 0306406153"):
        result = search(engine, q=typed)
        assert [h.id for h in result.hits] == [wrong_id], typed  # type: ignore[attr-defined]
        assert result.hits[0].isbns == []  # type: ignore[attr-defined]
    for typed in ("0306406152", "978-0-306-40615-7"):
        assert [h.id for h in search(engine, q=typed).hits] == [valid_id], typed  # type: ignore[attr-defined]
    assert parse("0306406153").isbn == "0306406153" and parse("0306406152").isbn == "9780306406157"
    assert parse("1234 5678 90 x").isbn is None  # not ISBN-shaped: words
    engine.dispose()


def test_a_subtitle_the_title_shows_is_searched_once() -> None:
    from catalog.search.rows import with_search_text

    def folded(title: str, subtitle: str | None) -> str:
        doc = {"title": title, "subtitle": subtitle, "authors": [], "subjects": [], "publisher": None}
        doc.update(series=[], classification=[], isbns=[], issns=[])
        return str(with_search_text(doc)["title_folded"])

    # "business planning" must not be a phrase of this title (it was: "... business planning for ...")
    shown = folded("Dollars & sense : planning for profit in your child care business", "planning for profit")
    assert shown == "dollars sense planning for profit in your child care business"
    assert folded("Dollars & sense", "planning for profit") == "dollars sense planning for profit"
    assert folded("Dollars & sense", None) == "dollars sense"


def _rebuilt_rows(conn: Connection) -> dict[int, embedded.IndexRows]:
    """The embedded index's rows of every union record, built again from the catalogue."""
    from catalog.search.documents import all_union_ids, documents

    return {d["id"]: embedded.index_rows(d) for ids in all_union_ids(conn) for d in documents(conn, ids)[0]}


def test_full_text_rows_follow_what_changes_and_stay_whole_where_nothing_does(tmp_path: Path) -> None:
    """A union record that takes a member of another library keeps its full-text rows when its words
    stay the same (only its holdings change), and has them written again when they do not: either way
    the index answers as one rebuilt from the documents, and FTS5 finds its index whole."""
    from pymarc import Field, MARCReader, Subfield

    engine = shared_catalogue(tmp_path, {"VNU-LIC": lambda i: i < 60, "HUST-LIB": lambda i: i < 60})

    def index_is_the_documents() -> None:
        with engine.connect() as conn:
            for table in ("search_fts", "search_exact"):
                conn.exec_driver_sql(f"INSERT INTO {table}({table}) VALUES ('integrity-check')")
            stored = {
                uid: (tuple(fts), exact)
                for uid, *fts, exact in conn.execute(
                    text(
                        "SELECT t.rowid, t.title, t.authors, t.subjects, t.other, e.exact FROM search_fts t "
                        "JOIN search_exact e ON e.rowid = t.rowid"
                    )
                )
            }
            expected = {uid: (rows.fts, rows.exact) for uid, rows in _rebuilt_rows(conn).items()}
        assert stored == expected

    index_is_the_documents()
    both = search(engine, q="", libraries=["HUST-LIB"], per_page=1).total  # type: ignore[attr-defined]
    assert both == search(engine, q="", libraries=["VNU-LIC"], per_page=1).total > 40  # type: ignore[attr-defined]
    # One library's copy of a record gets a new subject: its union record (of both libraries) keeps
    # its members and its id, and its words change.
    with open(tmp_path / "HUST-LIB.mrc", "rb") as fh:
        record = next(iter(MARCReader(fh, to_unicode=True, force_utf8=True)))
    assert record is not None
    record.add_field(Field("650", [" ", "0"], [Subfield("a", "Zyxwvut quasquillion")]))
    changed = tmp_path / "changed.mrc"
    changed.write_bytes(record.as_marc())
    with engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM union_record")).scalar_one()
    ingest_file(engine, "HUST-LIB", changed)
    index_is_the_documents()
    found = search(engine, q="zyxwvut quasquillion", libraries=["VNU-LIC"])
    assert found.total == 1 and found.hits[0].library_count == 2  # type: ignore[attr-defined]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM union_record")).scalar_one() == before


def test_union_records_that_members_join_are_indexed_with_the_holdings_of_all_their_members(
    tmp_path: Path,
) -> None:
    """A union record that new records of another library join is indexed from its indexed holdings
    plus theirs: the documents, facet codes and searches are those of documents built again from
    every member, library after library (the last with several items per record, and a subject the
    others lack on some: a description that changes as well)."""
    from pymarc import Field, MARCReader, Subfield

    items = tmp_path / "items.mrc"
    with open(VIETNAMESE, "rb") as fh, open(items, "wb") as out:
        for i, record in enumerate(MARCReader(fh, to_unicode=True, force_utf8=True)):
            if record is not None and i % 2 == 0:
                for n in range(1 + i % 3):
                    record.add_field(
                        Field("952", [" ", " "], [Subfield("a", "HUST"), Subfield("p", f"B{i}-{n}")])
                    )
                if i % 4 == 0:  # its union record's description changes too
                    record.add_field(Field("650", [" ", "0"], [Subfield("a", "Zyxwvut quasquillion")]))
                out.write(record.as_marc())
    shares = {"VNU-LIC": lambda i: i < 300, "NEU-LIB": lambda i: i % 3 == 0, "HNUE-LIB": lambda i: i % 5 != 1}
    engine = shared_catalogue(tmp_path, shares, [("HUST-LIB", "Thư viện HUST", "koha", items)])
    held = [orjson.loads(str(rows[5]))["holdings"] for rows in _indexed_rows(engine).values()]
    assert sum(len(h) == 4 for h in held) >= 30  # joined by three libraries after the first
    assert {h.get("HUST-LIB") for h in held} == {None, 1, 2, 3}
    hust = search(engine, q="", libraries=["HUST-LIB"], per_page=1).total  # type: ignore[attr-defined]
    assert hust == sum("HUST-LIB" in h for h in held)
    added = search(engine, q="zyxwvut quasquillion", libraries=["NEU-LIB"], per_page=1).total  # type: ignore[attr-defined]
    assert added == len(range(0, 529, 12))
