"""Statements of many rows (catalog.db.many_rows): a few hundred rows each on SQLite, row by row on
PostgreSQL; either way every row written once, or none when one is refused."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from catalog import db

WIDE = 70  # columns: 30,000 parameters hold 428 such rows, fewer than ROWS_PER_STATEMENT


def _wide_table(conn: Connection) -> str:
    """Table ``wide`` of WIDE columns: an id, texts and bytes; returns the column list."""
    texts = [f"c{i}" for i in range(1, WIDE - 1)]
    binary = "BLOB" if conn.dialect.name == "sqlite" else "BYTEA"
    definitions = ", ".join(f"{name} TEXT" for name in texts)
    conn.execute(text(f"CREATE TABLE wide (id INTEGER PRIMARY KEY, {definitions}, payload {binary})"))
    return ", ".join(["id", *texts, "payload"])


@pytest.mark.parametrize("count", [0, 1, 427, 428, 429, 1234])
def test_every_row_is_written_once_with_its_values(engine: Engine, count: int) -> None:
    mark = db.placeholder(engine)
    rows = [
        (n, *(None if (n + i) % 7 == 0 else f"{n}-{i}" for i in range(1, WIDE - 1)), bytes([n % 256]) * 3)
        for n in range(count)
    ]
    with db.writing(engine) as conn:
        columns = _wide_table(conn)
        row = "(" + ", ".join([mark] * WIDE) + ")"
        db.many_rows(conn, f"INSERT INTO wide ({columns}) VALUES {{rows}}", row, rows)
    with engine.connect() as conn:
        got = [(*r[:-1], bytes(r[-1])) for r in conn.execute(text(f"SELECT {columns} FROM wide ORDER BY id"))]
    assert got == rows


def test_a_row_refused_undoes_its_whole_statement_and_the_transaction(engine: Engine) -> None:
    mark = db.placeholder(engine)
    with db.writing(engine) as conn:
        conn.execute(text("CREATE TABLE pairs (id INTEGER PRIMARY KEY, value TEXT NOT NULL)"))
    rows = [(n, f"v{n}") for n in range(1000)]
    rows[750] = (3, "again")  # in the second statement of 500 rows
    with pytest.raises(IntegrityError), db.writing(engine) as conn:
        try:
            db.many_rows(conn, "INSERT INTO pairs (id, value) VALUES {rows}", f"({mark}, {mark})", rows)
        finally:
            if conn.dialect.name == "sqlite":  # (PostgreSQL refuses any statement after the error)
                assert conn.execute(text("SELECT count(*) FROM pairs")).scalar_one() == 500
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM pairs")).scalar_one() == 0
