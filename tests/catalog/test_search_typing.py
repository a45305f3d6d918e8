"""Searching the way readers type: one typo, Telex/VNI keys, đ as dd, i/y spellings, syllables run
together, and the ranking rules (as typed before repaired before typos, diacritics word by word, the
phrase before scattered words). Run against each available engine: the embedded engine always, a
live Meilisearch whenever UNIONCAT_MEILI_URL points at one; the typo index itself is the embedded
engine's."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from catalog import db
from catalog.search import typo_words, typos
from catalog.search.embedded import EmbeddedSearchEngine
from catalog.search.query import QueryError, SearchQuery, SearchResult
from catalog.text import exact_key, fold
from tests.conftest import KOHA, shared_catalogue

MEILI_URL = os.environ.get("UNIONCAT_MEILI_URL")


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = shared_catalogue(
        tmp_path_factory.mktemp("typing"),
        {"VNU-LIC": lambda i: True},
        [("TNU-LRC", "Trung tâm Học liệu", "koha", KOHA)],
    )
    yield engine
    engine.dispose()


@pytest.fixture(scope="module", params=["embedded", "meilisearch"])
def search(request: pytest.FixtureRequest, catalogue: Engine):  # type: ignore[no-untyped-def]
    if request.param == "embedded":
        return EmbeddedSearchEngine(catalogue)
    if not MEILI_URL:
        pytest.skip("no Meilisearch server: set UNIONCAT_MEILI_URL (and UNIONCAT_MEILI_KEY) to run it live")
    from catalog.search.meili import MeiliSearchEngine

    engine = MeiliSearchEngine(MEILI_URL, os.environ.get("UNIONCAT_MEILI_KEY"), index="unioncat_test_typing")
    engine.rebuild(catalogue)
    return engine


def run(search, q: str, **kwargs) -> SearchResult:  # type: ignore[no-untyped-def]
    kwargs.setdefault("per_page", 100)
    return search.search(SearchQuery(q=q, **kwargs))


def texts(catalogue: Engine, result: SearchResult) -> dict[int, str]:
    """Union id -> the title, authors and subjects of each hit, as stored (diacritics kept)."""
    with catalogue.connect() as conn:
        rows = conn.execute(
            text("SELECT id, fields FROM union_record WHERE id IN (SELECT value FROM json_each(:ids))"),
            {"ids": str([h.id for h in result.hits])},
        ).all()
    out = {}
    for uid, fields in rows:
        f = json.loads(fields) if isinstance(fields, str) else fields
        out[uid] = " ".join(
            [f.get("title") or "", f.get("subtitle") or ""]
            + [a["name"] for a in f.get("authors") or []]
            + list(f.get("subjects") or [])
        )
    return out


def ids(result: SearchResult) -> list[int]:
    return [h.id for h in result.hits]


# ---------------------------------------------------------------------------------- matching
def test_one_typo_finds_the_word(search, catalogue: Engine) -> None:  # type: ignore[no-untyped-def]
    meant = run(search, "nguyen ")
    typed = run(search, "nguyn ")
    assert typed.total > 0 and set(ids(typed)) & set(ids(meant))
    assert run(search, "lich su vit nam").total > 0  # a typo in a three-letter syllable, when nothing else
    assert run(search, "truyen ngna").total > 0  # two letters swapped


def test_two_typos_from_nine_letters_and_none_on_the_first(search) -> None:  # type: ignore[no-untyped-def]
    meant = ids(run(search, "mindfulness "))
    assert meant
    assert set(meant) <= set(ids(run(search, "mindflnes ")))  # two letters missing, nine left
    assert set(meant) <= set(ids(run(search, "mendfulnass ")))  # two letters changed
    assert set(meant) <= set(ids(run(search, "mindfulnes ")))  # one missing
    assert run(search, "bindfulness ").total == 0  # the first letter is never a typo
    assert run(search, "path bindfulness ").total == 0


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("nguyeenx", "nguyễn"),
        ("hocj vieenj", "học viện"),
        ("truwowngf ddaij hocj", "trường đại học"),
        ("Vie65t Nam", "Việt Nam"),
        ("ddai hoc", "đại học"),
        ("DDinh", "Đinh"),
    ],
)
def test_telex_vni_and_dd_find_what_they_stand_for(search, typed: str, meant: str) -> None:  # type: ignore[no-untyped-def]
    wanted = set(ids(run(search, meant)))
    assert wanted and wanted <= set(ids(run(search, typed, per_page=100)))


def test_words_typed_apart_find_the_word_run_together(search, catalogue: Engine) -> None:  # type: ignore[no-untyped-def]
    run_together = set(ids(run(search, "hanoi ", per_page=100)))
    apart = run(search, "ha noi ", per_page=100)
    assert run_together and run_together <= set(ids(apart))  # Meilisearch concatenates them too
    found = texts(catalogue, apart)
    # the words as typed (Hà Nội) rank before the word they run together into (Hanoi)
    flags = [" ha noi " in f" {fold(found[i])} " for i in ids(apart)]
    assert flags[0] and not all(flags) and flags == sorted(flags, reverse=True)


def test_i_and_y_spellings_and_joined_syllables(search) -> None:  # type: ignore[no-untyped-def]
    assert set(ids(run(search, "ly luan "))) == set(ids(run(search, "li luan ")))
    assert run(search, "ly luan ").total > 0
    together = set(ids(run(search, "hanoi ")))
    assert set(ids(run(search, "Hà Nội "))) <= together
    assert set(ids(run(search, "Hànội "))) == together


@pytest.mark.parametrize(
    "q",
    ["?!…", ".,;:/", "\u0301\u0300\u0303", " \u0301 viet", "offer", "ass", "hello world", "aaaaaa", "ddd"],
)
def test_bad_input_answers_quickly(search, q: str) -> None:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = run(search, q, per_page=10)
    assert time.perf_counter() - start < 2.0
    assert result.total >= 0 and len(result.hits) <= 10


def test_the_longest_query_answers_quickly_and_a_longer_one_is_refused(search) -> None:  # type: ignore[no-untyped-def]
    words = [
        "nguyeenx",
        "hocj",
        "viet",
        "nam",
        "lich",
        "su",
        "van",
        "hoa",
        "dai",
        "hoc",
        "quoc",
        "gia",
        "offer",
        "ass",
        "1998",
    ]
    q = " ".join(words[i % len(words)] for i in range(200))[:500]
    start = time.perf_counter()
    run(search, q, per_page=10)
    assert time.perf_counter() - start < 5.0
    with pytest.raises(QueryError):
        run(search, "x" * 10_000)


# ----------------------------------------------------------------------------------- ranking
def test_as_typed_ranks_before_another_spelling(search, catalogue: Engine) -> None:  # type: ignore[no-untyped-def]
    result = run(search, "hanoi ")
    flags = ["hanoi" in fold(t).split() for t in (texts(catalogue, result)[i] for i in ids(result))]
    assert flags[0] and not all(flags)  # "Hanoi" first, then records that spell it "Hà Nội"
    assert flags == sorted(flags, reverse=True)


def test_the_phrase_beats_scattered_words(search, catalogue: Engine) -> None:  # type: ignore[no-untyped-def]
    result = run(search, "dai hoc ")
    found = texts(catalogue, result)
    flags = [" dai hoc " in f" {fold(found[i])} " for i in ids(result)]
    assert flags[0] and not all(flags)
    assert flags == sorted(flags, reverse=True)


@pytest.mark.parametrize("q", ["hồ chí minh ", "văn học ", "sử học "])
def test_each_word_typed_with_its_marks_counts(search, catalogue: Engine, q: str) -> None:  # type: ignore[no-untyped-def]
    result = run(search, q)
    found = texts(catalogue, result)
    wanted = exact_key(q).split()
    # how many of the words typed with diacritics each hit spells the same: all, then fewer
    spelled = [sum(w in exact_key(found[i]).split() for w in wanted) for i in ids(result)]
    assert spelled[0] == len(wanted) and len(set(spelled)) > 1
    assert spelled == sorted(spelled, reverse=True)


# ------------------------------------------------------------------------------ did you mean
def test_did_you_mean(catalogue: Engine) -> None:
    search = EmbeddedSearchEngine(catalogue)
    assert run(search, "nguyeenx").did_you_mean == "nguyễn"
    assert run(search, "lich su vit nam ").did_you_mean == "lich su viet nam"
    assert run(search, "nguyn ").did_you_mean == "nguyen"
    assert run(search, "dai hoc").did_you_mean is None  # found as typed
    assert run(search, "zzqqxx").did_you_mean is None  # nothing to offer
    assert run(search, "nguyn ").as_dict()["did_you_mean"] == "nguyen"


# --------------------------------------------------------------------------- the typo index
def copied(catalogue: Engine, where: Path) -> Engine:
    """A copy of the catalogue (SQLite's backup: the write-ahead log included)."""
    target = where / "copy.db"
    with sqlite3.connect(str(catalogue.url.database)) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    return db.make_engine(f"sqlite:///{target}")


def words_in_index(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return {r[0] for r in conn.execute(text(f"SELECT word FROM {typos.TABLE}"))}


def test_the_typo_index_holds_the_words_of_the_index_and_follows_it(catalogue: Engine) -> None:
    with catalogue.connect() as conn:
        rows = conn.execute(text("SELECT title, authors, subjects FROM search_fts")).all()
    expected = typo_words.words_of(value for row in rows for value in row)
    assert words_in_index(catalogue) == expected


def test_the_migration_fills_the_typo_index_of_an_existing_index(catalogue: Engine, tmp_path: Path) -> None:
    engine = copied(catalogue, tmp_path)
    before = words_in_index(engine)
    db.downgrade(engine, "0009")
    db.upgrade(engine)
    assert words_in_index(engine) == before and before
    engine.dispose()


def test_a_rebuild_empties_and_refills_the_typo_index(catalogue: Engine, tmp_path: Path) -> None:
    engine = copied(catalogue, tmp_path)
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO {typos.TABLE} (word) VALUES ('zzqqxx')"))
    before = words_in_index(engine)
    EmbeddedSearchEngine(engine).rebuild(engine)
    assert words_in_index(engine) == before - {"zzqqxx"}
    engine.dispose()


def test_each_process_sees_the_words_added_and_a_rebuilt_list(catalogue: Engine, tmp_path: Path) -> None:
    engine = copied(catalogue, tmp_path)
    search = EmbeddedSearchEngine(engine)
    assert run(search, "zyxwvutsrq ").total == 0
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO {typos.TABLE} (word) VALUES ('zyxwvutsrqp')"))
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert ("zyxwvutsrqp", 1) in typos.candidates(raw, "zyxwvutsrq", 2)  # read since it was added
    search.rebuild(engine)
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert typos.candidates(raw, "zyxwvutsrq", 2) == []  # the rebuilt list is read afresh
        assert ("nguyen", 1) in typos.candidates(raw, "nguyn", 1)
    engine.dispose()


def test_a_search_checks_the_word_list_for_news_without_reading_it(catalogue: Engine) -> None:
    with catalogue.connect() as conn:
        raw = conn.connection.driver_connection
        plan = " ".join(str(row[-1]) for row in raw.execute("EXPLAIN QUERY PLAN " + typos.ID_RANGE))
    assert "SCAN search_typo_word" not in plan and "SEARCH search_typo_word" in plan
