"""The member records of a union record, as the record's API answer and its web page list them."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import select
from sqlmodel import Session

from catalog.models import Library, SourceRecord


class Member(NamedTuple):
    library: str  # the library's code
    local_id: str
    title: str | None


def union_members(db: Session, record_id: int) -> list[Member]:
    """The active source records merged into union record ``record_id``, by library and local id."""
    rows = db.execute(
        select(Library.code, SourceRecord.local_id, SourceRecord.title)
        .join(Library, Library.id == SourceRecord.library_id)
        .where(SourceRecord.union_record_id == record_id, SourceRecord.status == "active")
        .order_by(Library.code, SourceRecord.local_id)
    ).all()
    return [Member(code, local_id, title) for code, local_id, title in rows]
