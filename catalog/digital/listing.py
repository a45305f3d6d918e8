"""Reading digital objects for lists and pages: one dict per object (with its library and record),
a library's objects in pages, and the objects of a union record's member records."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from catalog.digital.access import Reader, effective_access, may_read, rule_text
from catalog.models import DigitalObject, DigitalStatus, Library, SourceRecord


def object_dict(obj: DigitalObject, library: str, record: str | None, reader: Reader) -> dict[str, Any]:
    """What anyone may know of ``obj`` (its metadata is public; its bytes follow the rule), with
    whether ``reader`` may read it."""
    return {
        "id": obj.id,
        "library": library,
        "record": record,
        "filename": obj.filename,
        "label": obj.label,
        "content_type": obj.content_type,
        "size": obj.size,
        "sha256": obj.sha256,
        "pages": obj.page_count,
        "access": obj.access,
        "rule": rule_text(obj.access, obj.embargo_until),
        "embargo_until": obj.embargo_until.date().isoformat() if obj.embargo_until else None,
        "access_now": effective_access(obj.access, obj.embargo_until),
        "status": obj.status,
        "origin": obj.origin,
        "text_status": obj.text_status,
        "created_at": obj.created_at,
        "updated_at": obj.updated_at,
        "readable": may_read(obj, reader),
    }


def _rows(session: Session, *where: Any) -> Any:
    return (
        select(DigitalObject, Library.code, SourceRecord.local_id)
        .join(Library, Library.id == DigitalObject.library_id)
        .join(SourceRecord, SourceRecord.id == DigitalObject.source_record_id, isouter=True)
        .where(*where)
    )


def find_object(session: Session, object_id: int) -> tuple[DigitalObject, str, str | None] | None:
    """The object ``object_id`` with its library's code and its record's local id."""
    row = session.exec(_rows(session, DigitalObject.id == object_id)).first()
    return None if row is None else (row[0], row[1], row[2])


def visible(obj: DigitalObject, reader: Reader) -> bool:
    """Whether ``reader`` may know ``obj`` exists: a withdrawn one only its library and the admin."""
    return obj.status == DigitalStatus.ACTIVE or reader.admin or reader.library_id == obj.library_id


def library_objects(
    session: Session, library: Library, reader: Reader, offset: int = 0, limit: int = 50
) -> tuple[int, list[dict[str, Any]]]:
    """The objects of ``library`` ``reader`` may know of, newest first: the total and one page."""
    where: list[Any] = [DigitalObject.library_id == library.id]
    if not (reader.admin or reader.library_id == library.id):
        where.append(DigitalObject.status == DigitalStatus.ACTIVE)
    total = session.exec(select(func.count()).select_from(DigitalObject).where(*where)).one()
    rows = session.exec(
        _rows(session, *where).order_by(DigitalObject.id.desc()).offset(offset).limit(limit)  # type: ignore[union-attr]
    ).all()
    return int(total), [object_dict(obj, code, local, reader) for obj, code, local in rows]


def union_objects(session: Session, union_id: int, reader: Reader) -> list[dict[str, Any]]:
    """The active objects of the member records merged into union record ``union_id``."""
    rows = session.exec(
        _rows(
            session,
            SourceRecord.union_record_id == union_id,
            DigitalObject.status == DigitalStatus.ACTIVE,
        ).order_by(Library.code, DigitalObject.id)
    ).all()
    return [object_dict(obj, code, local, reader) for obj, code, local in rows]
