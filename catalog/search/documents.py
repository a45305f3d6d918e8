"""The search documents of union records, read from the catalogue: their description and the summary
of their holdings (the document itself is built in :mod:`catalog.search.rows`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, select

from catalog.db import rows_in
from catalog.models import Holding, Library, SourceRecord, UnionRecord
from catalog.search.rows import document, with_search_text

SR = SourceRecord.__table__  # type: ignore[attr-defined]
HOLDING = Holding.__table__  # type: ignore[attr-defined]
UNION = UnionRecord.__table__  # type: ignore[attr-defined]
LIBRARY = Library.__table__  # type: ignore[attr-defined]


def holdings_summary(conn: Connection, union_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Union id -> {library code: copies} (a holding without a count is one copy)."""
    return _copies(conn, "s.union_record_id", union_ids)


def record_holdings(conn: Connection, record_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Source record id -> {library code: copies}, for active records (as :func:`holdings_summary`
    counts them): what each adds to the summary of its union record."""
    return _copies(conn, "s.id", record_ids)


def _copies(conn: Connection, by: str, ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """{library code: copies} of active source records, grouped by ``by`` (a column of them)."""
    out: dict[int, dict[str, int]] = defaultdict(dict)
    rows = rows_in(
        conn,
        f"SELECT {by}, l.code, sum(coalesce(h.copies, 1)) FROM holding h "
        "JOIN source_record s ON s.id = h.source_record_id JOIN library l ON l.id = h.library_id "
        f"WHERE s.status = 'active' AND {by} IN ({{ids}}) GROUP BY {by}, l.code",
        ids,
    )
    for key, code, copies in rows:
        out[key][code] = int(copies or 0)
    return out


def with_fulltext(conn: Connection, union_ids: Sequence[int]) -> set[int]:
    """Those of ``union_ids`` with an active digital object whose text was extracted."""
    rows = rows_in(
        conn,
        "SELECT DISTINCT s.union_record_id FROM digital_object o JOIN source_record s "
        "ON s.id = o.source_record_id WHERE o.status = 'active' AND o.text_status = 'extracted' "
        "AND s.union_record_id IN ({ids})",
        union_ids,
    )
    return {int(r[0]) for r in rows}


def documents(
    conn: Connection, union_ids: Iterable[int], summaries: Mapping[int, dict[str, int]] | None = None
) -> tuple[list[dict[str, Any]], list[int]]:
    """(documents of the union records that exist, ids of those that no longer do). ``summaries``:
    holdings summaries already known (see catalog.updates), read from the catalogue for the others."""
    ids = sorted(set(union_ids))
    rows = rows_in(conn, "SELECT id, title, fields FROM union_record WHERE id IN ({ids})", ids)
    known = summaries or {}
    summary = holdings_summary(conn, [r[0] for r in rows if r[0] not in known])
    summary.update((uid, known[uid]) for uid, _title, _fields in rows if uid in known)
    texts = with_fulltext(conn, [r[0] for r in rows])
    docs = []
    for uid, title, fields in rows:
        data = orjson.loads(fields) if isinstance(fields, (str, bytes)) else (fields or {})
        docs.append(document(uid, title, data, summary.get(uid, {})) | {"has_fulltext": uid in texts})
    found = {d["id"] for d in docs}
    return docs, [i for i in ids if i not in found]


def all_union_ids(conn: Connection, batch: int = 5000) -> Iterator[list[int]]:
    """Every union record id, in batches (for rebuilding an index)."""
    last = 0
    while True:
        ids = list(
            conn.execute(
                select(UNION.c.id).where(UNION.c.id > last).order_by(UNION.c.id).limit(batch)
            ).scalars()
        )
        if not ids:
            return
        yield ids
        last = ids[-1]


__all__ = [
    "all_union_ids",
    "document",
    "documents",
    "holdings_summary",
    "record_holdings",
    "with_search_text",
]
