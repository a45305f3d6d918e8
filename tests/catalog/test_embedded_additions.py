"""The facet values and typo words the embedded engine adds in a transaction: held back and written
in order (catalog.search.embedded_additions), they are all in the catalogue once it commits, and
none of a transaction rolled back."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from catalog import db
from catalog.libraries import add_library
from catalog.search import embedded_additions
from catalog.search.embedded import EmbeddedSearchEngine
from catalog.search.embedded_facets import code_of, facet_pairs
from catalog.search.rows import document, index_rows
from harvest.ingest import ingest_file
from tests.conftest import VIETNAMESE


def _doc(union_id: int, subject: str, author: str) -> dict:  # type: ignore[type-arg]
    fields = {
        "title": f"Lịch sử {subject}",
        "authors": [{"name": author, "main": True}],
        "subjects": [subject, "Việt Nam"],
        "languages": ["vie"],
        "year": 1990 + union_id % 30,
    }
    return document(union_id, fields["title"], fields, {"VNU-LIC": 1})  # type: ignore[arg-type]


def _vocabularies(engine: Engine) -> tuple[set[tuple[int, str, str]], set[str]]:
    with engine.connect() as conn:
        values = {tuple(r) for r in conn.execute(text("SELECT id, facet, value FROM search_facet_value"))}
        words = {r[0] for r in conn.execute(text("SELECT word FROM search_typo_word"))}
    return values, words  # type: ignore[return-value]


def _expected(docs: list[dict]) -> tuple[set[tuple[int, str, str]], set[str]]:  # type: ignore[type-arg]
    values = {(code_of(facet, value), facet, value) for d in docs for facet, value in facet_pairs(d)}
    words = {w for d in docs for w in index_rows(d).words}
    return values, words


@pytest.mark.parametrize("held", [3, 1000])
def test_every_value_and_word_is_there_once_the_transaction_commits(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch, held: int
) -> None:
    monkeypatch.setattr(embedded_additions, "HELD", held)  # written on the way, or all at the commit
    search = EmbeddedSearchEngine(sqlite_engine)
    docs = [_doc(n, f"chủ đề {n % 17}", f"Tác giả {n}") for n in range(1, 60)]
    with db.writing(sqlite_engine) as conn:
        for part in db.chunks(docs, 7):
            search.upsert(conn, part)
    assert _vocabularies(sqlite_engine) == _expected(docs)


def test_a_transaction_rolled_back_adds_nothing_even_on_the_same_connection(sqlite_engine: Engine) -> None:
    search = EmbeddedSearchEngine(sqlite_engine)
    lost = [_doc(n, f"bỏ đi {n}", f"Người viết {n}") for n in range(1, 20)]
    kept = [_doc(n, f"giữ lại {n}", f"Soạn giả {n}") for n in range(20, 40)]
    with sqlite_engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn:
        with pytest.raises(RuntimeError), conn.begin():
            search.upsert(conn, lost)
            raise RuntimeError("the job fails")
        with conn.begin():
            search.upsert(conn, kept)
    assert _vocabularies(sqlite_engine) == _expected(kept)


def test_an_ingest_job_leaves_the_same_vocabularies_however_many_are_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = []
    for held in (5, 1_000_000):
        monkeypatch.setattr(embedded_additions, "HELD", held)
        engine = db.make_engine(f"sqlite:///{tmp_path / f'held-{held}.db'}")
        db.upgrade(engine)
        with db.session_scope(engine) as session:
            add_library(session, "VNU-LIC", "Trung tâm Thông tin - Thư viện")
        ingest_file(engine, "VNU-LIC", VIETNAMESE)
        found.append(_vocabularies(engine))
        engine.dispose()
    assert found[0] == found[1]
    assert len(found[0][0]) > 100 and len(found[0][1]) > 100
