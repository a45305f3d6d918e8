"""What the catalogue publishes over OAI-PMH: its items, their identifiers, datestamps and sets.

Items are the union records (set ``union``) and the source records of every library (set ``source``,
and ``source:<library>`` for one library), each with a persistent deletion record: a source record's
tombstone, or a union record's row in ``union_tombstone``. Listing walks the items in a stable order
(union records by id, then source records by id), so that a resumption token is just the place
reached: it stays valid however long the harvester takes, and no item is skipped or listed twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, unquote

from sqlalchemy import Connection, func, literal, select, union_all

from catalog.models import Library, SourceRecord, UnionRecord, UnionTombstone

UNION = UnionRecord.__table__  # type: ignore[attr-defined]
TOMB = UnionTombstone.__table__  # type: ignore[attr-defined]
SR = SourceRecord.__table__  # type: ignore[attr-defined]
LIBRARY = Library.__table__  # type: ignore[attr-defined]
UNION_SET, SOURCE_SET = "union", "source"
_SOURCE_STAMP = SR.c.changed_at  # set on every write (migration 0004 filled it for older rows)
_SPEC_UNSAFE = re.compile(r"[^A-Za-z0-9\-_.!~*'()]")


@dataclass(slots=True)
class Item:
    kind: str  # "union" or "source"
    id: int  # union record id or source record id
    datestamp: datetime
    deleted: bool
    library_code: str | None = None
    local_id: str | None = None

    def sets(self) -> list[str]:
        if self.kind == UNION_SET:
            return [UNION_SET]
        return [SOURCE_SET, f"{SOURCE_SET}:{library_spec(self.library_code or '')}"]


def library_spec(code: str) -> str:
    """A library code as a setSpec part (the characters OAI-PMH allows there)."""
    return _SPEC_UNSAFE.sub(".", code)


def identifier(repository: str, item: Item) -> str:
    if item.kind == UNION_SET:
        return f"oai:{repository}:union/{item.id}"
    code, local_id = quote(item.library_code or "", safe=""), quote(item.local_id or "", safe="")
    return f"oai:{repository}:source/{code}/{local_id}"


@dataclass(frozen=True, slots=True)
class ItemRef:
    kind: str
    union_id: int | None = None
    library_code: str | None = None
    local_id: str | None = None


def parse_identifier(repository: str, value: str) -> ItemRef | None:
    prefix = f"oai:{repository}:"
    if not value.startswith(prefix):
        return None
    rest = value[len(prefix) :]
    if rest.startswith("union/") and rest[6:].isdigit():
        return ItemRef(UNION_SET, union_id=int(rest[6:]))
    parts = rest.split("/")
    if len(parts) == 3 and parts[0] == SOURCE_SET and parts[1] and parts[2]:
        return ItemRef(SOURCE_SET, library_code=unquote(parts[1]), local_id=unquote(parts[2]))
    return None


@dataclass(frozen=True, slots=True)
class Selection:
    """A ListRecords/ListIdentifiers request: which items, from where."""

    set: str | None = None
    start: datetime | None = None  # inclusive
    end: datetime | None = None  # exclusive

    def kinds(self) -> list[str]:
        if self.set is None:
            return [UNION_SET, SOURCE_SET]
        return [UNION_SET] if self.set == UNION_SET else [SOURCE_SET]


class UnknownSet(LookupError):
    pass


def library_for_set(conn: Connection, set_spec: str) -> int | None:
    """The library id a ``source:<library>`` set names; None for ``union`` and ``source``."""
    if set_spec in (UNION_SET, SOURCE_SET):
        return None
    if set_spec.startswith(SOURCE_SET + ":"):
        wanted = set_spec[len(SOURCE_SET) + 1 :]
        for library_id, code in conn.execute(select(LIBRARY.c.id, LIBRARY.c.code)):
            if library_spec(code) == wanted:
                return int(library_id)
    raise UnknownSet(set_spec)


def _window(column: Any, selection: Selection) -> list[Any]:
    conditions = []
    if selection.start is not None:
        conditions.append(column >= selection.start)
    if selection.end is not None:
        conditions.append(column < selection.end)
    return conditions


def _union_items(conn: Connection, selection: Selection, after: int, limit: int) -> list[Item]:
    live = select(UNION.c.id, UNION.c.updated_at.label("stamp"), literal(0).label("gone")).where(
        UNION.c.id > after, *_window(UNION.c.updated_at, selection)
    )
    dead = select(TOMB.c.id, TOMB.c.deleted_at.label("stamp"), literal(1).label("gone")).where(
        TOMB.c.id > after, *_window(TOMB.c.deleted_at, selection)
    )
    both = union_all(live, dead).subquery()
    rows = conn.execute(select(both).order_by(both.c.id).limit(limit)).all()
    return [Item(UNION_SET, r[0], r[1], bool(r[2])) for r in rows]


def _source_items(
    conn: Connection, selection: Selection, library_id: int | None, after: int, limit: int
) -> list[Item]:
    stamp = _SOURCE_STAMP
    query = (
        select(SR.c.id, stamp, SR.c.status, LIBRARY.c.code, SR.c.local_id)
        .join(LIBRARY, LIBRARY.c.id == SR.c.library_id)
        .where(SR.c.id > after, *_window(stamp, selection))
        .order_by(SR.c.id)
        .limit(limit)
    )
    if library_id is not None:
        # "+ 0": compared as an expression, not through the (library_id, local_id) index. With that
        # index SQLite read every record of the library and sorted them by id for each page (47 ms a
        # page of 250,000 records, the provider's largest cost in a harvest); without it, it reads
        # the records after the page's place in id order and stops at the page's end (2 ms).
        query = query.where(SR.c.library_id + 0 == library_id)
    return [Item(SOURCE_SET, r[0], r[1], r[2] != "active", r[3], r[4]) for r in conn.execute(query)]


def list_items(
    conn: Connection, selection: Selection, kind: str, after: int, limit: int
) -> tuple[list[Item], tuple[str, int] | None]:
    """Up to ``limit`` items from the place (``kind``, ``after`` id) on, and the place after them
    (None when the list is complete)."""
    library_id = library_for_set(conn, selection.set) if selection.set else None
    kinds = selection.kinds()
    items: list[Item] = []
    for position in range(kinds.index(kind), len(kinds)):
        current = kinds[position]
        start = after if current == kind else 0
        wanted = limit - len(items) + 1  # one more than needed: is there anything after this page?
        if current == UNION_SET:
            found = _union_items(conn, selection, start, wanted)
        else:
            found = _source_items(conn, selection, library_id, start, wanted)
        items.extend(found)
        if len(items) > limit:
            last = items[limit - 1]
            return items[:limit], (last.kind, last.id)
    return items, None


def count_items(conn: Connection, selection: Selection) -> int:
    library_id = library_for_set(conn, selection.set) if selection.set else None
    total = 0
    for kind in selection.kinds():
        if kind == UNION_SET:
            for table, column in ((UNION, UNION.c.updated_at), (TOMB, TOMB.c.deleted_at)):
                total += conn.execute(
                    select(func.count()).select_from(table).where(*_window(column, selection))
                ).scalar_one()
        else:
            stamp = _SOURCE_STAMP
            query = select(func.count()).select_from(SR).where(*_window(stamp, selection))
            if library_id is not None:
                query = query.where(SR.c.library_id == library_id)
            total += conn.execute(query).scalar_one()
    return total


def get_item(conn: Connection, ref: ItemRef) -> Item | None:
    if ref.kind == UNION_SET:
        row = conn.execute(select(UNION.c.id, UNION.c.updated_at).where(UNION.c.id == ref.union_id)).first()
        if row is not None:
            return Item(UNION_SET, row[0], row[1], False)
        row = conn.execute(select(TOMB.c.id, TOMB.c.deleted_at).where(TOMB.c.id == ref.union_id)).first()
        return Item(UNION_SET, row[0], row[1], True) if row is not None else None
    row = conn.execute(
        select(
            SR.c.id,
            func.coalesce(SR.c.changed_at, SR.c.first_seen),
            SR.c.status,
            LIBRARY.c.code,
            SR.c.local_id,
        )
        .join(LIBRARY, LIBRARY.c.id == SR.c.library_id)
        .where(LIBRARY.c.code == ref.library_code, SR.c.local_id == ref.local_id)
    ).first()
    return Item(SOURCE_SET, row[0], row[1], row[2] != "active", row[3], row[4]) if row is not None else None


def earliest_datestamp(conn: Connection) -> datetime | None:
    candidates = [
        conn.execute(select(func.min(UNION.c.updated_at))).scalar(),
        conn.execute(select(func.min(TOMB.c.deleted_at))).scalar(),
        conn.execute(select(func.min(_SOURCE_STAMP))).scalar(),
    ]
    found = [c for c in candidates if c is not None]
    return min(found) if found else None


def sets(conn: Connection) -> list[tuple[str, str]]:
    """(setSpec, setName) of every set."""
    out = [
        (UNION_SET, "Union records: one per edition, with the libraries that hold it"),
        (SOURCE_SET, "Source records as the member libraries sent them"),
    ]
    for code, name in conn.execute(select(LIBRARY.c.code, LIBRARY.c.name_vi).order_by(LIBRARY.c.code)):
        out.append((f"{SOURCE_SET}:{library_spec(code)}", f"{name} ({code})"))
    return out
