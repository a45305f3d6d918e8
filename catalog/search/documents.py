"""The search document of a union record: its description and the summary of its holdings."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, func, select

from catalog.identifiers import isbn10
from catalog.models import Holding, Library, SourceRecord, UnionRecord
from catalog.search.query import decade_of
from catalog.text import fold

SR = SourceRecord.__table__  # type: ignore[attr-defined]
HOLDING = Holding.__table__  # type: ignore[attr-defined]
UNION = UnionRecord.__table__  # type: ignore[attr-defined]
LIBRARY = Library.__table__  # type: ignore[attr-defined]
CHUNK = 900


def _chunks(values: Sequence[int], size: int = CHUNK) -> Iterable[Sequence[int]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def document(
    union_id: int, title: str | None, fields: dict[str, Any], holdings: dict[str, int]
) -> dict[str, Any]:
    isbns = list(fields.get("isbns") or [])
    isbns += [v for v in (isbn10(i) for i in isbns) if v]
    links = fields.get("links") or []
    year = fields.get("year")
    return {
        "id": union_id,
        "title": title,
        "subtitle": fields.get("subtitle"),
        "authors": [a["name"] for a in fields.get("authors") or []],
        "subjects": list(fields.get("subjects") or []),
        "publisher": fields.get("publisher"),
        "year": year,
        "decade": decade_of(year),
        "languages": list(fields.get("languages") or []),
        "material_type": fields.get("material_type"),
        "series": [s["title"] for s in fields.get("series") or []],
        "isbns": isbns,
        "issns": [v.replace("-", "") for v in fields.get("issns") or []],
        "classification": [v for values in (fields.get("classification") or {}).values() for v in values],
        "libraries": sorted(holdings),
        "library_count": len(holdings),
        "copies": sum(holdings.values()),
        "has_digital": bool(fields.get("electronic")) or any(link.get("kind") != "related" for link in links),
        "title_sort": fold(fields.get("sort_title") or fields.get("title")),
    }


def holdings_summary(conn: Connection, union_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Union id -> {library code: copies} (a holding without a count is one copy)."""
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for part in _chunks(union_ids):
        rows = conn.execute(
            select(SR.c.union_record_id, LIBRARY.c.code, func.sum(func.coalesce(HOLDING.c.copies, 1)))
            .select_from(HOLDING)
            .join(SR, SR.c.id == HOLDING.c.source_record_id)
            .join(LIBRARY, LIBRARY.c.id == HOLDING.c.library_id)
            .where(SR.c.union_record_id.in_(part), SR.c.status == "active")
            .group_by(SR.c.union_record_id, LIBRARY.c.code)
        )
        for uid, code, copies in rows:
            out[uid][code] = int(copies or 0)
    return out


def documents(conn: Connection, union_ids: Iterable[int]) -> tuple[list[dict[str, Any]], list[int]]:
    """(documents of the union records that exist, ids of those that no longer do)."""
    ids = sorted(set(union_ids))
    docs: list[dict[str, Any]] = []
    found: set[int] = set()
    for part in _chunks(ids):
        rows = conn.execute(
            select(UNION.c.id, UNION.c.title, UNION.c.fields).where(UNION.c.id.in_(part))
        ).all()
        summary = holdings_summary(conn, [r.id for r in rows])
        for uid, title, fields in rows:
            found.add(uid)
            docs.append(document(uid, title, fields or {}, summary.get(uid, {})))
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
