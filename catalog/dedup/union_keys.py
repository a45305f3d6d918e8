"""Blocking keys and match state by union record (tables union_key and union_state, migration 0011)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import Connection, delete

from catalog.db import chunks, placeholder, rows_in
from catalog.dedup.keys import BLOCKING_KINDS, Key
from catalog.models import UnionKey, UnionState

UKEY = UnionKey.__table__  # type: ignore[attr-defined]
USTATE = UnionState.__table__  # type: ignore[attr-defined]

_KINDS = ", ".join(f"'{kind}'" for kind in BLOCKING_KINDS)


def holders(conn: Connection, keys: Iterable[Key]) -> dict[Key, dict[int, int]]:
    """For each of ``keys`` held by some union record: union record id -> how many members hold it."""
    by_kind: dict[str, list[str]] = defaultdict(list)
    for kind, value in set(keys):
        by_kind[kind].append(value)
    out: dict[Key, dict[int, int]] = defaultdict(dict)
    for kind, values in sorted(by_kind.items()):
        sql = "SELECT value, union_record_id, members FROM union_key WHERE kind = {mark} AND value IN ({ids})"
        for value, union_id, members in rows_in(conn, sql, sorted(values), before=(kind,)):
            out[(kind, value)][union_id] = members
    return out


def add(conn: Connection, rows: list[tuple[str, str, int]]) -> None:
    """One more member of each union record holds each key: (kind, value, union record id) rows."""
    if not rows:
        return
    mark = placeholder(conn)
    conn.exec_driver_sql(
        f"INSERT INTO union_key (kind, value, union_record_id, members) VALUES ({mark}, {mark}, {mark}, 1) "
        "ON CONFLICT (kind, value, union_record_id) DO UPDATE SET members = union_key.members + 1",
        rows,
    )


def refresh(conn: Connection, union_ids: Iterable[int]) -> None:
    """Keys of these union records taken again from their active members; their states forgotten
    (each is built again from its members when a new record is next matched against it)."""
    ids = sorted(set(union_ids))
    mark = placeholder(conn)
    for part in chunks(ids):
        marks = ", ".join([mark] * len(part))
        conn.execute(delete(USTATE).where(USTATE.c.union_record_id.in_(part)))
        conn.execute(delete(UKEY).where(UKEY.c.union_record_id.in_(part)))
        conn.exec_driver_sql(
            "INSERT INTO union_key (kind, value, union_record_id, members) "
            # members first (by their union record), then their keys: CROSS JOIN keeps SQLite to that
            "SELECT k.kind, k.value, s.union_record_id, count(*) FROM source_record s "
            "CROSS JOIN record_key k WHERE k.source_record_id = s.id "
            f"AND s.union_record_id IN ({marks}) AND s.status = 'active' AND k.kind IN ({_KINDS}) "
            "GROUP BY k.kind, k.value, s.union_record_id",
            tuple(part),
        )


def refresh_all(conn: Connection) -> None:
    """Every union record's keys taken again from its members, every state forgotten."""
    conn.execute(delete(USTATE))
    conn.execute(delete(UKEY))
    conn.exec_driver_sql(
        "INSERT INTO union_key (kind, value, union_record_id, members) "
        "SELECT k.kind, k.value, s.union_record_id, count(*) FROM record_key k "
        "JOIN source_record s ON s.id = k.source_record_id "
        f"WHERE s.union_record_id IS NOT NULL AND s.status = 'active' AND k.kind IN ({_KINDS}) "
        "GROUP BY k.kind, k.value, s.union_record_id"
    )


def load_states(conn: Connection, union_ids: Iterable[int]) -> dict[int, str]:
    sql = "SELECT union_record_id, state FROM union_state WHERE union_record_id IN ({ids})"
    return dict(rows_in(conn, sql, sorted(set(union_ids))))  # type: ignore[arg-type]


def save_states(conn: Connection, states: dict[int, str]) -> None:
    if not states:
        return
    mark = placeholder(conn)
    conn.exec_driver_sql(
        f"INSERT INTO union_state (union_record_id, state) VALUES ({mark}, {mark}) "
        "ON CONFLICT (union_record_id) DO UPDATE SET state = excluded.state",
        sorted(states.items()),
    )
