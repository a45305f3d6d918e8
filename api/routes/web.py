"""The web pages for readers and librarians, server-rendered (no build step), Vietnamese by default."""

import logging
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlmodel import Session

from catalog import jobs as job_records
from catalog import tokens
from catalog.corrections import merged_into
from catalog.digital.listing import union_objects
from catalog.job_progress import read_progress
from catalog.libraries import UnknownLibrary, get_library, library_dict, library_stats, list_libraries
from catalog.links import linkable
from catalog.lookup import holdings_of, other_editions
from catalog.models import UnionRecord
from catalog.search.errors import QueryError
from catalog.search.facets import COUNTED, FILTERS, Kind
from catalog.search.query import MAX_QUERY_INPUT, MAX_QUERY_LENGTH, SORTS

from .. import csrf
from ..deps import (
    MAX_ID,
    EngineDep,
    SearchDep,
    SettingsDep,
    WorkerDep,
    library_names,
    noted_use,
    owned_job,
    union_record_missing,
)
from ..digital_readers import ReaderDep
from ..hit_details import HitDetails, hit_details
from ..i18n import LANGUAGES, translator
from ..labels import (
    facet_value_label,
    job_status_name,
    language_name,
    material_type_name,
    number,
    status_name,
)
from ..members import union_members
from ..problems import Problem
from ..reasons import Reason, reason_text
from ..search_params import SearchParams, problem_text
from ..sessions import COOKIE, LIFETIME_S, Sessions
from ..uploads import queue_upload, receive

log = logging.getLogger("unioncat.web")
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent.parent / "templates"))
TEMPLATES.env.globals.update(
    label=facet_value_label,
    language_name=language_name,
    material_type_name=material_type_name,
    status_name=status_name,
    job_status_name=job_status_name,
    number=number,
    reason_text=reason_text,
    linkable=linkable,
)
PER_PAGE = 20
MAX_REFRESH_S = 30  # a running job's page looks again after 1, 2, 4 ... seconds, at most this
FACET_VALUES_SHOWN = 10


def _lang(request: Request, lang: str | None) -> str:
    chosen = lang or request.cookies.get("lang") or "vi"
    return chosen if chosen in LANGUAGES else "vi"


router = APIRouter(include_in_schema=False)


def render(request: Request, name: str, lang: str, status: int = 200, **context: Any) -> HTMLResponse:
    query = dict(request.query_params)
    query["lang"] = "en" if lang == "vi" else "vi"
    response = TEMPLATES.TemplateResponse(
        request,
        name,
        {
            "lang": lang,
            "t": translator(lang),
            "switch_url": f"{request.url.path}?{urlencode(query)}",
            "csrf_token": lambda: csrf.form_token(request),
            **context,
        },
        status_code=status,
    )
    response.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax")
    csrf.set_cookie(request, response)  # when a form of the page needed a new one
    return response


def refused_form(request: Request, language: str, who: str | None) -> HTMLResponse:
    """403: a librarian's form without its CSRF token, or with another's (see :mod:`api.csrf`)."""
    message = translator(language)("csrf_refused")
    return render(request, "librarian.html", language, 403, who=who, jobs=[], error=message)


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request,
    search: SearchDep,
    catalogue: EngineDep,
    reader: ReaderDep,
    lang: str | None = None,
    q: Annotated[str, Query(max_length=MAX_QUERY_INPUT)] = "",  # longer than searched: its start, and a note
    sort: str = "relevance",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> HTMLResponse:
    language = _lang(request, lang)
    params = request.query_params
    selected = {facet.name: params.getlist(facet.name) for facet in COUNTED}
    chosen = {  # a number a hand-typed address got wrong is left out, not refused
        f.name: [v for v in selected[f.name] if v.isdigit()] if f.kind is Kind.INTEGER else selected[f.name]
        for f in COUNTED
    }
    # yes/no filters of the registry (a digital copy, full text): on when ticked
    toggles = {f.name: params.get(f.name) in ("true", "1", "on") for f in FILTERS if f.kind is Kind.BOOLEAN}
    sort = sort if sort in SORTS else "relevance"
    years = {key: _year(params.get(key)) for key in ("year_from", "year_to")}
    digital = toggles.get("has_digital", False)
    result, error, note = None, None, None  # error: a Reason
    try:
        wanted = SearchParams.model_validate(
            {"q": q, "sort": sort, "page": page, "per_page": PER_PAGE, **chosen, **years}
            | {name: True for name, on in toggles.items() if on}
        )
        result = search.search(wanted.to_query(facet_limit=FACET_VALUES_SHOWN, reader=reader))
        if wanted.shortened:
            note = translator(language)("query_too_long", n=MAX_QUERY_LENGTH)
    except (ValidationError, QueryError) as exc:
        error = reason_text(problem_text(exc) if isinstance(exc, ValidationError) else str(exc), language)
    facets = {f.name: (result.facets.get(f.name, []) if result else []) for f in COUNTED}

    def page_url(number: int) -> str:
        items = [(k, v) for k, v in params.multi_items() if k != "page"] + [("page", str(number))]
        return "/?" + urlencode(items)

    details: dict[int, HitDetails] = {}
    if result is not None and result.hits:
        with catalogue.connect() as conn:
            details = hit_details(conn, [hit.id for hit in result.hits], language)
    plain = None
    filtered = digital or any(v is not None for v in years.values()) or any(selected.values())
    if result is not None and result.total == 0 and (q or filtered):
        from catalog.text import fold

        plain = fold(q) if q and fold(q) != q.lower() else q
    plain_url = "/?" + urlencode({"q": plain, "lang": language}) if plain is not None else None
    corrected = result.did_you_mean if result is not None else None
    suggestion_url = None
    if corrected:  # the same filters and sort, the corrected words, the first page
        kept = [(k, v) for k, v in params.multi_items() if k not in ("q", "page")]
        suggestion_url = "/?" + urlencode([("q", corrected), *kept])
    return render(
        request,
        "search.html",
        language,
        q=q,
        sort=sort,
        sorts=SORTS,
        facets=facets,
        selected=selected,
        toggles=toggles,
        result=result,
        error=error,
        note=note,
        page=page,
        per_page=PER_PAGE,
        page_url=page_url,
        library_names=library_names(catalogue, language),
        years=years,
        digital=digital,
        details=details,
        plain_url=plain_url,
        plain_query=plain,
        suggestion_url=suggestion_url,
    )


def _year(value: str | None) -> int | None:
    """A year typed in the year range, or None for an empty box or one a hand-typed address got
    wrong (left out, not refused, like a wrong decade)."""
    text = (value or "").strip()
    return int(text) if text.isdigit() and len(text) <= 4 else None


@router.get("/records/{record_id}", response_class=HTMLResponse)
def record(
    request: Request, catalogue: EngineDep, record_id: int, reader: ReaderDep, lang: str | None = None
) -> HTMLResponse:
    language = _lang(request, lang)
    with Session(catalogue) as db:
        union = db.get(UnionRecord, record_id) if 0 < record_id <= MAX_ID else None
        if union is None:
            target = merged_into(db.connection(), record_id) if 0 < record_id <= MAX_ID else None
            if target is not None:
                return RedirectResponse(f"/records/{target}?lang={language}", status_code=301)  # type: ignore[return-value]
            missing = union_record_missing(db, record_id)
            message = Reason(translator(language)("gone" if missing.status == 410 else "not_found"), language)
            return render(request, "search.html", language, missing.status, q="", sort="relevance",
                          sorts=SORTS, facets={}, selected={}, result=None, error=message,
                          page=1, per_page=20, page_url=lambda n: "/", library_names={}, plain_url=None,
                          plain_query=None, suggestion_url=None, years={}, digital=False,
                          details={})  # fmt: skip
        conn = db.connection()
        held = holdings_of(conn, [record_id])
        editions = holdings_of(conn, other_editions(conn, [record_id]))
        members = union_members(db, record_id)
        files = union_objects(db, record_id, reader)
    fields = union.fields or {}
    digital = [link for link in fields.get("links", []) if link.get("kind") != "related"]
    return render(
        request,
        "record.html",
        language,
        record=union,
        f=_Obj(fields),
        holdings=held[0]["libraries"] if held else [],
        editions=editions,
        members=[{"code": m.library, "local_id": m.local_id} for m in members],
        digital=digital,
        files=files,
        permalink=str(request.url_for("record", record_id=record_id)),
        librarian=signed_in(request),
        cite=_citations(record_id, fields),
    )


def _citations(record_id: int, fields: dict[str, Any]) -> dict[str, str | None]:
    """The record's references in each style, as HTML escaped by citeproc-py (None: one failed)."""
    from .. import citations

    shown: dict[str, str | None] = {}
    for style in citations.STYLES:
        try:
            shown[style] = citations.formatted(record_id, fields, style, html=True)
        except Exception:  # a record citeproc-py cannot format still has its page
            log.exception("record %s: no %s citation", record_id, style)
            shown[style] = None
    return shown


@router.get("/records/{record_id}/citation.ris")
def citation(catalogue: EngineDep, record_id: int) -> Response:
    with Session(catalogue) as db:
        union = db.get(UnionRecord, record_id) if 0 < record_id <= MAX_ID else None
        if union is None:
            missing = union_record_missing(db, record_id)
            return PlainTextResponse(missing.detail, status_code=missing.status)
    f = union.fields or {}
    kind = {"book": "BOOK", "serial": "JOUR", "score": "MUSIC", "music recording": "MUSIC", "map": "MAP",
            "video": "VIDEO"}.get(f.get("material_type") or "", "GEN")  # fmt: skip
    lines = [f"TY  - {kind}", f"TI  - {f.get('title') or ''}"]
    if f.get("subtitle"):
        lines.append(f"T2  - {f['subtitle']}")
    lines += [f"AU  - {a['name']}" for a in f.get("authors", []) if a.get("kind") == "person"]
    for key, tag in (("year", "PY"), ("publisher", "PB"), ("place", "CY"), ("edition", "ET")):
        if f.get(key):
            lines.append(f"{tag}  - {f[key]}")
    lines += [f"SN  - {isbn}" for isbn in f.get("isbns", [])]
    lines += [f"KW  - {s}" for s in f.get("subjects", [])]
    lines += [f"UR  - {link['url']}" for link in f.get("links", []) if linkable(link.get("url"))][:3]
    lines.append("ER  - ")
    return Response(
        "\r\n".join(lines) + "\r\n",
        media_type="application/x-research-info-systems",
        headers={"Content-Disposition": f'attachment; filename="union-{record_id}.ris"'},
    )


@router.get("/libraries", response_class=HTMLResponse)
def libraries_page(request: Request, catalogue: EngineDep, lang: str | None = None) -> HTMLResponse:
    language = _lang(request, lang)
    with Session(catalogue) as db:
        rows = [library_dict(lib, library_stats(db, lib)) for lib in list_libraries(db)]
    return render(request, "libraries.html", language, libraries=[_Obj(r) for r in rows])


@router.get("/libraries/{code}", response_class=HTMLResponse)
def library_page(request: Request, catalogue: EngineDep, code: str, lang: str | None = None) -> HTMLResponse:
    language = _lang(request, lang)
    with Session(catalogue) as db:
        try:
            lib = get_library(db, code)
        except UnknownLibrary:
            return render(request, "libraries.html", language, 404, libraries=[])
        data = library_dict(lib, library_stats(db, lib))
    return render(request, "library.html", language, lib=_Obj(data))


def same_origin(request: Request) -> bool:
    """Whether a form was posted from our own pages: its Origin (or, without one, its Referer) is
    this site; a request with neither (not a browser's) passes, the session cookie still rules."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return True
    own = f"{request.url.scheme}://{request.url.netloc}"
    return origin == own or origin.startswith(own + "/")


def _sessions(request: Request) -> Sessions:
    return request.app.state.sessions  # type: ignore[no-any-return]


def signed_in(request: Request) -> tokens.Principal | None:
    """The library whose token the librarian signed in with (only a library's token signs in)."""
    who = _sessions(request).principal(request.cookies.get(COOKIE))
    noted_use(request, who)
    return who


LibrarianDep = Annotated[tokens.Principal | None, Depends(signed_in)]


@router.get("/librarian", response_class=HTMLResponse)
def librarian(
    request: Request,
    catalogue: EngineDep,
    who: LibrarianDep,
    lang: str | None = None,
    error: str | None = None,
) -> HTMLResponse:
    language = _lang(request, lang)
    code = who.library_code if who else None
    jobs: list[dict[str, Any]] = []
    if code:
        with Session(catalogue) as db:
            lib = get_library(db, code)
            jobs = job_records.library_jobs(db.connection(), lib.id, code, 20)  # type: ignore[arg-type]
    message = Reason(translator(language)("bad_token"), language) if error == "token" else None
    return render(request, "librarian.html", language, who=code, jobs=jobs, error=message)


@router.post("/librarian/login")
def login(
    request: Request,
    catalogue: EngineDep,
    token: Annotated[str, Form(max_length=200)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    lang: str | None = None,
) -> Response:
    if not csrf.valid(request, csrf_token):
        return refused_form(request, _lang(request, lang), None)
    with Session(catalogue) as db:
        principal = tokens.authenticate(db, token.strip(), None)
    if principal is None or principal.library_code is None:
        return RedirectResponse(f"/librarian?lang={lang or 'vi'}&error=token", status_code=303)
    noted_use(request, principal)
    response = RedirectResponse(f"/librarian?lang={lang or 'vi'}", status_code=303)
    response.set_cookie(
        COOKIE,
        _sessions(request).start(principal),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        max_age=LIFETIME_S,
    )
    return response


@router.post("/librarian/logout")
def logout(
    request: Request, csrf_token: Annotated[str, Form(max_length=200)] = "", lang: str | None = None
) -> Response:
    if not csrf.valid(request, csrf_token):  # another site must not sign the librarian out
        who = signed_in(request)
        return refused_form(request, _lang(request, lang), who.library_code if who else None)
    _sessions(request).end(request.cookies.get(COOKIE))  # ended here, not only forgotten by the browser
    response = RedirectResponse(f"/librarian?lang={lang or 'vi'}", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.post("/librarian/upload", response_model=None)
async def librarian_upload(request: Request, catalogue: EngineDep, settings: SettingsDep, worker: WorkerDep,
                           who: LibrarianDep, lang: str | None = None) -> Response:  # fmt: skip
    """The librarian's upload form: the session is checked before a byte of the body is read (the
    form is read here, not by the framework, which would spool all of it first)."""
    language = _lang(request, lang)
    code = who.library_code if who else None
    if code is None:
        return RedirectResponse(f"/librarian?lang={language}&error=token", status_code=303)
    if not same_origin(request):  # a form posted from another site with the librarian's cookie
        return render(
            request,
            "librarian.html",
            language,
            403,
            who=code,
            jobs=[],
            error=reason_text("cross-site upload", language),
        )
    try:
        received = await receive(request, settings, multipart_only=True)
    except Problem as exc:
        return render(
            request,
            "librarian.html",
            language,
            exc.status,
            who=code,
            jobs=[],
            error=reason_text(exc.detail, language),
        )
    if not csrf.valid(request, received.fields.get(csrf.FIELD)):
        received.discard()
        return refused_form(request, language, code)
    mode = received.fields.get("mode", "update")
    if mode not in ("update", "snapshot", "delete"):
        received.discard()
        return render(
            request,
            "librarian.html",
            language,
            422,
            who=code,
            jobs=[],
            error=reason_text(f"unknown mode {mode[:20]!r}: update, snapshot or delete", language),
        )
    job_id = await queue_upload(worker, code, mode, "auto", received)
    return RedirectResponse(f"/librarian/jobs/{job_id}?lang={language}", status_code=303)


@router.get("/librarian/jobs/{job_id}", response_class=HTMLResponse)
def job_page(
    request: Request,
    catalogue: EngineDep,
    worker: WorkerDep,
    who: LibrarianDep,
    job_id: int,
    lang: str | None = None,
    wait: str = "1",  # seconds before the next look; a wrong value is the first wait
) -> Response:
    language = _lang(request, lang)
    code = who.library_code if who else None
    if who is None or code is None:
        return RedirectResponse(f"/librarian?lang={language}", status_code=303)
    with Session(catalogue) as db:
        try:
            owned_job(db, job_id, who)
        except Problem:  # no such job, or another library's: not found either way
            return render(
                request,
                "librarian.html",
                language,
                404,
                who=code,
                jobs=[],
                error=Reason(translator(language)("not_found"), language),
            )
        conn = db.connection()
        data = job_records.job_dict(conn, job_id, code)
        rejected = job_records.rejections(conn, job_id, limit=200)
        running = data["status"] in ("queued", "running")
        progress = worker.progress.get(job_id) or (
            read_progress(conn, request.app.state.settings.uploads_dir, job_id) if running else None
        )
    refresh = None
    if running:  # polite: each look waits twice as long, up to a limit
        seconds = min(max(int(wait), 1), MAX_REFRESH_S) if wait.isdigit() and len(wait) < 6 else 1
        after = min(seconds * 2, MAX_REFRESH_S)
        refresh = {"seconds": seconds, "url": f"/librarian/jobs/{job_id}?lang={language}&wait={after}"}
    return render(request, "job.html", language, job=data, rejections=rejected,
                  progress=progress, refresh=refresh)  # fmt: skip


class _Obj(dict):  # type: ignore[type-arg]
    """A dict whose keys also read as attributes (templates), missing ones as None."""

    def __getattr__(self, name: str) -> Any:
        value = self.get(name)
        return _Obj(value) if isinstance(value, dict) else value
