"""Keeping the analytics' summary tables current.

Triggers (migration 0018) log the id of every union record whose members or merged fields change,
on every path that changes them. :func:`refresh` reads that log and, for each union record in it,
compares what the summary tables say of it (:data:`~catalog.analytics.tables.UNION`: who holds it,
its dimensions) with what the catalogue says now, and applies only the difference to the counts and
the overlap matrix. A job that touched a thousand union records costs a thousand small lookups,
whatever the size of the catalogue. When most of the catalogue changed (a dedup rebuild, the first
refresh after the migration), everything is computed again from scratch instead.

A worker calls :func:`refresh_quietly` after each job it runs, and when idle if changes wait (jobs
run from the command line, which refreshes after its own jobs too); ``unioncat analytics refresh``
calls :func:`refresh`. A job's time and status never wait for it. Two refreshes never run at once:
SQLite has one writer, and on PostgreSQL the refresh locks the state row first. A refresh deletes
only the log rows it read, so a change committed meanwhile by a job is left for the next refresh.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.engine import Engine

from catalog.analytics.dimensions import DIMENSIONS, dimensions_of
from catalog.analytics.tables import CHANGE, CONSORTIUM, COUNT, HOLDERS, OVERLAP, STATE, UNION
from catalog.db import as_utc, chunks, placeholder, rows_in, writing
from catalog.models import UnionRecord, utcnow

log = logging.getLogger("unioncat.analytics")
UNION_RECORD = UnionRecord.__table__  # type: ignore[attr-defined]
BATCH = 2000
FULL_SHARE = 0.5  # more union records changed than this share of those known: compute from scratch
VALUE_LENGTH = 64


@dataclass(frozen=True)
class Held:
    """What the summary tables keep of one union record: who holds it and its dimensions."""

    libraries: tuple[int, ...]
    dimensions: Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class Refreshed:
    """What a refresh did: the union records it looked at, whether from scratch, how long it took."""

    union_records: int
    full: bool
    seconds: float


@dataclass(frozen=True)
class Status:
    """How current the figures are: when last refreshed, and whether changes wait for a refresh."""

    refreshed_at: datetime | None
    pending: bool
    full_needed: bool


class Deltas:
    """Changes to the counts and to the overlap matrix, summed before they are written."""

    def __init__(self) -> None:
        self.counts: dict[tuple[int, str, str], list[int]] = defaultdict(lambda: [0, 0])
        self.overlap: dict[tuple[int, int], int] = defaultdict(int)

    def add(self, held: Held, sign: int) -> None:
        """Count ``held`` in (``sign`` 1) or out (-1): for the consortium and each member holding it,
        under the number of its holders and under each of its dimensions' values ('' for none)."""
        libraries = held.libraries
        n = len(libraries)
        if not n:
            return
        only = sign if n == 1 else 0
        keys = [(HOLDERS, str(n))]
        for name in DIMENSIONS:
            keys.extend((name, value[:VALUE_LENGTH]) for value in (held.dimensions.get(name) or [""]))
        counts = self.counts
        for scope in (CONSORTIUM, *libraries):
            for dimension, value in keys:
                entry = counts[(scope, dimension, value)]
                entry[0] += sign
                entry[1] += only
        overlap = self.overlap
        for i, a in enumerate(libraries):
            for b in libraries[i:]:
                overlap[(a, b)] += sign


# ------------------------------------------------------------------------------- reading the catalogue
def held_now(conn: Connection, union_ids: Sequence[int]) -> dict[int, Held]:
    """What the catalogue says now of ``union_ids``: the union records that exist and are held."""
    holders: dict[int, set[int]] = defaultdict(set)
    for union_id, library_id in rows_in(
        conn,
        "SELECT union_record_id, library_id FROM source_record "
        "WHERE status = 'active' AND union_record_id IN ({ids})",
        union_ids,
    ):
        holders[union_id].add(library_id)
    if not holders:
        return {}
    out = {}
    for union_id, fields in rows_in(
        conn, "SELECT id, fields FROM union_record WHERE id IN ({ids})", list(holders)
    ):
        data = orjson.loads(fields) if isinstance(fields, (str, bytes)) else fields
        out[union_id] = Held(tuple(sorted(holders[union_id])), dimensions_of(data))
    return out


def held_before(conn: Connection, union_ids: Sequence[int]) -> dict[int, Held]:
    """What the summary tables say of ``union_ids``."""
    rows = rows_in(
        conn,
        "SELECT union_record_id, libraries, dimensions FROM analytics_union WHERE union_record_id IN ({ids})",
        union_ids,
    )
    return {uid: Held(tuple(orjson.loads(libs)), orjson.loads(dims)) for uid, libs, dims in rows}


# ------------------------------------------------------------------------------- writing the tables
def _write_unions(conn: Connection, gone: Iterable[int], held: Mapping[int, Held]) -> None:
    for part in chunks(sorted(set(gone) | set(held))):
        conn.execute(delete(UNION).where(UNION.c.union_record_id.in_(part)))
    rows = [
        {
            "union_record_id": union_id,
            "libraries": orjson.dumps(h.libraries).decode(),
            "library_count": len(h.libraries),
            "sole_library_id": h.libraries[0] if len(h.libraries) == 1 else None,
            "dimensions": orjson.dumps(h.dimensions).decode(),
        }
        for union_id, h in held.items()
    ]
    for part in chunks(rows, 5000):
        conn.execute(insert(UNION), list(part))


def _write_deltas(conn: Connection, deltas: Deltas) -> None:
    mark = placeholder(conn)
    counts = [(s, d, v, n, u) for (s, d, v), (n, u) in deltas.counts.items() if n or u]
    if counts:
        conn.exec_driver_sql(
            "INSERT INTO analytics_count (scope, dimension, value, titles, unique_titles) "
            f"VALUES ({mark}, {mark}, {mark}, {mark}, {mark}) ON CONFLICT (scope, dimension, value) "
            "DO UPDATE SET titles = analytics_count.titles + excluded.titles, "
            "unique_titles = analytics_count.unique_titles + excluded.unique_titles",
            counts,  # type: ignore[arg-type]
        )
        conn.execute(delete(COUNT).where(COUNT.c.titles == 0, COUNT.c.unique_titles == 0))
    pairs = [(a, b, n) for (a, b), n in deltas.overlap.items() if n]
    if pairs:
        conn.exec_driver_sql(
            "INSERT INTO analytics_overlap (library_a, library_b, titles) "
            f"VALUES ({mark}, {mark}, {mark}) ON CONFLICT (library_a, library_b) "
            "DO UPDATE SET titles = analytics_overlap.titles + excluded.titles",
            pairs,  # type: ignore[arg-type]
        )
        conn.execute(delete(OVERLAP).where(OVERLAP.c.titles == 0))


# ------------------------------------------------------------------------------- refreshing
def apply_changes(conn: Connection, union_ids: Iterable[int]) -> int:
    """Bring the summary tables up to date for ``union_ids``; how many of them had changed."""
    ids = sorted(set(union_ids))
    changed = 0
    for part in chunks(ids, BATCH):
        before = held_before(conn, part)
        now = held_now(conn, part)
        deltas = Deltas()
        differ = [u for u in part if before.get(u) != now.get(u)]
        for union_id in differ:
            if union_id in before:
                deltas.add(before[union_id], -1)
            if union_id in now:
                deltas.add(now[union_id], 1)
        _write_unions(conn, [u for u in differ if u not in now], {u: now[u] for u in differ if u in now})
        _write_deltas(conn, deltas)
        changed += len(differ)
    return changed


def _all_union_ids(conn: Connection) -> Iterator[list[int]]:
    last = 0
    while True:
        ids = list(
            conn.execute(
                select(UNION_RECORD.c.id)
                .where(UNION_RECORD.c.id > last)
                .order_by(UNION_RECORD.c.id)
                .limit(BATCH)
            ).scalars()
        )
        if not ids:
            return
        yield ids
        last = ids[-1]


def compute_all(conn: Connection) -> int:
    """Empty the summary tables and compute them from the whole catalogue; the union records held."""
    for table in (UNION, COUNT, OVERLAP):
        conn.execute(delete(table))
    deltas = Deltas()
    held_total = 0
    for part in _all_union_ids(conn):
        now = held_now(conn, part)
        for held in now.values():
            deltas.add(held, 1)
        _write_unions(conn, (), now)
        held_total += len(now)
    _write_deltas(conn, deltas)
    return held_total


def _lock_state(conn: Connection) -> tuple[bool, int]:
    """Lock the state row (PostgreSQL: one refresh at a time); (full computation needed, union
    records known to the summary tables)."""
    query = select(STATE.c.full_needed).where(STATE.c.id == 1)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    full_needed = conn.execute(query).scalar_one()
    known = conn.execute(select(func.count()).select_from(UNION)).scalar_one()
    return bool(full_needed), int(known)


def refresh(engine: Engine, full: bool = False) -> Refreshed:
    """Bring the summary tables up to date with the catalogue (see the module's docstring);
    ``full``: compute them from scratch whatever changed."""
    start = time.perf_counter()
    with writing(engine) as conn:
        full_needed, known = _lock_state(conn)
        log_rows = conn.execute(select(CHANGE.c.id, CHANGE.c.union_record_id)).all()
        union_ids = {union_id for _id, union_id in log_rows}
        full = full or full_needed or len(union_ids) > max(FULL_SHARE * known, BATCH)
        processed = compute_all(conn) if full else apply_changes(conn, union_ids)
        for part in chunks([row_id for row_id, _u in log_rows], 5000):
            conn.execute(delete(CHANGE).where(CHANGE.c.id.in_(part)))
        seconds = time.perf_counter() - start
        conn.execute(
            update(STATE)
            .where(STATE.c.id == 1)
            .values(full_needed=False, refreshed_at=utcnow(), seconds=seconds, union_records=processed)
        )
    return Refreshed(processed, full, time.perf_counter() - start)


def refresh_quietly(engine: Engine) -> Refreshed | None:
    """:func:`refresh` after a job: a failure is logged, never the job's (the log keeps the changes,
    and the next refresh takes them)."""
    try:
        return refresh(engine)
    except Exception:
        log.exception("the analytics could not be refreshed; 'unioncat analytics refresh' retries")
        return None


def status(conn: Connection) -> Status:
    row = conn.execute(select(STATE.c.refreshed_at, STATE.c.full_needed).where(STATE.c.id == 1)).one()
    pending = conn.execute(select(CHANGE.c.id).limit(1)).first() is not None
    return Status(as_utc(row.refreshed_at), pending or bool(row.full_needed), bool(row.full_needed))
