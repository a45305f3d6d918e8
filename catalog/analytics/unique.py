"""Unique holdings: the union records one member alone holds, counted per member and listed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, and_, select

from catalog.analytics.members import Member, members
from catalog.analytics.overlap import shared_counts
from catalog.analytics.tables import COUNT, HOLDERS, UNION
from catalog.models import UnionRecord

UNION_RECORD = UnionRecord.__table__  # type: ignore[attr-defined]
MAX_LIMIT = 1000


def unique_counts(conn: Connection, lang: str = "vi") -> list[dict[str, Any]]:
    """Each member: the titles it holds, those it alone holds, and their share of its titles."""
    shared = shared_counts(conn)
    alone = dict(
        conn.execute(
            select(COUNT.c.scope, COUNT.c.titles).where(COUNT.c.dimension == HOLDERS, COUNT.c.value == "1")
        ).all()
    )
    out = []
    for m in members(conn):
        titles = shared.get((m.id, m.id), 0)
        unique = int(alone.get(m.id, 0))
        out.append(
            {
                "code": m.code,
                "name": m.name(lang),
                "titles": titles,
                "unique_titles": unique,
                "unique_share": round(100.0 * unique / titles, 1) if titles else 0.0,
            }
        )
    return out


def unique_titles(
    conn: Connection, library: Member | None = None, after: int = 0, limit: int = 50
) -> list[dict[str, Any]]:
    """The union records held by one member alone (``library``'s, or anyone's), in id order from the
    first after ``after`` (pass the last id of a page to get the next page)."""
    codes = {m.id: m.code for m in members(conn)}
    condition = (
        UNION.c.sole_library_id == library.id if library is not None else UNION.c.sole_library_id.is_not(None)
    )
    rows = conn.execute(
        select(UNION.c.union_record_id, UNION.c.sole_library_id, UNION_RECORD.c.title, UNION_RECORD.c.year)
        .join(UNION_RECORD, UNION_RECORD.c.id == UNION.c.union_record_id)
        .where(and_(condition, UNION.c.union_record_id > after))
        .order_by(UNION.c.union_record_id)
        .limit(min(limit, MAX_LIMIT))
    ).all()
    return [
        {"id": r.union_record_id, "title": r.title, "year": r.year, "library": codes.get(r.sole_library_id)}
        for r in rows
    ]


def every_unique_title(conn: Connection, library: Member | None = None) -> Iterator[dict[str, Any]]:
    """All the unique titles (``library``'s, or anyone's), page after page (for a download)."""
    after = 0
    while page := unique_titles(conn, library, after, MAX_LIMIT):
        yield from page
        after = page[-1]["id"]
