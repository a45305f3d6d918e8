"""Union records (with their members, holdings and merge decisions) and the libraries' own records,
each also as a MARC download."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlmodel import Session

from catalog.copy_safe import rules_from
from catalog.corrections import merged_into
from catalog.digital.listing import union_objects
from catalog.lookup import holdings_of
from catalog.models import Holding, Library, SourceRecord, UnionRecord

from .. import exports
from ..deps import (
    API,
    PrincipalDep,
    RecordId,
    SessionDep,
    SettingsDep,
    library_or_404,
    require,
    union_record_missing,
)
from ..digital_readers import ReaderDep, with_urls
from ..members import union_members
from ..problems import Problem, errors
from ..schemas.records import Explanation, SourceRecordAnswer, UnionRecordAnswer

router = APIRouter(prefix=API, tags=["records"])
_DOWNLOADS = {200: {"content": {media: {} for media in exports.FORMATS.values()}, "description": "MARC"}}
FORMAT_QUERY = Query(max_length=20, json_schema_extra={"enum": exports.FORMAT_NAMES})
HOLDING_FIELDS = ("call_number", "location", "sublocation", "barcode", "copies", "item_type", "status")


_MOVED = {308: {"description": "Merged into another union record: Location names it"}}


@router.get(
    "/records/{record_id}",
    response_model=UnionRecordAnswer,
    responses={**_MOVED, **errors(404, 410, 422)},
)
def union_record(record_id: RecordId, db: SessionDep, request: Request, reader: ReaderDep) -> Any:
    """A union record: its description, its member records, per library the holdings, and the
    members' digital objects (with whether the caller may read each). A union record merged into
    another answers 308 to it; one really deleted, 410."""
    union = db.get(UnionRecord, record_id)
    if union is None:
        return _moved(db, record_id, "")
    [held] = holdings_of(db.connection(), [record_id]) or [{"libraries": []}]
    return {
        "id": union.id,
        "title": union.title,
        "year": union.year,
        "fields": union.fields,
        "members": [
            {**m._asdict(), "url": f"{API}/libraries/{m.library}/records/{m.local_id}"}
            for m in union_members(db, record_id)
        ],
        "holdings": held["libraries"],
        "digital_objects": [with_urls(request, o) for o in union_objects(db, record_id, reader)],
        "exports": {fmt: f"{API}/records/{record_id}/export?format={fmt}" for fmt in exports.FORMATS},
    }


def _moved(db: Session, record_id: int, suffix: str) -> RedirectResponse:
    """308 to the union record that ``record_id`` was merged into; else its 410 or 404 problem."""
    target = merged_into(db.connection(), record_id)
    if target is None:
        raise union_record_missing(db, record_id)
    return RedirectResponse(f"{API}/records/{target}{suffix}", status_code=308)


@router.get(
    "/records/{record_id}/explain",
    response_model=Explanation,
    responses={**_MOVED, **errors(404, 410, 422)},
)
def union_record_explain(record_id: RecordId, db: SessionDep) -> Any:
    """Why the union record holds these records: every decision about its members, with the rule
    and the reason (merged, or kept apart), and the librarians' corrections that name them."""
    from catalog.dedup.report import UnknownUnionRecord, explain

    try:
        return explain(db.connection(), record_id)
    except UnknownUnionRecord:
        return _moved(db, record_id, "/explain")


@router.get(
    "/records/{record_id}/export",
    response_class=Response,
    responses={**_DOWNLOADS, **errors(401, 403, 404, 410, 422)},
)
def union_record_export(
    record_id: RecordId,
    db: SessionDep,
    settings: SettingsDep,
    who: PrincipalDep,
    format: Annotated[str, FORMAT_QUERY] = "marcxml",
    raw: Annotated[bool, Query(description="with the members' local data (admins only)")] = False,
) -> Response:
    """The union record as one merged MARC record (MARCXML, ISO 2709 or MARC-in-JSON), copy-safe
    for cataloguing: without the members' items, local fields, $9 and $5 (see the SRU page of the
    documentation); ``raw=true`` keeps them, for an admin."""
    if raw and not require(who).admin:
        raise Problem(403, "only an admin may export a union record with its members' local data")
    try:
        fmt = exports.normalise(format)
        rules = None if raw else rules_from(settings)
        data = exports.union_export(db.connection(), record_id, fmt, rules)
    except exports.ExportError as exc:
        raise Problem(422, str(exc)) from None
    if data is None:
        raise union_record_missing(db, record_id)
    return Response(data, media_type=exports.FORMATS[fmt], headers=_download(f"union-{record_id}", fmt))


@router.get(
    "/libraries/{code}/records/{local_id}", response_model=SourceRecordAnswer, responses=errors(404, 422)
)
def source_record(code: str, local_id: str, db: SessionDep) -> dict[str, Any]:
    """One library's record as it sent it, with its extracted fields and holdings."""
    library = library_or_404(db, code)
    record = _source(db, library, local_id)
    items = db.scalars(select(Holding).where(Holding.source_record_id == record.id)).all()
    return {
        "library": library.code,
        "local_id": record.local_id,
        "status": record.status,
        "union_record_id": record.union_record_id,
        "raw_format": record.raw_format,
        "warnings": record.warnings or [],
        "first_seen": record.first_seen.isoformat(),
        "last_seen": record.last_seen.isoformat(),
        "fields": record.fields,
        "holdings": [{k: getattr(h, k) for k in HOLDING_FIELDS} for h in items],
        "opac_url": library.opac_url_pattern.replace("{id}", local_id) if library.opac_url_pattern else None,
        "exports": {
            fmt: f"{API}/libraries/{library.code}/records/{local_id}/export?format={fmt}"
            for fmt in exports.FORMATS
        },
    }


@router.get(
    "/libraries/{code}/records/{local_id}/export",
    response_class=Response,
    responses={**_DOWNLOADS, **errors(404, 422)},
)
def source_record_export(
    code: str, local_id: str, db: SessionDep, format: Annotated[str | None, FORMAT_QUERY] = None
) -> Response:
    """The record byte for byte as received (in its own format, the default), or converted."""
    library = library_or_404(db, code)
    record = _source(db, library, local_id)
    try:
        fmt = exports.normalise(format) if format else record.raw_format
        data = exports.source_export(record.raw, record.raw_format, fmt)
    except exports.ExportError as exc:
        raise Problem(422, str(exc)) from None
    return Response(
        data, media_type=exports.FORMATS[fmt], headers=_download(f"{library.code}-{local_id}", fmt)
    )


def _source(db: Session, library: Library, local_id: str) -> SourceRecord:
    record = db.scalars(
        select(SourceRecord).where(SourceRecord.library_id == library.id, SourceRecord.local_id == local_id)
    ).first()
    if record is None:
        raise Problem(404, f"library {library.code} has no record {local_id!r}")
    return record


def _download(stem: str, fmt: str) -> dict[str, str]:
    suffix = {"marcxml": "xml", "iso2709": "mrc", "marcjson": "json"}[fmt]
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in stem)
    return {"Content-Disposition": f'attachment; filename="{safe}.{suffix}"'}
