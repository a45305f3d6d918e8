"""The search document of a union record: its description and the summary of its holdings."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, select

from catalog.db import rows_in
from catalog.identifiers import isbn10
from catalog.models import Holding, Library, SourceRecord, UnionRecord
from catalog.search.query import decade_of
from catalog.text import exact_key, fold

SR = SourceRecord.__table__  # type: ignore[attr-defined]
HOLDING = Holding.__table__  # type: ignore[attr-defined]
UNION = UnionRecord.__table__  # type: ignore[attr-defined]
LIBRARY = Library.__table__  # type: ignore[attr-defined]


def document(
    union_id: int, title: str | None, fields: dict[str, Any], holdings: dict[str, int]
) -> dict[str, Any]:
    isbns = list(fields.get("isbns") or [])
    isbns += [v for v in (isbn10(i) for i in isbns) if v]
    links = fields.get("links") or []
    year = fields.get("year")
    doc = {
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
        "holdings": dict(sorted(holdings.items())),
        "library_count": len(holdings),
        "copies": sum(holdings.values()),
        "has_digital": bool(fields.get("electronic")) or any(link.get("kind") != "related" for link in links),
        "title_sort": fold(fields.get("sort_title") or fields.get("title")),
    }
    return with_search_text(doc)


def with_search_text(doc: dict[str, Any]) -> dict[str, Any]:
    """Add the folded text both engines search (and the diacritics-keeping text that ranks exact
    spellings first). Computed where the document is built: in the ingest's worker processes."""
    doc["title_folded"] = fold(" ".join(filter(None, [doc["title"], doc["subtitle"]])))
    doc["authors_folded"] = [fold(a) for a in doc["authors"]]
    doc["subjects_folded"] = [fold(s) for s in doc["subjects"]]
    doc["publisher_folded"] = fold(doc["publisher"])
    doc["other_folded"] = " ".join(
        [
            fold(" ".join(filter(None, [doc["publisher"], *doc["series"], *doc["classification"]]))),
            *doc["isbns"],
            *doc["issns"],
        ]
    )
    doc["exact"] = exact_key(
        " ".join(filter(None, [doc["title"], doc["subtitle"], *doc["authors"], *doc["subjects"]]))
    )
    return doc


def holdings_summary(conn: Connection, union_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Union id -> {library code: copies} (a holding without a count is one copy)."""
    out: dict[int, dict[str, int]] = defaultdict(dict)
    rows = rows_in(
        conn,
        "SELECT s.union_record_id, l.code, sum(coalesce(h.copies, 1)) FROM holding h "
        "JOIN source_record s ON s.id = h.source_record_id JOIN library l ON l.id = h.library_id "
        "WHERE s.status = 'active' AND s.union_record_id IN ({ids}) GROUP BY s.union_record_id, l.code",
        union_ids,
    )
    for uid, code, copies in rows:
        out[uid][code] = int(copies or 0)
    return out


def documents(conn: Connection, union_ids: Iterable[int]) -> tuple[list[dict[str, Any]], list[int]]:
    """(documents of the union records that exist, ids of those that no longer do)."""
    ids = sorted(set(union_ids))
    rows = rows_in(conn, "SELECT id, title, fields FROM union_record WHERE id IN ({ids})", ids)
    summary = holdings_summary(conn, [r[0] for r in rows])
    docs = []
    for uid, title, fields in rows:
        data = orjson.loads(fields) if isinstance(fields, (str, bytes)) else (fields or {})
        docs.append(document(uid, title, data, summary.get(uid, {})))
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
