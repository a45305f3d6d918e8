"""The digital library over the API: a member deposits files for its records (streamed within
``max_digital_bytes``, its token checked before a byte is read), lists, changes and withdraws them;
anyone reads an object's metadata, and its file under the object's access rule
(:func:`catalog.digital.access.may_read`); a library reads the usage of its objects."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse
from sqlmodel import Session, select

from catalog.digital.access import Reader, may_read
from catalog.digital.listing import find_object, library_objects, object_dict, visible
from catalog.digital.objects import DigitalError
from catalog.digital.storage import StorageError
from catalog.digital.usage import COLUMNS, DOWNLOAD, check_month, report
from catalog.models import DigitalObject, Library
from harvest.deposit import Limits, NotFound, deposit, set_rule, withdraw_object

from ..deps import (
    API,
    MAX_ID,
    EngineDep,
    PrincipalDep,
    SessionDep,
    SettingsDep,
    library_or_404,
    own_library_or_403,
    require,
)
from ..digital_readers import ReaderDep, StorageDep, UsageDep, client_key, requester_code, with_urls
from ..file_responses import counts_as_download, file_response
from ..problems import Problem, errors
from ..schemas.digital import ACCESS_RULE, MONTH, DigitalChange, DigitalObjectInfo, DigitalPage, UsageRow
from ..schemas.digital import Deposited as DepositedInfo
from ..uploads import receive

router = APIRouter(prefix=API, tags=["digital"])


def readable_object(db: Session, object_id: int, reader: Reader) -> tuple[DigitalObject, str, str | None]:
    """The object, its library's code and record, when ``reader`` may know it exists (a withdrawn
    object is not found but by its library)."""
    found = find_object(db, object_id) if 0 < object_id <= MAX_ID else None
    if found is None or not visible(found[0], reader):
        raise Problem(404, f"no digital object {object_id}")
    return found


@router.post(
    "/libraries/{code}/digital",
    status_code=201,
    response_model=DepositedInfo,
    responses=errors(401, 403, 404, 413, 415, 422),
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file", "record"],
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "record": {
                                "type": "string",
                                "minLength": 1,
                                "pattern": r"\S",
                                "description": "the library's local record id",
                            },
                            "access": {
                                "type": "string",
                                "pattern": ACCESS_RULE,
                                "description": "open, members, embargo:YYYY-MM-DD",
                            },
                            "label": {"type": "string"},
                        },
                    }
                }
            }
        }
    },
)
async def deposit_file(
    request: Request,
    code: str,
    who: PrincipalDep,
    db: SessionDep,
    settings: SettingsDep,
    catalogue: EngineDep,
    storage: StorageDep,
) -> dict[str, Any]:
    """Deposit a file (PDF, EPUB, PNG, JPEG, TIFF) for one of the library's records: multipart with
    the fields ``file``, ``record`` (its local id), ``access`` and ``label``. The library's token is
    checked before the body is read; the body is refused past ``max_digital_bytes`` while it is read."""
    lib = own_library_or_403(db, code, who, "deposit files for it")
    db.close()
    received = await receive(request, settings, multipart_only=True, limit=settings.max_digital_bytes)
    try:
        local_id = received.fields.get("record", "").strip()
        if not local_id:
            raise Problem(422, "the form needs the 'record' field: the local id of the library's record")
        limits = Limits(settings.max_digital_bytes, settings.digital_max_pages)
        try:
            done = await run_in_threadpool(
                deposit, catalogue, storage, limits, lib.code, local_id, received.path, received.filename,
                rule=received.fields.get("access", "open") or "open", label=received.fields.get("label"),
            )  # fmt: skip
        except DigitalError as exc:
            raise Problem(422, str(exc)) from None
    finally:
        received.discard()
    with Session(catalogue) as fresh:
        obj, library, record = readable_object(fresh, done.object_id, Reader(library_id=lib.id))
        data = object_dict(obj, library, record, Reader(library_id=lib.id))
    return {**with_urls(request, data), "new": done.new, "text_job": done.text_job}


@router.get(
    "/libraries/{code}/digital",
    response_model=DigitalPage,
    responses=errors(401, 404, 422),
)
def list_objects(
    request: Request,
    code: str,
    db: SessionDep,
    reader: ReaderDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """The library's digital objects, newest first (withdrawn ones only for the library itself)."""
    lib = library_or_404(db, code)
    total, rows = library_objects(db, lib, reader, (page - 1) * per_page, per_page)
    return {
        "total": total,
        "page": page,
        "per_page": per_page,
        "objects": [with_urls(request, row) for row in rows],
    }


@router.get(
    "/digital/usage",
    response_model=list[UsageRow],
    responses={200: {"content": {"text/csv": {}}}, **errors(401, 403, 404, 422)},
)
def usage(
    code: Annotated[str | None, Query(alias="library", max_length=16)] = None,
    first: Annotated[str | None, Query(alias="from", pattern=MONTH, description="YYYY-MM")] = None,
    last: Annotated[str | None, Query(alias="to", pattern=MONTH, description="YYYY-MM")] = None,
    format: Annotated[str, Query(pattern="^(csv|json)$")] = "json",
    *,
    who: PrincipalDep,
    db: SessionDep,
) -> Any:
    """The usage of a library's objects (its token) or of all (admin) per object, requesting member,
    month and COUNTER R5 metric type (Total_Item_Investigations, Unique_Item_Investigations,
    Total_Item_Requests, Unique_Item_Requests), as JSON or CSV."""
    principal = require(who)
    if code is None and not principal.admin:
        code = principal.library_code
    library_id = None
    if code is not None:
        library_id = own_library_or_403(db, code, principal, "read its usage").id
    try:
        rows = list(report(db, library_id, first and check_month(first), last and check_month(last)))
    except ValueError as exc:
        raise Problem(422, str(exc)) from None
    if format == "json":
        return [dict(zip(COLUMNS, row.as_list(), strict=True)) for row in rows]
    return StreamingResponse(
        _csv(row.as_list() for row in rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="usage-{code or "all"}.csv"'},
    )


def _csv(rows: Iterator[list[Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


@router.get("/digital/{object_id:int}", response_model=DigitalObjectInfo, responses=errors(401, 404, 422))
def get_object(request: Request, object_id: int, db: SessionDep, reader: ReaderDep) -> dict[str, Any]:
    """A digital object's metadata (public), with whether the caller may read its file."""
    obj, library, record = readable_object(db, object_id, reader)
    return with_urls(request, object_dict(obj, library, record, reader))


@router.patch(
    "/digital/{object_id:int}", response_model=DigitalObjectInfo, responses=errors(400, 401, 403, 404, 422)
)
def change_object(
    request: Request, object_id: int, body: DigitalChange, who: PrincipalDep, catalogue: EngineDep
) -> dict[str, Any]:
    """Change an object's access rule and/or label (its library or an admin)."""
    principal = require(who)
    try:
        set_rule(catalogue, object_id, rule=body.access, label=body.label, owner=_owner(principal))
    except NotFound as exc:
        raise Problem(404, str(exc)) from None
    except DigitalError as exc:
        raise Problem(422, str(exc)) from None
    with Session(catalogue) as db:
        reader = Reader(admin=principal.admin, library_id=_library_id(db, principal))
        obj, library, record = readable_object(db, object_id, reader)
        return with_urls(request, object_dict(obj, library, record, reader))


@router.delete("/digital/{object_id:int}", status_code=204, responses=errors(401, 403, 404, 422))
def delete_object(object_id: int, who: PrincipalDep, catalogue: EngineDep) -> Response:
    """Withdraw an object (its library or an admin): it stays recorded, and nobody else reads it."""
    try:
        withdraw_object(catalogue, object_id, _owner(require(who)))
    except NotFound as exc:
        raise Problem(404, str(exc)) from None
    return Response(status_code=204)


def _owner(principal: Any) -> str | None:
    return None if principal.admin else principal.library_code


def _library_id(db: Session, principal: Any) -> int | None:
    if principal.library_code is None:
        return None
    return db.exec(select(Library.id).where(Library.code == principal.library_code)).first()


@router.get(
    "/digital/{object_id:int}/file",
    name="digital_file",
    response_class=Response,
    responses={
        200: {
            "content": {"application/pdf": {}, "application/octet-stream": {}},
            "description": "The file; with Range, 206 and the parts asked for; with If-None-Match, 304",
        },
        **errors(401, 403, 404, 416, 422),
    },
)
def object_file(
    request: Request,
    object_id: int,
    db: SessionDep,
    reader: ReaderDep,
    storage: StorageDep,
    counter: UsageDep,
) -> Response:
    """The file, streamed, with Range requests, when the caller may read it: open to all; members
    to a member library's token, a signed-in librarian or a reader on a member's network; under
    embargo to nobody but its library until the date."""
    obj, _library, _record = readable_object(db, object_id, reader)
    if not may_read(obj, reader):
        raise Problem(403, "this file is for the consortium's members" if obj.access == "members"
                      else "this file is under embargo")  # fmt: skip
    key = obj.storage_key
    try:
        size = storage.size(key)
    except StorageError:
        raise Problem(404, f"the file of digital object {object_id} is missing from the storage") from None

    def read(start: int, end: int) -> Iterator[bytes]:
        return storage.read(key, start, end)

    response = file_response(
        request, read, size, obj.sha256, obj.content_type, obj.filename, private=obj.access != "open"
    )
    if counts_as_download(response):
        counter.count(object_id, DOWNLOAD, requester_code(db, reader), client_key(request))
    return response
