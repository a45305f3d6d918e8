"""The cataloguer's pages of a union record: its MARC view, each member's MARC record and where the
members differ; and the signed-in librarian's corrections (split, merge, keep apart, undo), each
confirmed on a page of its own and posted from this site only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from catalog import corrections
from catalog.db import writing
from catalog.dedup import manual
from catalog.models import Library, SourceRecord, UnionRecord
from catalog.updates import push_after_commit

from .. import csrf, exports
from ..deps import MAX_ID, EngineDep, SearchDep, SettingsDep, union_record_missing
from ..i18n import translator
from ..marc_view import fields_of, member_diff
from .web import LibrarianDep, _lang, render, same_origin

router = APIRouter(include_in_schema=False)
ACTIONS = ("split", "merge", "never", "undo")


def _members(db: Session, record_id: int) -> list[dict[str, Any]]:
    rows = db.execute(
        select(Library.code, SourceRecord.local_id, SourceRecord.raw, SourceRecord.raw_format)
        .join(Library, Library.id == SourceRecord.library_id)
        .where(SourceRecord.union_record_id == record_id, SourceRecord.status == "active")
        .order_by(Library.code, SourceRecord.local_id)
    ).all()
    out = []
    for code, local_id, raw, raw_format in rows:
        try:
            fields = fields_of(exports.decode(raw, raw_format))
            error = None
        except exports.ExportError as exc:
            fields, error = [], str(exc)
        out.append({"code": code, "local_id": local_id, "fields": fields, "error": error})
    return out


@router.get("/records/{record_id}/marc", response_class=HTMLResponse)
def record_marc(
    request: Request, catalogue: EngineDep, who: LibrarianDep, record_id: int, lang: str | None = None
) -> Response:
    """The union record in MARC, its members in MARC, and the fields on which the members differ."""
    language = _lang(request, lang)
    with Session(catalogue) as db:
        union = db.get(UnionRecord, record_id) if 0 < record_id <= MAX_ID else None
        if union is None:
            target = corrections.merged_into(db.connection(), record_id) if 0 < record_id <= MAX_ID else None
            if target is not None:
                return RedirectResponse(f"/records/{target}/marc?lang={language}", status_code=301)
            missing = union_record_missing(db, record_id)
            t = translator(language)
            return render(request, "record_marc.html", language, missing.status,
                          error=t("gone" if missing.status == 410 else "not_found"), record=None)  # fmt: skip
        conn = db.connection()
        merged = exports.union_marc(conn, record_id)
        members = _members(db, record_id)
        decisions = manual.touching(conn, [(m["code"], m["local_id"]) for m in members])
    return render(
        request,
        "record_marc.html",
        language,
        record=union,
        union_fields=fields_of(merged) if merged is not None else [],
        members=members,
        diff=member_diff([m["fields"] for m in members if m["fields"]]),
        diff_members=[m for m in members if m["fields"]],
        decisions=[d.as_dict() for d in decisions],
        librarian=who.library_code if who else None,
        error=None,
    )


def _describe(action: str, record: int | None, target: str) -> dict[str, Any]:
    return {"action": action, "record": record, "target": target}


@router.get("/librarian/corrections/confirm", response_class=HTMLResponse)
def confirm(
    request: Request,
    who: LibrarianDep,
    action: str,
    target: str,
    record: int | None = None,
    lang: str | None = None,
) -> Response:
    """What a correction will do, with a note to add and the button that makes it."""
    language = _lang(request, lang)
    if who is None or who.library_code is None:
        return RedirectResponse(f"/librarian?lang={language}", status_code=303)
    if action not in ACTIONS or len(target) > 300 or (record is not None and not 0 < record <= MAX_ID):
        message = translator(language)("bad_correction")
        return render(request, "correction_confirm.html", language, 422, error=message, correction=None)
    return render(
        request,
        "correction_confirm.html",
        language,
        correction=_describe(action, record, target.strip()),
        who=who.library_code,
        error=None,
    )


@router.post("/librarian/corrections", response_model=None)
def correct(
    request: Request,
    catalogue: EngineDep,
    settings: SettingsDep,
    search: SearchDep,
    who: LibrarianDep,
    action: Annotated[str, Form(max_length=16)],
    target: Annotated[str, Form(max_length=300)],
    record: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None,
    note: Annotated[str | None, Form(max_length=1000)] = None,
    lang: Annotated[str | None, Form(max_length=2)] = None,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Make the confirmed correction as the signed-in librarian's library; back to the union record."""
    language = _lang(request, lang)
    t = translator(language)
    if who is None or who.library_code is None:
        return RedirectResponse(f"/librarian?lang={language}", status_code=303)
    correction = _describe(action, record, target.strip())

    def failed(status: int, message: str) -> HTMLResponse:
        return render(request, "correction_confirm.html", language, status, correction=correction,
                      who=who.library_code, error=message)  # fmt: skip

    if not same_origin(request) or not csrf.valid(request, csrf_token):  # another site's form
        return failed(403, t("cross_site"))
    if action not in ACTIONS:
        return failed(422, t("bad_correction"))
    code = who.library_code
    kw: dict[str, Any] = {"ignore_isbns": settings.dedup_ignore_isbns, "search": search}
    try:
        with writing(catalogue) as conn:
            if action == "split":
                key = corrections.parse_target(target)
                if isinstance(key, int):
                    raise corrections.CorrectionError("give the record to split as CODE:LOCAL_ID")
                done = corrections.split(conn, key, code, note, **kw)
            elif action == "undo":
                if not (target.strip().isascii() and target.strip().isdigit()):
                    raise corrections.NotFound(f"no manual decision {target}")
                done = corrections.undo(conn, int(target), code, **kw)
            elif record is None:
                raise corrections.CorrectionError("no union record to correct")
            elif action == "merge":
                other = corrections.parse_target(target)
                if not isinstance(other, int):
                    raise corrections.CorrectionError("give the union record to merge with by its number")
                done = corrections.merge(conn, record, other, code, note, **kw)
            else:
                done = corrections.keep_apart(
                    conn, record, corrections.parse_target(target), code, note, **kw
                )
    except corrections.NotFound as exc:
        return failed(404, str(exc))
    except corrections.Forbidden as exc:
        return failed(403, str(exc))
    except corrections.CorrectionError as exc:
        return failed(409, str(exc))
    except OperationalError:
        return failed(503, t("busy"))
    if not search.transactional:
        push_after_commit(catalogue, search, done.changed)
    destination = record if record in done.unions else (done.unions[0] if done.unions else record)
    if destination is None:
        return RedirectResponse(f"/librarian?lang={language}", status_code=303)
    return RedirectResponse(f"/records/{destination}/marc?lang={language}", status_code=303)
