"""Database engines, sessions and schema migrations (Alembic) for SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import DateTime, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlmodel import Session, create_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# A job holds the SQLite write lock for its whole (atomic) run; another writer waits this long.
SQLITE_BUSY_TIMEOUT_S = 60
# A write made for a web request waits at most this long for the lock (see :func:`write_waiting`),
# then gives up with :func:`is_lock_timeout` true: the request answers 503 with Retry-After.
REQUEST_WRITE_WAIT_S = 2.0


# Pages of a new SQLite catalogue (one made before keeps its own: the page size of a WAL database
# cannot change). A source record row, the record as received and its mapped fields, takes about
# 2.2 KB: one fitted on a 4 KiB page, which stayed nearly half empty; seven fit on 16 KiB. The bare
# ingest of 250,000 LoC records: source_record 794 -> 598 MB, the final commit's checkpoint
# 6.1 -> 2.2 s (py-spy). The whole job, one run each minutes apart: 71.7 -> 58.2 s.
SQLITE_PAGE_SIZE = 16384
# A checkpoint (copying the WAL into the database, with its fsyncs) once this much WAL has
# accumulated, not 4 MiB: an OAI-PMH harvest commits every page (several MiB), and at 4 MiB every
# commit ran a checkpoint. 50,000 records harvested: 36.6 s -> 33.6 s (two rounds each).
WAL_CHECKPOINT_BYTES = 64 * 1024 * 1024


class SchemaOutOfDate(RuntimeError):
    """The database has not been migrated to the schema this code needs."""


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout, and its folder is created."""
    sa_url = make_url(url)
    kwargs.setdefault("json_serializer", _json_dumps)
    kwargs.setdefault("json_deserializer", orjson.loads)
    if sa_url.get_backend_name() == "sqlite":
        if sa_url.database and sa_url.database != ":memory:":
            Path(sa_url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    engine = create_engine(url, pool_pre_ping=True, **kwargs)
    if sa_url.get_backend_name() == "postgresql":
        event.listen(engine, "begin", _postgres_on_begin)
    return engine


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy issue BEGIN itself (see _sqlite_on_begin) so that transactions really are atomic.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    # Takes effect only when the file is new (no page written yet); see SQLITE_PAGE_SIZE.
    cur.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    page_size = cur.execute("PRAGMA page_size").fetchone()[0]
    cur.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_BYTES // page_size}")
    cur.execute("PRAGMA cache_size=-65536")  # 64 MiB of page cache: bulk writes touch many index pages
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
    cur.close()


def _sqlite_on_begin(conn: Any) -> None:
    # Writers take the write lock when they begin (see writing()): a transaction that read first and
    # then wants to write could otherwise be refused at once while another writer is at work.
    options = conn.get_execution_options()
    wait_ms = int(options.get("write_wait_ms", SQLITE_BUSY_TIMEOUT_S * 1000))
    info = conn.connection.info  # the pooled connection's own: its busy timeout is set only on change
    if info.get("busy_timeout_ms", SQLITE_BUSY_TIMEOUT_S * 1000) != wait_ms:
        conn.exec_driver_sql(f"PRAGMA busy_timeout={wait_ms}")
        info["busy_timeout_ms"] = wait_ms
    conn.exec_driver_sql(f"BEGIN {options.get('sqlite_begin', 'DEFERRED')}")


def _postgres_on_begin(conn: Any) -> None:
    # A request's write waits for a row lock (a job holds its library's) at most its write_wait_ms.
    wait_ms = conn.get_execution_options().get("write_wait_ms")
    if wait_ms is not None:
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = {int(wait_ms)}")


def write_waiting(engine: Engine, seconds: float = REQUEST_WRITE_WAIT_S) -> Engine:
    """``engine`` (sharing its connections) whose writes wait at most ``seconds`` for another
    writer: SQLite's write lock, which a job holds for its whole run, a PostgreSQL row lock, or the
    turn of the transactions that change union records (see catalog.dedup.clusters.take_turns).
    What the web service writes goes through it, so that no request waits long."""
    return engine.execution_options(write_wait_ms=int(seconds * 1000))


def is_lock_timeout(exc: BaseException) -> bool:
    """Whether ``exc`` is a write that gave up waiting for another writer (see :func:`write_waiting`)."""
    original = getattr(exc, "orig", exc)
    if isinstance(original, sqlite3.OperationalError):
        return "locked" in str(original) or "busy" in str(original)
    return type(original).__name__ in ("LockNotAvailable", "QueryCanceled")


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A connection in a write transaction: committed when the block ends normally, rolled back
    otherwise. On SQLite the write lock is taken at the start (BEGIN IMMEDIATE), waiting for any
    other writer, so the transaction cannot fail half-way because another one wrote meanwhile."""
    with engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn, conn.begin():
        yield conn


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session in a write transaction (see :func:`writing`): committed or rolled back as a whole."""
    with writing(engine) as conn, Session(bind=conn, expire_on_commit=False) as session:
        yield session
        session.flush()


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to ``revision`` (the newest by default)."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def require_current_schema(engine: Engine) -> None:
    """Raise :class:`SchemaOutOfDate` unless the database is at the newest migration."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise SchemaOutOfDate(
            f"the database schema is at {current or 'nothing'}, this version needs {head}: "
            "run 'unioncat db upgrade'"
        )


def placeholder(conn: Any) -> str:
    """The driver's parameter marker: ``?`` for sqlite3, ``%s`` for psycopg."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def chunks(values: Sequence[Any], size: int = 900) -> Iterator[Sequence[Any]]:
    """``values`` in slices of ``size``: IN lists stay under every driver's parameter limit."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


# A SQLite statement of many rows (see :func:`many_rows`) carries at most this many rows and
# parameters (SQLite's limit on parameters is 32,766).
ROWS_PER_STATEMENT = 500
PARAMETERS_PER_STATEMENT = 30000


def many_rows(conn: Any, sql: str, row: str, rows: Sequence[Sequence[Any]]) -> None:
    """Run ``sql`` for each of ``rows``, its ``{rows}`` standing for the rows' placeholders and
    ``row`` being one row's (such as ``(?, ?)``). On SQLite a statement takes a few hundred rows at
    a time; PostgreSQL is given one row per statement, which psycopg pipelines (60,000 records
    written in one statement per 500: 9.5 and 11.4 s of CPU against 7.8 and 8.4 s row by row).

    On SQLite, a statement that might have to undo itself half way (one on a table with triggers)
    first copies each page it is about to change, a whole 16 KiB page, to a statement journal: row
    by row, a page holding seven records was copied seven times. The 250,000-record ingest wrote
    24.7 GB for a 1.5 GB catalogue, 13 GB of them such copies of source_record's pages; a statement
    of 500 rows copies each page once. (A table without triggers is better written row by row: a
    statement of one row checks its foreign keys before it writes and needs no journal at all, one
    of many rows does need it.)"""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.exec_driver_sql(sql.format(rows=row), list(rows))
        return
    size = max(1, min(ROWS_PER_STATEMENT, PARAMETERS_PER_STATEMENT // len(rows[0])))
    for part in chunks(rows, size):
        statement = sql.format(rows=", ".join([row] * len(part)))
        conn.exec_driver_sql(statement, tuple(value for one in part for value in one))


def bind_datetime(conn: Any, value: datetime) -> Any:
    """A datetime as the dialect stores it, for statements handed straight to the driver."""
    to_db = DateTime(timezone=True).dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return to_db(value) if to_db else value


def as_utc(moment: datetime | None) -> datetime | None:
    """A datetime read from the catalogue, with its zone: SQLite hands them back without one, and
    they were stored in UTC."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def allocate_ids(conn: Any, table: str, count: int) -> list[int]:
    """``count`` new ids for rows of ``table`` that the caller inserts with explicit ids, never one
    given before, even to a row deleted since: PostgreSQL draws them from the table's sequence;
    SQLite (a single writer, whose transaction holds the write lock) from ``id_counter``, the highest
    id ever given (or the largest id in the table, should a row have been written by another path)."""
    if count <= 0:
        return []
    if conn.dialect.name == "postgresql":
        rows = conn.exec_driver_sql(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, %s)", (count,)
        )
        return [r[0] for r in rows]
    highest = f"(SELECT coalesce(max(id), 0) FROM {table})"
    conn.exec_driver_sql(
        f"INSERT INTO id_counter (name, last_id) VALUES (?, {highest}) ON CONFLICT (name) DO NOTHING",
        (table,),
    )
    end = conn.exec_driver_sql(
        f"UPDATE id_counter SET last_id = max(last_id, {highest}) + ? WHERE name = ? RETURNING last_id",
        (count, table),
    ).scalar_one()
    return list(range(end - count + 1, end + 1))


def rows_in(conn: Any, sql: str, values: Any, before: tuple[Any, ...] = (), chunk: int = 900) -> list[Any]:
    """Run ``sql`` (with ``{ids}`` where the value list goes) for ``values`` in chunks, on the driver.

    For the hot lookups by long value lists: it skips the statement compilation that large IN lists
    cost in SQLAlchemy. Values (and ``before``, the parameters that come first) travel as bound
    parameters; only placeholders are formatted into the statement.
    """
    mark = placeholder(conn)
    out: list[Any] = []
    for part in chunks(list(values), chunk):
        statement = sql.format(ids=", ".join([mark] * len(part)), mark=mark)
        out.extend(conn.exec_driver_sql(statement, (*before, *part)).all())
    return out
