"""Audit views of deduplication: the members of union records, and why records were merged or not."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, or_, select

from catalog.dedup import manual
from catalog.models import Library, MatchDecision, SourceRecord, UnionRecord

SR = SourceRecord.__table__  # type: ignore[attr-defined]
DECISION = MatchDecision.__table__  # type: ignore[attr-defined]
UNION = UnionRecord.__table__  # type: ignore[attr-defined]
LIBRARY = Library.__table__  # type: ignore[attr-defined]


class UnknownUnionRecord(LookupError):
    pass


def iter_unions(conn: Connection) -> Iterator[dict[str, Any]]:
    """Every union record with its members as [library code, local id] pairs, in id order (streamed)."""
    rows = conn.execution_options(stream_results=True, yield_per=5000).execute(
        select(SR.c.union_record_id, LIBRARY.c.code, SR.c.local_id)
        .join(LIBRARY, LIBRARY.c.id == SR.c.library_id)
        .where(SR.c.status == "active", SR.c.union_record_id.is_not(None))
        .order_by(SR.c.union_record_id, LIBRARY.c.code, SR.c.local_id)
    )
    current: int | None = None
    members: list[list[str]] = []
    for union_id, code, local_id in rows:
        if union_id != current and current is not None:
            yield {"id": current, "members": members}
            members = []
        current = union_id
        members.append([code, local_id])
    if current is not None:
        yield {"id": current, "members": members}


def explain(conn: Connection, union_id: int) -> dict[str, Any]:
    """The union record, its members, every decision about a member (accepted and rejected), and the
    librarians' corrections that name one of them."""
    union = conn.execute(
        select(UNION.c.id, UNION.c.title, UNION.c.year).where(UNION.c.id == union_id)
    ).first()
    if union is None:
        raise UnknownUnionRecord(f"no union record {union_id}")
    member_rows = conn.execute(
        select(SR.c.id, LIBRARY.c.code, SR.c.local_id, SR.c.title)
        .join(LIBRARY, LIBRARY.c.id == SR.c.library_id)
        .where(SR.c.union_record_id == union_id, SR.c.status == "active")
        .order_by(LIBRARY.c.code, SR.c.local_id)
    ).all()
    ids = [r.id for r in member_rows]
    decisions = (
        conn.execute(
            select(DECISION).where(or_(DECISION.c.record_a_id.in_(ids), DECISION.c.record_b_id.in_(ids)))
        )
        .mappings()
        .all()
        if ids
        else []
    )
    others = {d["record_a_id"] for d in decisions} | {d["record_b_id"] for d in decisions}
    names = (
        {
            r.id: (r.code, r.local_id, r.union_record_id)
            for r in conn.execute(
                select(SR.c.id, LIBRARY.c.code, SR.c.local_id, SR.c.union_record_id)
                .join(LIBRARY, LIBRARY.c.id == SR.c.library_id)
                .where(SR.c.id.in_(sorted(others)))
            )
        }
        if others
        else {}
    )

    def who(rid: int) -> dict[str, Any]:
        code, local_id, uid = names.get(rid, ("?", "?", None))
        return {"library": code, "local_id": local_id, "union_record_id": uid}

    corrections = manual.touching(conn, [(r.code, r.local_id) for r in member_rows])
    return {
        "id": union.id,
        "title": union.title,
        "year": union.year,
        "members": [{"library": r.code, "local_id": r.local_id, "title": r.title} for r in member_rows],
        "corrections": [c.as_dict() for c in corrections],
        "decisions": [
            {
                "a": who(d["record_a_id"]),
                "b": who(d["record_b_id"]),
                "accepted": bool(d["accepted"]),
                "rule": d["rule"],
                "reason": d["reason"],
                "in_this_union": names.get(d["record_a_id"], (0, 0, None))[2] == union_id
                and names.get(d["record_b_id"], (0, 0, None))[2] == union_id,
            }
            for d in decisions
        ],
    }
