"""The web pages for readers and librarians, server-rendered (no build step), Vietnamese by default."""

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlmodel import Session

from catalog import jobs as job_records
from catalog import tokens
from catalog.libraries import UnknownLibrary, get_library, library_dict, library_stats, list_libraries
from catalog.lookup import holdings_of, other_editions
from catalog.models import IngestJob, Library, SourceRecord, UnionRecord
from catalog.search.query import FACETS, MAX_QUERY_LENGTH, SORTS, QueryError, SearchQuery

from .app import library_names
from .i18n import LANGUAGES, translator
from .labels import (
    facet_value_label,
    job_status_name,
    language_name,
    material_type_name,
    number,
    status_name,
)

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.globals.update(
    label=facet_value_label,
    language_name=language_name,
    material_type_name=material_type_name,
    status_name=status_name,
    job_status_name=job_status_name,
    number=number,
)
COOKIE = "unioncat_token"
FACET_PARAMS = {
    "library": "libraries",
    "language": "languages",
    "material_type": "material_types",
    "subject": "subjects",
    "author": "authors",
    "decade": "decades",
}


def _lang(request: Request, lang: str | None) -> str:
    chosen = lang or request.cookies.get("lang") or "vi"
    return chosen if chosen in LANGUAGES else "vi"


def router(app: Any) -> APIRouter:
    web = APIRouter(include_in_schema=False)
    state = app.state

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
                **context,
            },
            status_code=status,
        )
        response.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax")
        return response

    @web.get("/", response_class=HTMLResponse)
    def home(
        request: Request,
        lang: str | None = None,
        q: Annotated[str, Query(max_length=20 * MAX_QUERY_LENGTH)] = "",  # longer: a message on the page
        sort: str = "relevance",
        page: Annotated[int, Query(ge=1, le=1000)] = 1,
    ) -> HTMLResponse:
        language = _lang(request, lang)
        params = request.query_params
        selected = {facet: params.getlist(facet) for facet in FACET_PARAMS}
        query = SearchQuery(
            q=q, sort=sort if sort in SORTS else "relevance", page=page, per_page=20, facet_limit=10
        )
        for facet, attribute in FACET_PARAMS.items():
            values = selected[facet]
            if facet == "decade":
                setattr(query, attribute, [int(v) for v in values if v.isdigit()])
            else:
                setattr(query, attribute, values)
        result, error = None, None
        try:
            result = state.search.search(query)
        except QueryError as exc:
            too_long = len(q) > MAX_QUERY_LENGTH
            error = translator(language)("query_too_long", n=MAX_QUERY_LENGTH) if too_long else str(exc)
        facets = {f: (result.facets.get(f, []) if result else []) for f in FACETS}

        def page_url(number: int) -> str:
            items = [(k, v) for k, v in params.multi_items() if k != "page"] + [("page", str(number))]
            return "/?" + urlencode(items)

        plain = None
        if result is not None and result.total == 0 and (q or any(selected.values())):
            from catalog.text import fold

            plain = fold(q) if q and fold(q) != q.lower() else q
        plain_url = "/?" + urlencode({"q": plain, "lang": language}) if plain is not None else None
        return render(
            request,
            "search.html",
            language,
            q=q,
            sort=query.sort,
            sorts=SORTS,
            facets=facets,
            selected=selected,
            result=result,
            error=error,
            page=page,
            per_page=query.per_page,
            page_url=page_url,
            library_names=library_names(state.engine),
            plain_url=plain_url,
            plain_query=plain,
        )

    @web.get("/records/{record_id}", response_class=HTMLResponse)
    def record(request: Request, record_id: int, lang: str | None = None) -> HTMLResponse:
        language = _lang(request, lang)
        with Session(state.engine) as db:
            union = db.get(UnionRecord, record_id) if 0 < record_id < 2**31 else None
            if union is None:
                return render(request, "search.html", language, 404, q="", sort="relevance", sorts=SORTS,
                              facets={}, selected={}, result=None, error=translator(language)("not_found"),
                              page=1, per_page=20, page_url=lambda n: "/", library_names={}, plain_url=None,
                              plain_query=None)  # fmt: skip
            conn = db.connection()
            held = holdings_of(conn, [record_id])
            editions = holdings_of(conn, other_editions(conn, [record_id]))
            members = db.execute(
                select(Library.code, SourceRecord.local_id)
                .join(Library, Library.id == SourceRecord.library_id)
                .where(SourceRecord.union_record_id == record_id, SourceRecord.status == "active")
                .order_by(Library.code)
            ).all()
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
            members=[{"code": c, "local_id": i} for c, i in members],
            digital=digital,
            permalink=str(request.url_for("record", record_id=record_id)),
        )

    @web.get("/records/{record_id}/citation.ris")
    def citation(record_id: int) -> Response:
        with Session(state.engine) as db:
            union = db.get(UnionRecord, record_id) if 0 < record_id < 2**31 else None
        if union is None:
            return PlainTextResponse("not found", status_code=404)
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
        lines += [f"UR  - {link['url']}" for link in f.get("links", [])[:3]]
        lines.append("ER  - ")
        return Response(
            "\r\n".join(lines) + "\r\n",
            media_type="application/x-research-info-systems",
            headers={"Content-Disposition": f'attachment; filename="union-{record_id}.ris"'},
        )

    @web.get("/libraries", response_class=HTMLResponse)
    def libraries_page(request: Request, lang: str | None = None) -> HTMLResponse:
        language = _lang(request, lang)
        with Session(state.engine) as db:
            rows = [library_dict(lib, library_stats(db, lib)) for lib in list_libraries(db)]
        return render(request, "libraries.html", language, libraries=[_Obj(r) for r in rows])

    @web.get("/libraries/{code}", response_class=HTMLResponse)
    def library_page(request: Request, code: str, lang: str | None = None) -> HTMLResponse:
        language = _lang(request, lang)
        with Session(state.engine) as db:
            try:
                lib = get_library(db, code)
            except UnknownLibrary:
                return render(request, "libraries.html", language, 404, libraries=[])
            data = library_dict(lib, library_stats(db, lib))
        return render(request, "library.html", language, lib=_Obj(data))

    def who(request: Request) -> str | None:
        token = request.cookies.get(COOKIE)
        if not token:
            return None
        with Session(state.engine) as db:
            principal = tokens.authenticate(db, token, None)
        return principal.library_code if principal else None

    @web.get("/librarian", response_class=HTMLResponse)
    def librarian(request: Request, lang: str | None = None, error: str | None = None) -> HTMLResponse:
        language = _lang(request, lang)
        code = who(request)
        jobs: list[dict[str, Any]] = []
        if code:
            with Session(state.engine) as db:
                lib = get_library(db, code)
                jobs = job_records.library_jobs(db.connection(), lib.id, code, 20)  # type: ignore[arg-type]
        message = translator(language)("bad_token") if error == "token" else None
        return render(request, "librarian.html", language, who=code, jobs=jobs, error=message)

    @web.post("/librarian/login")
    def login(token: Annotated[str, Form(max_length=200)], lang: str | None = None) -> RedirectResponse:
        with Session(state.engine) as db:
            principal = tokens.authenticate(db, token.strip(), None)
        if principal is None or principal.library_code is None:
            return RedirectResponse(f"/librarian?lang={lang or 'vi'}&error=token", status_code=303)
        response = RedirectResponse(f"/librarian?lang={lang or 'vi'}", status_code=303)
        response.set_cookie(COOKIE, token.strip(), httponly=True, samesite="strict", max_age=8 * 3600)
        return response

    @web.get("/librarian/logout")
    def logout(lang: str | None = None) -> RedirectResponse:
        response = RedirectResponse(f"/librarian?lang={lang or 'vi'}", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @web.post("/librarian/upload")
    async def librarian_upload(request: Request, file: UploadFile, mode: Annotated[str, Form()] = "update",
                               lang: str | None = None) -> RedirectResponse:  # fmt: skip
        code = who(request)
        if code is None or mode not in ("update", "snapshot", "delete"):
            return RedirectResponse(f"/librarian?lang={lang or 'vi'}&error=token", status_code=303)
        job_id = await state.accept_upload(code, mode, "auto", file)
        return RedirectResponse(f"/librarian/jobs/{job_id}?lang={lang or 'vi'}", status_code=303)

    @web.get("/librarian/jobs/{job_id}", response_class=HTMLResponse)
    def job_page(request: Request, job_id: int, lang: str | None = None) -> Response:
        language = _lang(request, lang)
        code = who(request)
        if code is None:
            return RedirectResponse(f"/librarian?lang={language}", status_code=303)
        with Session(state.engine) as db:
            row = db.execute(
                select(IngestJob.id, Library.code)
                .join(Library, Library.id == IngestJob.library_id)
                .where(IngestJob.id == job_id)
            ).first()
            if row is None or row[1] != code:
                return render(
                    request,
                    "librarian.html",
                    language,
                    404,
                    who=code,
                    jobs=[],
                    error=translator(language)("not_found"),
                )
            conn = db.connection()
            data = job_records.job_dict(conn, job_id, code)
            rejected = job_records.rejections(conn, job_id, limit=200)
        return render(request, "job.html", language, job=data, rejections=rejected,
                      progress=state.worker.progress.get(job_id))  # fmt: skip

    return web


class _Obj(dict):  # type: ignore[type-arg]
    """A dict whose keys also read as attributes (templates), missing ones as None."""

    def __getattr__(self, name: str) -> Any:
        value = self.get(name)
        return _Obj(value) if isinstance(value, dict) else value
