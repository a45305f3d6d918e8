"""The digital library's web pages: the reader (a PDF's pages drawn as images on the server, one
page at a time with links to the others, no script), and the librarian's page of the library's
files: deposit, replace and withdraw, behind the librarian's session and the same-origin check of
every librarian form."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from catalog.digital.access import Reader, may_read
from catalog.digital.listing import find_object, library_objects, object_dict, visible
from catalog.digital.objects import PDF, DigitalError
from catalog.digital.pages import PageError, bounded_width, page_image
from catalog.digital.storage import StorageError
from catalog.digital.usage import VIEW
from catalog.libraries import get_library
from harvest.deposit import Limits, NotFound, deposit, replace, set_rule, withdraw_object

from .. import csrf
from ..deps import MAX_ID, EngineDep, SessionDep, SettingsDep
from ..digital_readers import ReaderDep, StorageDep, UsageDep, client_key, requester_code
from ..i18n import translator
from ..problems import Problem
from ..uploads import receive
from .web import LibrarianDep, _lang, render, same_origin

router = APIRouter(include_in_schema=False)
PAGE_CACHE = "digital-pages"


def _found(db: Session, object_id: int, reader: Reader) -> tuple[Any, str, str | None] | None:
    found = find_object(db, object_id) if 0 < object_id <= MAX_ID else None
    return found if found is not None and visible(found[0], reader) else None


@router.get("/digital/{object_id}", response_class=HTMLResponse, name="digital_reader")
def reader_page(
    request: Request,
    object_id: int,
    db: SessionDep,
    reader: ReaderDep,
    counter: UsageDep,
    lang: str | None = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> HTMLResponse:
    """The reader: page ``page`` of the object as an image, with the way to the others."""
    language = _lang(request, lang)
    t = translator(language)
    found = _found(db, object_id, reader)
    if found is None:
        return render(request, "digital.html", language, 404, obj=None, error=t("not_found"))
    obj, library, record = found
    data = object_dict(obj, library, record, reader)
    if not may_read(obj, reader):
        reason = t("digital_members_only") if data["access_now"] == "members" else t("digital_embargoed")
        return render(request, "digital.html", language, 403, obj=data, error=reason)
    pages = obj.page_count or 1
    page = min(page, pages)
    counter.count(object_id, VIEW, requester_code(db, reader), client_key(request))
    return render(
        request, "digital.html", language, obj=data, error=None, page=page, pages=pages,
        is_pdf=obj.content_type == PDF, file_url=f"/api/v1/digital/{object_id}/file",
    )  # fmt: skip


@router.get("/digital/{object_id}/pages/{number}.png", name="digital_page_image")
def page_png(
    request: Request,
    object_id: int,
    number: int,
    db: SessionDep,
    reader: ReaderDep,
    settings: SettingsDep,
    storage: StorageDep,
    counter: UsageDep,
    width: Annotated[int | None, Query(ge=1, le=10_000)] = None,
) -> Response:
    """Page ``number`` of a PDF object as a PNG at most 1600 pixels wide, under the object's rule."""
    found = _found(db, object_id, reader)
    if found is None:
        raise Problem(404, f"no digital object {object_id}")
    obj = found[0]
    if not may_read(obj, reader):
        raise Problem(403, "this file is not open to you")
    if obj.content_type != PDF:
        raise Problem(404, "only a PDF has pages to show")
    if not 1 <= number <= (obj.page_count or 1):
        raise Problem(404, f"the document has no page {number}")
    try:
        with storage.open(obj.storage_key) as source:
            cache = settings.data_dir / PAGE_CACHE
            image = page_image(cache, obj.sha256, source, number, bounded_width(width))
    except StorageError:
        raise Problem(404, f"the file of digital object {object_id} is missing from the storage") from None
    except PageError as exc:
        raise Problem(422, str(exc)) from None
    counter.count(object_id, VIEW, requester_code(db, reader), client_key(request))
    return FileResponse(
        image,
        media_type="image/png",
        headers={
            # the file may be replaced or its rule changed: a page image is kept only a short while
            "Cache-Control": ("private" if obj.access != "open" else "public") + ", max-age=300",
            "Content-Security-Policy": "default-src 'none'; frame-ancestors 'self'; sandbox",
            "Vary": "Authorization, Cookie",
        },
    )


# ---------------------------------------------------------------------------------- librarians
@router.get("/librarian/digital", response_class=HTMLResponse)
def librarian_digital(
    request: Request,
    catalogue: EngineDep,
    who: LibrarianDep,
    lang: str | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    done: str | None = None,
) -> Response:
    language = _lang(request, lang)
    code = who.library_code if who else None
    if code is None:
        return RedirectResponse(f"/librarian?lang={language}", status_code=303)
    return _list_page(request, catalogue, code, language, page=page, notice=done)


def _list_page(
    request: Request,
    catalogue: Any,
    code: str,
    language: str,
    status: int = 200,
    page: int = 1,
    error: str | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    with Session(catalogue) as db:
        lib = get_library(db, code)
        total, objects = library_objects(db, lib, Reader(library_id=lib.id), (page - 1) * 50, 50)
    t = translator(language)
    done = ("deposited", "withdrawn", "replaced", "changed")
    message = t(f"digital_{notice}") if notice in done else None
    return render(request, "librarian_digital.html", language, status, who=code, objects=objects,
                  total=total, page=page, error=error, notice=message)  # fmt: skip


async def _checked_librarian(
    request: Request, who: Any, language: str, catalogue: Any, csrf_token: str | None = None
) -> str | Response:
    """The signed-in librarian's library code, or the answer to a form that may not go on: not
    signed in, posted from another site, or (``csrf_token`` given: a form read whole) without the
    page's CSRF field. A multipart form's field is checked once its body is read."""
    code = who.library_code if who else None
    if code is None:
        return RedirectResponse(f"/librarian?lang={language}&error=token", status_code=303)
    refused = not same_origin(request) or (csrf_token is not None and not csrf.valid(request, csrf_token))
    if refused:  # a form posted from another site with the librarian's cookie
        return _list_page(request, catalogue, code, language, 403, error=translator(language)("csrf_refused"))
    return str(code)


async def _file_form(request: Request, settings: Any, catalogue: Any, code: str, language: str) -> Any:
    """The multipart form with a file, read within the size limit, its CSRF field checked; or the
    page that says why not (the partial file removed)."""
    try:
        received = await receive(request, settings, multipart_only=True, limit=settings.max_digital_bytes)
    except Problem as exc:
        return _list_page(request, catalogue, code, language, exc.status, error=exc.detail)
    if not csrf.valid(request, received.fields.get(csrf.FIELD)):
        received.discard()
        return _list_page(request, catalogue, code, language, 403, error=translator(language)("csrf_refused"))
    return received


@router.post("/librarian/digital", response_model=None)
async def librarian_deposit(
    request: Request,
    catalogue: EngineDep,
    settings: SettingsDep,
    storage: StorageDep,
    who: LibrarianDep,
    lang: str | None = None,
) -> Response:
    """The deposit form: the session is checked before a byte of the body is read."""
    language = _lang(request, lang)
    code = await _checked_librarian(request, who, language, catalogue)
    if isinstance(code, Response):
        return code
    received = await _file_form(request, settings, catalogue, code, language)
    if isinstance(received, Response):
        return received
    try:
        await run_in_threadpool(
            deposit, catalogue, storage, Limits(settings.max_digital_bytes, settings.digital_max_pages),
            code, received.fields.get("record", "").strip(), received.path, received.filename,
            rule=_rule(received.fields), label=received.fields.get("label"),
        )  # fmt: skip
    except DigitalError as exc:
        return _list_page(request, catalogue, code, language, 422, error=str(exc))
    finally:
        received.discard()
    return RedirectResponse(f"/librarian/digital?lang={language}&done=deposited", status_code=303)


def _rule(fields: dict[str, str]) -> str:
    access = fields.get("access", "open") or "open"
    if access == "embargo":
        return f"embargo:{fields.get('embargo_until', '').strip()}"
    return access


@router.post("/librarian/digital/{object_id}/replace", response_model=None)
async def librarian_replace(
    request: Request,
    object_id: int,
    catalogue: EngineDep,
    settings: SettingsDep,
    storage: StorageDep,
    who: LibrarianDep,
    lang: str | None = None,
) -> Response:
    language = _lang(request, lang)
    code = await _checked_librarian(request, who, language, catalogue)
    if isinstance(code, Response):
        return code
    received = await _file_form(request, settings, catalogue, code, language)
    if isinstance(received, Response):
        return received
    try:
        await run_in_threadpool(
            replace, catalogue, storage, Limits(settings.max_digital_bytes, settings.digital_max_pages),
            object_id, received.path, received.filename, owner=code,
        )  # fmt: skip
    except NotFound as exc:
        return _list_page(request, catalogue, code, language, 404, error=str(exc))
    except DigitalError as exc:
        return _list_page(request, catalogue, code, language, 422, error=str(exc))
    finally:
        received.discard()
    return RedirectResponse(f"/librarian/digital?lang={language}&done=replaced", status_code=303)


@router.post("/librarian/digital/{object_id}/withdraw", response_model=None)
async def librarian_withdraw(
    request: Request,
    object_id: int,
    catalogue: EngineDep,
    who: LibrarianDep,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    lang: str | None = None,
) -> Response:
    language = _lang(request, lang)
    code = await _checked_librarian(request, who, language, catalogue, csrf_token)
    if isinstance(code, Response):
        return code
    try:
        await run_in_threadpool(withdraw_object, catalogue, object_id, code)
    except NotFound as exc:
        return _list_page(request, catalogue, code, language, 404, error=str(exc))
    return RedirectResponse(f"/librarian/digital?lang={language}&done=withdrawn", status_code=303)


@router.post("/librarian/digital/{object_id}/access", response_model=None)
async def librarian_access(
    request: Request,
    object_id: int,
    catalogue: EngineDep,
    who: LibrarianDep,
    access: Annotated[str, Form(max_length=20)],
    embargo_until: Annotated[str, Form(max_length=20)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    lang: str | None = None,
) -> Response:
    """Change who may read one of the library's files."""
    language = _lang(request, lang)
    code = await _checked_librarian(request, who, language, catalogue, csrf_token)
    if isinstance(code, Response):
        return code
    rule = _rule({"access": access, "embargo_until": embargo_until})
    try:
        await run_in_threadpool(lambda: set_rule(catalogue, object_id, rule=rule, owner=code))
    except NotFound as exc:
        return _list_page(request, catalogue, code, language, 404, error=str(exc))
    except DigitalError as exc:
        return _list_page(request, catalogue, code, language, 422, error=str(exc))
    return RedirectResponse(f"/librarian/digital?lang={language}&done=changed", status_code=303)
