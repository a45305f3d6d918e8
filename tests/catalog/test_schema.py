"""Migrations and model constraints on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from catalog import db
from catalog.db import session_scope
from catalog.libraries import (
    DuplicateLibrary,
    LibraryError,
    UnknownLibrary,
    add_library,
    get_library,
    list_libraries,
    normalise_code,
    update_library,
)
from catalog.models import Library, SourceRecord

TABLES = {
    "library",
    "source_record",
    "holding",
    "record_key",
    "union_record",
    "match_decision",
    "ingest_job",
    "job_rejection",
    "union_tombstone",
}


def test_migrations_upgrade_an_empty_database(db_url: str) -> None:
    engine = db.make_engine(db_url)
    assert db.current_revision(engine) is None
    with pytest.raises(db.SchemaOutOfDate, match="db upgrade"):
        db.require_current_schema(engine)
    db.upgrade(engine)
    assert db.current_revision(engine) == db.head_revision()
    assert set(inspect(engine).get_table_names()) >= TABLES
    indexes = {ix["name"] for ix in inspect(engine).get_indexes("record_key")}
    assert "ix_record_key_identifier" in indexes
    db.require_current_schema(engine)
    db.downgrade(engine, "base")
    assert not TABLES & set(inspect(engine).get_table_names())
    db.upgrade(engine)  # and up again
    assert set(inspect(engine).get_table_names()) >= TABLES
    engine.dispose()


def test_duplicate_library_code_is_rejected_clearly(engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        add_library(session, "vnu-lic", "Trung tâm Thư viện ĐHQGHN")
    with (
        pytest.raises(DuplicateLibrary, match="library VNU-LIC already exists"),
        session_scope(engine) as session,
    ):
        add_library(session, "VNU-LIC", "again")
    # the database itself enforces it too
    with pytest.raises(IntegrityError), Session(engine) as session:
        session.add(Library(code="VNU-LIC", name_vi="bypass"))
        session.commit()


def test_library_rules(engine) -> None:  # type: ignore[no-untyped-def]
    assert normalise_code(" vnu-lic ") == "VNU-LIC"
    for bad in ("", "A", "VNU LIC", "VNU--LIC", "THIS-CODE-IS-TOO-LONG", "Đ-LIB"):
        with pytest.raises(LibraryError):
            normalise_code(bad)
    with session_scope(engine) as session:
        with pytest.raises(LibraryError, match="unknown holdings profile"):
            add_library(session, "HUST-LIB", "Tạ Quang Bửu", holdings_profile="aleph")
        with pytest.raises(LibraryError, match=r"\{id\}"):
            add_library(session, "HUST-LIB", "Tạ Quang Bửu", opac_url_pattern="https://opac/record/")
        with pytest.raises(LibraryError, match="needs a name"):
            add_library(session, "HUST-LIB", "  ")
    with session_scope(engine) as session:
        add_library(session, "HUST-LIB", "Thư viện Tạ Quang Bửu", city="Hà Nội", holdings_profile="koha")
    with session_scope(engine) as session:
        update_library(session, "hust-lib", opac_url_pattern="https://opac.hust.edu.vn/record/{id}")
    with session_scope(engine) as session:
        library = get_library(session, "HUST-LIB")
        assert library.name_vi == "Thư viện Tạ Quang Bửu" and library.opac_url_pattern.endswith("{id}")
        assert [lib.code for lib in list_libraries(session)] == ["HUST-LIB"]
        with pytest.raises(UnknownLibrary):
            get_library(session, "NOPE")


def test_source_record_unique_per_library_and_local_id(engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        library = add_library(session, "VNU-LIC", "VNU")
        library_id = library.id
    row = {"library_id": library_id, "local_id": "1", "raw_format": "iso2709", "raw": b"x", "checksum": "c"}
    with Session(engine) as session:
        session.add(SourceRecord(**row, fields={}))
        session.commit()
    with pytest.raises(IntegrityError), Session(engine) as session:
        session.add(SourceRecord(**row, fields={}))
        session.commit()


def test_sqlite_runs_in_wal_with_foreign_keys(sqlite_engine) -> None:  # type: ignore[no-untyped-def]
    with sqlite_engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_new_sqlite_catalogues_use_16_kib_pages_and_older_ones_keep_theirs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A new file gets db.SQLITE_PAGE_SIZE; a catalogue created with 4 KiB pages keeps them (the page
    size of a WAL database cannot change). Either way the WAL is checkpointed at 64 MiB."""
    import sqlite3

    old = tmp_path / "old.db"
    with sqlite3.connect(old) as conn:
        conn.execute("PRAGMA page_size=4096")
        conn.execute("CREATE TABLE t (x)")
    for path, page_size in ((tmp_path / "new.db", 16384), (old, 4096)):
        engine = db.make_engine(f"sqlite:///{path}")
        db.upgrade(engine)
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA page_size")).scalar() == page_size
            checkpoint = conn.execute(text("PRAGMA wal_autocheckpoint")).scalar()
            assert checkpoint * page_size == db.WAL_CHECKPOINT_BYTES
        engine.dispose()


_SOMETIMES_EMPTY = ("ix_source_record_union_record_id", "ix_source_record_library_oai")


def _index_definitions(engine) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index'")
        else:
            rows = conn.exec_driver_sql(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'source_record'"
            )
        return {name: sql.upper() for name, sql in rows if name in _SOMETIMES_EMPTY}


def test_source_records_without_a_union_or_oai_identifier_are_not_indexed(engine) -> None:  # type: ignore[no-untyped-def]
    """Migration 0009: partial indexes, and back to full ones on downgrade."""
    definitions = _index_definitions(engine)
    assert set(definitions) == set(_SOMETIMES_EMPTY)
    assert all("WHERE" in sql and "IS NOT NULL" in sql for sql in definitions.values())
    db.downgrade(engine, "0008")
    assert not any("WHERE" in sql for sql in _index_definitions(engine).values())
    db.upgrade(engine)
    assert all("WHERE" in sql for sql in _index_definitions(engine).values())


@pytest.mark.parametrize(
    ("query", "index"),
    [
        ("SELECT id FROM source_record WHERE union_record_id IN (1, 2, 3)", "union_record_id"),
        ("SELECT id FROM source_record WHERE union_record_id = 5 AND status = 'active'", "union_record_id"),
        (
            "SELECT s.id FROM union_record u JOIN source_record s ON s.union_record_id = u.id "
            "WHERE u.title_key = 'x'",
            "union_record_id",
        ),
        (
            "SELECT id FROM union_record WHERE id NOT IN "
            "(SELECT union_record_id FROM source_record WHERE union_record_id IS NOT NULL)",
            "union_record_id",
        ),
        ("SELECT id FROM source_record WHERE library_id = 1 AND oai_identifier IN ('a', 'b')", "library_oai"),
        ("SELECT id FROM source_record WHERE library_id = 1 AND oai_identifier IS NOT NULL", "library_oai"),
    ],
)
def test_lookups_by_union_record_or_oai_identifier_use_the_partial_indexes(
    sqlite_engine, query: str, index: str
) -> None:  # type: ignore[no-untyped-def]
    """The forms of lookup the code uses (catalog/dedup, catalog/lookup.py, catalog/store.py): each
    implies the column is not empty, so SQLite takes the partial index."""
    with sqlite_engine.connect() as conn:
        plan = " ".join(row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + query))
    assert f"ix_source_record_{index}" in plan


def test_embedded_index_keeps_16_mb_of_pending_terms(sqlite_engine) -> None:  # type: ignore[no-untyped-def]
    """FTS5's own setting, stored in each table's _config: one segment written per 16 MB of new terms
    instead of per 1 MB (migration 0007), and back to FTS5's default on downgrade."""

    def sizes() -> dict[str, int | None]:
        with sqlite_engine.connect() as conn:
            return {
                table: conn.exec_driver_sql(f"SELECT v FROM {table}_config WHERE k = 'hashsize'").scalar()
                for table in ("search_fts", "search_exact")
            }

    assert sizes() == {"search_fts": 16 << 20, "search_exact": 16 << 20}
    db.downgrade(sqlite_engine, "0006")
    assert sizes() == {"search_fts": 1 << 20, "search_exact": 1 << 20}
    db.upgrade(sqlite_engine)
    assert sizes() == {"search_fts": 16 << 20, "search_exact": 16 << 20}


def test_migration_0013_keeps_jobs_and_what_refers_to_them(db_url: str) -> None:
    """Jobs of no library (reindex, dedup-rebuild) become possible without rebuilding the job table:
    existing jobs, their rejections and the records they brought keep their rows, both ways."""
    engine = db.make_engine(db_url)
    db.upgrade(engine, "0012")
    with engine.begin() as conn:  # as the library table was in 0012 (later ones add columns)
        conn.execute(
            text(
                "INSERT INTO library (code, name_vi, active, holdings_profile, created_at, updated_at)"
                " VALUES ('LIB-A', 'Thư viện A', true, 'auto', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO ingest_job (library_id, source, mode, status, created_at, read, added, updated,"
                " unchanged, deleted, rejected, warnings) SELECT id, 'cli', 'update', 'succeeded',"
                " CURRENT_TIMESTAMP, 1, 0, 0, 0, 0, 1, 0 FROM library"
            )
        )
        conn.execute(
            text(
                "INSERT INTO job_rejection (job_id, record_number, reason)"
                " SELECT id, 1, 'bad' FROM ingest_job"
            )
        )
    db.upgrade(engine)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM job_rejection")).scalar_one() == 1
        assert conn.execute(text("SELECT attempts FROM ingest_job")).scalar_one() == 0
        conn.execute(
            text(
                "INSERT INTO ingest_job (source, mode, status, created_at, read, added, updated, unchanged,"
                " deleted, rejected, warnings, attempts) VALUES ('reindex', 'update', 'queued',"
                " CURRENT_TIMESTAMP, 0, 0, 0, 0, 0, 0, 0, 0)"
            )
        )
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
    db.downgrade(engine, "0012")
    with engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM ingest_job")).scalar_one() == 1  # the reindex left
        assert conn.execute(text("SELECT count(*) FROM job_rejection")).scalar_one() == 1
        with pytest.raises(IntegrityError), conn.begin_nested():
            conn.execute(
                text(
                    "INSERT INTO ingest_job (source, mode, status, created_at, read, added, updated,"
                    " unchanged, deleted, rejected, warnings) VALUES ('cli', 'update', 'queued',"
                    " CURRENT_TIMESTAMP, 0, 0, 0, 0, 0, 0, 0)"
                )
            )
    db.upgrade(engine)
    engine.dispose()
