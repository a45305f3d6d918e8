"""The FastAPI application: cross-library search, records, holdings lookup, libraries, exports,
uploads by member libraries, jobs, and admin operations. Versioned under /api/v1."""

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalog import jobs as job_records
from catalog import tokens
from catalog.db import session_scope, writing
from catalog.libraries import (
    DuplicateLibrary,
    LibraryError,
    UnknownLibrary,
    add_library,
    get_library,
    library_dict,
    library_stats,
    list_libraries,
    update_library,
)
from catalog.lookup import InvalidIdentifier, holdings_of, lookup
from catalog.models import Holding, IngestJob, JobMode, Library, SourceRecord, UnionRecord
from catalog.search.engine import ConfigurationError, SearchEngine, SearchUnavailable, open_search
from catalog.search.query import MAX_PER_PAGE, MAX_QUERY_LENGTH, SORTS, QueryError, SearchQuery
from catalog.settings import Settings, get_settings
from harvest import sources

from . import context, exports, problems
from .labels import facet_value_label
from .problems import Problem
from .worker import HarvestTask, JobWorker, Task

HEALTH_COUNTS_TTL = 30.0
API = "/api/v1"
MAX_ID = 2_147_483_647
RecordId = Annotated[int, PathParam(ge=1, le=MAX_ID, description="union record id")]
JobId = Annotated[int, PathParam(ge=1, le=MAX_ID)]
TokenId = Annotated[int, PathParam(ge=1, le=MAX_ID)]


def create_app(
    engine: Engine | None = None, settings: Settings | None = None, start_worker: bool = True
) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if start_worker:
            app.state.worker.start()
        yield
        app.state.worker.stop()

    app = FastAPI(
        title="unioncat",
        summary="Union catalogue of the consortium's member libraries",
        version="0.1.0",
        docs_url=f"{API}/docs",
        openapi_url=f"{API}/openapi.json",
        lifespan=lifespan,
    )
    problems.install(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["*"], allow_headers=["*"]
        )
    catalogue = engine or context.open_engine(settings, migrate="always")
    try:
        search_engine: SearchEngine = open_search(settings, catalogue)
    except ConfigurationError as exc:
        raise context.CatalogueUnavailable(str(exc)) from None
    app.state.settings = settings
    app.state.engine = catalogue
    app.state.search = search_engine
    app.state.worker = JobWorker(catalogue, settings, search_engine)

    def session() -> Iterator[Session]:
        with Session(catalogue, expire_on_commit=False) as s:
            yield s

    SessionDep = Annotated[Session, Depends(session)]

    def principal(request: Request, db: SessionDep) -> tokens.Principal | None:
        header = request.headers.get("authorization", "")
        if not header:
            return None
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Problem(401, "use 'Authorization: Bearer <token>'")
        found = tokens.authenticate(db, value.strip(), settings.admin_token)
        if found is None:
            raise Problem(401, "unknown or revoked token")
        return found

    def require(who: tokens.Principal | None) -> tokens.Principal:
        if who is None:
            raise Problem(401, "this needs a token: 'Authorization: Bearer <token>'")
        return who

    def require_admin(who: Annotated[tokens.Principal | None, Depends(principal)]) -> tokens.Principal:
        who = require(who)
        if not who.admin:
            raise Problem(403, "only an admin may do this")
        return who

    PrincipalDep = Annotated[tokens.Principal | None, Depends(principal)]
    AdminDep = Annotated[tokens.Principal, Depends(require_admin)]

    def library_or_404(db: Session, code: str) -> Library:
        try:
            return get_library(db, code)
        except UnknownLibrary as exc:
            raise Problem(404, str(exc)) from None

    def own_library_or_403(db: Session, code: str, who: tokens.Principal | None, doing: str) -> Library:
        """The library ``code``, when ``who`` is that library or an admin."""
        lib = library_or_404(db, code)
        if not require(who).may_write(lib.code):
            raise Problem(403, f"only {lib.code} or an admin may {doing}")
        return lib

    # ---------------------------------------------------------------------------- service
    health_counts: dict[str, Any] = {}

    @app.get("/health", tags=["service"])
    def health() -> JSONResponse:
        """Whether the database and the search engine answer, with basic counts (counted at most
        every 30 s: on a large catalogue counting takes longer than a health check should)."""
        try:
            with Session(catalogue) as db:
                db.execute(text("SELECT 1"))
                cached = health_counts.get("counts")
                if cached is not None and time.monotonic() - health_counts["at"] < HEALTH_COUNTS_TTL:
                    counts: dict[str, Any] = cached
                else:
                    counts = {
                        "libraries": db.scalar(select(func.count()).select_from(Library)),
                        "source_records": db.scalar(
                            select(func.count())
                            .select_from(SourceRecord)
                            .where(SourceRecord.status == "active")
                        ),
                        "holdings": db.scalar(select(func.count()).select_from(Holding)),
                        "union_records": db.scalar(select(func.count()).select_from(UnionRecord)),
                    }
                    health_counts.update(at=time.monotonic(), counts=counts)
        except Exception as exc:
            return JSONResponse(
                {"status": "unavailable", "database": "unreachable", "detail": context._first_line(exc)},
                status_code=503,
            )
        search_health = search_engine.health()
        ok = search_health.get("status") == "ok"
        return JSONResponse(
            {
                "status": "ok" if ok else "degraded",
                "database": "ok",
                "search": search_health,
                "counts": counts,
            },
            status_code=200 if ok else 503,
        )

    # ----------------------------------------------------------------------------- search
    @app.get(f"{API}/search", tags=["search"])
    def search(
        q: Annotated[
            str, Query(max_length=MAX_QUERY_LENGTH, description='Words, "phrases", or an ISBN/ISSN')
        ] = "",
        library: Annotated[list[str], Query(max_length=20, description="Library codes (any of them)")] = [],  # noqa: B006
        language: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006
        material_type: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006
        subject: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006
        author: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006
        decade: Annotated[list[Annotated[int, Query(ge=0, le=9990)]], Query(max_length=20)] = [],  # noqa: B006
        year_from: Annotated[int | None, Query(ge=0, le=9999)] = None,
        year_to: Annotated[int | None, Query(ge=0, le=9999)] = None,
        has_digital: bool | None = None,
        sort: Annotated[str, Query(pattern="^(" + "|".join(SORTS) + ")$")] = "relevance",
        page: Annotated[int, Query(ge=1, le=1000)] = 1,
        per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 20,
        facets: bool = True,
        lang: Annotated[
            str, Query(pattern="^(vi|en)$", description="Language of the facet values' labels")
        ] = "vi",
    ) -> dict[str, Any]:
        """Search every member library at once; each hit names the libraries that hold it. Each facet
        value has a label for display (a language's name for its code, a library's name, ...)."""
        query = SearchQuery(
            q=q,
            libraries=[c.upper() for c in library],
            languages=language,
            material_types=material_type,
            subjects=subject,
            authors=author,
            decades=decade,
            year_from=year_from,
            year_to=year_to,
            has_digital=has_digital,
            sort=sort,
            page=page,
            per_page=per_page,
            facets=facets,
        )
        try:
            result = search_engine.search(query)
        except QueryError as exc:
            raise Problem(422, str(exc)) from None
        except SearchUnavailable as exc:
            raise Problem(503, str(exc)) from None
        names = library_names(catalogue)
        data = result.as_dict()
        for hit in data["hits"]:
            hit["libraries"] = [
                {"code": code, "name": names.get(code), "copies": hit["holdings"].get(code)}
                for code in hit["libraries"]
            ]
            del hit["holdings"]
            hit["url"] = f"{API}/records/{hit['id']}"
        for facet, values in data["facets"].items():
            for value in values:
                value["label"] = facet_value_label(facet, value["value"], lang, names)
        return data

    # ---------------------------------------------------------------------------- records
    @app.get(f"{API}/records/{{record_id}}", tags=["records"])
    def union_record(record_id: RecordId, db: SessionDep) -> dict[str, Any]:
        """A union record: its description, its member records, and per library the holdings."""
        union = db.get(UnionRecord, record_id)
        if union is None:
            raise Problem(404, f"no union record {record_id}")
        conn = db.connection()
        [held] = holdings_of(conn, [record_id]) or [{"libraries": []}]
        members = db.execute(
            select(Library.code, SourceRecord.local_id, SourceRecord.title)
            .join(Library, Library.id == SourceRecord.library_id)
            .where(SourceRecord.union_record_id == record_id, SourceRecord.status == "active")
            .order_by(Library.code, SourceRecord.local_id)
        ).all()
        return {
            "id": union.id,
            "title": union.title,
            "year": union.year,
            "fields": union.fields,
            "members": [
                {
                    "library": code,
                    "local_id": local_id,
                    "title": title,
                    "url": f"{API}/libraries/{code}/records/{local_id}",
                }
                for code, local_id, title in members
            ],
            "holdings": held["libraries"],
            "exports": {fmt: f"{API}/records/{record_id}/export?format={fmt}" for fmt in exports.FORMATS},
        }

    @app.get(f"{API}/records/{{record_id}}/explain", tags=["records"])
    def union_record_explain(record_id: RecordId, db: SessionDep) -> dict[str, Any]:
        """Why the union record holds these records: every decision about its members, with the rule
        and the reason (merged, or kept apart)."""
        from catalog.dedup.report import UnknownUnionRecord, explain

        try:
            return explain(db.connection(), record_id)
        except UnknownUnionRecord as exc:
            raise Problem(404, str(exc)) from None

    @app.get(f"{API}/records/{{record_id}}/export", tags=["records"], response_class=Response)
    def union_record_export(
        record_id: RecordId, db: SessionDep, format: Annotated[str, Query(max_length=20)] = "marcxml"
    ) -> Response:
        """The union record as one merged MARC record (MARCXML, ISO 2709 or MARC-in-JSON)."""
        try:
            fmt = exports.normalise(format)
            data = exports.union_export(db.connection(), record_id, fmt)
        except exports.ExportError as exc:
            raise Problem(422, str(exc)) from None
        if data is None:
            raise Problem(404, f"no union record {record_id}")
        return Response(data, media_type=exports.FORMATS[fmt], headers=_download(f"union-{record_id}", fmt))

    @app.get(f"{API}/libraries/{{code}}/records/{{local_id}}", tags=["records"])
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
            "holdings": [
                {
                    k: getattr(h, k)
                    for k in (
                        "call_number",
                        "location",
                        "sublocation",
                        "barcode",
                        "copies",
                        "item_type",
                        "status",
                    )
                }
                for h in items
            ],
            "opac_url": library.opac_url_pattern.replace("{id}", local_id)
            if library.opac_url_pattern
            else None,
            "exports": {
                fmt: f"{API}/libraries/{library.code}/records/{local_id}/export?format={fmt}"
                for fmt in exports.FORMATS
            },
        }

    @app.get(
        f"{API}/libraries/{{code}}/records/{{local_id}}/export", tags=["records"], response_class=Response
    )
    def source_record_export(
        code: str, local_id: str, db: SessionDep, format: Annotated[str | None, Query(max_length=20)] = None
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
            select(SourceRecord).where(
                SourceRecord.library_id == library.id, SourceRecord.local_id == local_id
            )
        ).first()
        if record is None:
            raise Problem(404, f"library {library.code} has no record {local_id!r}")
        return record

    # --------------------------------------------------------------------------- holdings
    @app.get(f"{API}/holdings", tags=["holdings"])
    async def holdings(
        isbn: Annotated[str | None, Query(max_length=40)] = None,
        issn: Annotated[str | None, Query(max_length=20)] = None,
        lccn: Annotated[str | None, Query(max_length=40)] = None,
        oclc: Annotated[str | None, Query(max_length=40)] = None,
        id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="union record id")] = None,
        library: Annotated[list[str], Query(max_length=50)] = [],  # noqa: B006
        region: Annotated[str | None, Query(max_length=100)] = None,
        all_editions: bool = False,
    ) -> JSONResponse:
        """Who holds this? By ISBN (10 or 13, hyphens allowed), ISSN, LCCN, OCLC number or union record id;
        optionally only some libraries or a region, and widened to every edition of the work.

        It runs on the event loop, not in the thread pool: a lookup is a few indexed reads (about
        2 ms) and the hop to a worker thread costs as much again."""
        given = [
            (k, v)
            for k, v in (("isbn", isbn), ("issn", issn), ("lccn", lccn), ("oclc", oclc), ("id", id))
            if v is not None
        ]
        if len(given) != 1:
            raise Problem(422, "give exactly one of isbn, issn, lccn, oclc or id")
        kind, value = given[0]
        try:
            with catalogue.connect() as conn:
                found = lookup(
                    conn,
                    kind,
                    str(value),
                    libraries=library or None,
                    region=region,
                    all_editions=all_editions,
                )
            return JSONResponse(found)
        except InvalidIdentifier as exc:
            raise Problem(422, str(exc)) from None

    # -------------------------------------------------------------------------- libraries
    @app.get(f"{API}/libraries", tags=["libraries"])
    def libraries(db: SessionDep) -> list[dict[str, Any]]:
        """The member libraries with their record and holding counts and last ingest time."""
        return [_public_library(lib, db) for lib in list_libraries(db)]

    @app.get(f"{API}/libraries/{{code}}", tags=["libraries"])
    def library(code: str, db: SessionDep) -> dict[str, Any]:
        return _public_library(library_or_404(db, code), db)

    def _public_library(lib: Library, db: Session) -> dict[str, Any]:
        data = library_dict(lib, library_stats(db, lib))
        data.pop("holdings_config", None)
        return data

    @app.post(f"{API}/libraries", tags=["admin"], status_code=201)
    def create_library(body: dict[str, Any], _admin: AdminDep) -> dict[str, Any]:
        """Add a member library (admin)."""
        values = dict(body)
        code, name = values.pop("code", None), values.pop("name_vi", None) or values.pop("name", None)
        if not isinstance(code, str) or not isinstance(name, str):
            raise Problem(422, "a library needs 'code' and 'name_vi'")
        try:
            with session_scope(catalogue) as db:
                return library_dict(add_library(db, code, name, **values))
        except DuplicateLibrary as exc:
            raise Problem(409, str(exc)) from None
        except (LibraryError, TypeError) as exc:
            raise Problem(422, str(exc)) from None

    @app.patch(f"{API}/libraries/{{code}}", tags=["admin"])
    def change_library(code: str, body: dict[str, Any], _admin: AdminDep) -> dict[str, Any]:
        """Change a library's settings (admin)."""
        try:
            with session_scope(catalogue) as db:
                return library_dict(update_library(db, code, **body))
        except UnknownLibrary as exc:
            raise Problem(404, str(exc)) from None
        except (LibraryError, TypeError) as exc:
            raise Problem(422, str(exc)) from None

    @app.post(f"{API}/libraries/{{code}}/tokens", tags=["admin"], status_code=201)
    def create_token(
        code: str, _admin: AdminDep, name: Annotated[str, Query(max_length=200)] = ""
    ) -> dict[str, Any]:
        """A new API token for the library; the token is in this answer only (admin)."""
        try:
            with session_scope(catalogue) as db:
                record, token = tokens.create_token(db, code, name)
                return {**tokens.token_dict(record, get_library(db, code).code), "token": token}
        except UnknownLibrary as exc:
            raise Problem(404, str(exc)) from None

    @app.get(f"{API}/tokens", tags=["admin"])
    def list_api_tokens(db: SessionDep, _admin: AdminDep) -> list[dict[str, Any]]:
        return tokens.list_tokens(db)

    @app.delete(f"{API}/tokens/{{token_id}}", tags=["admin"])
    def revoke_token(token_id: TokenId, _admin: AdminDep) -> dict[str, Any]:
        try:
            with session_scope(catalogue) as db:
                record = tokens.revoke(db, token_id)
                code = db.get(Library, record.library_id).code  # type: ignore[union-attr]
                return tokens.token_dict(record, code)
        except tokens.TokenError as exc:
            raise Problem(404, str(exc)) from None

    # ---------------------------------------------------------------------------- uploads
    @app.post(f"{API}/libraries/{{code}}/uploads", tags=["uploads"], status_code=202)
    async def upload(
        code: str,
        request: Request,
        who: PrincipalDep,
        mode: Annotated[str, Query(pattern="^(snapshot|update|delete)$")] = JobMode.UPDATE.value,
        format: Annotated[str, Query(max_length=20)] = "auto",
    ) -> JSONResponse:
        """Upload a MARC export of the library (multipart field 'file', or the raw body). The file is
        streamed to disk and ingested in the background; the answer points at the job at once."""
        principal_ = require(who)
        with Session(catalogue) as db:
            lib = library_or_404(db, code)
            if not principal_.may_write(lib.code):
                raise Problem(403, f"this token may not change the records of {lib.code}")
            try:
                fmt = sources.normalise_format(format)
            except Exception as exc:
                raise Problem(422, str(exc)) from None
        job_id = await accept_upload(lib.code, mode, fmt, request=request)
        url = f"{API}/jobs/{job_id}"
        return JSONResponse(
            {"job_id": job_id, "status": "queued", "url": url}, status_code=202, headers={"Location": url}
        )

    async def accept_upload(
        code: str, mode: str, fmt: str, request: Request | None = None, file: Any = None
    ) -> int:
        """Stream an upload to disk, record its job and queue it; the job id."""
        settings.uploads_dir.mkdir(parents=True, exist_ok=True)
        received = settings.uploads_dir / f"incoming-{uuid.uuid4().hex}"
        if file is not None:
            filename = await _receive_file(file, received, settings.max_upload_bytes)
        else:
            assert request is not None
            filename = await _receive(request, received, settings.max_upload_bytes)
        with Session(catalogue) as db:
            job_id = job_records.create_job(catalogue, get_library(db, code), "upload", mode, fmt, filename)
        target = app.state.worker.upload_path(job_id)
        received.rename(target)
        app.state.worker.submit(Task(job_id, code, target, mode, fmt))
        return job_id

    async def accept_form_upload(code: str, mode: str, fmt: str, file: Any) -> int:
        return await accept_upload(code, mode, fmt, file=file)

    app.state.accept_upload = accept_form_upload

    # ------------------------------------------------------------------------------- jobs
    def _job_or_404(db: Session, job_id: JobId, who: tokens.Principal | None) -> tuple[IngestJob, str]:
        row = db.execute(
            select(IngestJob, Library.code)
            .join(Library, Library.id == IngestJob.library_id)
            .where(IngestJob.id == job_id)
        ).first()
        if row is None:
            raise Problem(404, f"no job {job_id}")
        job, code = row
        if not require(who).may_write(code):
            raise Problem(403, f"job {job_id} belongs to {code}")
        return job, code

    @app.get(f"{API}/jobs/{{job_id}}", tags=["jobs"])
    def job(job_id: JobId, db: SessionDep, who: PrincipalDep) -> dict[str, Any]:
        """A job's status, progress, counts and where its rejected records are listed."""
        _job, code = _job_or_404(db, job_id, who)
        data = job_records.job_dict(db.connection(), job_id, code)
        data["progress"] = app.state.worker.progress.get(job_id)
        data["rejections_url"] = f"{API}/jobs/{job_id}/rejections"
        return data

    @app.get(f"{API}/jobs/{{job_id}}/rejections", tags=["jobs"])
    def job_rejections(
        job_id: JobId,
        db: SessionDep,
        who: PrincipalDep,
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
        per_page: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> dict[str, Any]:
        """The records the job rejected: number in the file, byte offset, local id, reason."""
        _job_or_404(db, job_id, who)
        conn = db.connection()
        return {
            "job_id": job_id,
            "total": job_records.rejection_count(conn, job_id),
            "page": page,
            "per_page": per_page,
            "rejections": job_records.rejections(conn, job_id, (page - 1) * per_page, per_page),
        }

    @app.get(f"{API}/libraries/{{code}}/jobs", tags=["jobs"])
    def library_jobs(
        code: str,
        db: SessionDep,
        who: PrincipalDep,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> list[dict[str, Any]]:
        """The library's jobs, newest first."""
        lib = own_library_or_403(db, code, who, "see its jobs")
        return job_records.library_jobs(db.connection(), lib.id, lib.code, limit)  # type: ignore[arg-type]

    @app.post(f"{API}/libraries/{{code}}/harvest", tags=["jobs"], status_code=202)
    def library_harvest(
        code: str,
        db: SessionDep,
        who: PrincipalDep,
        full: Annotated[bool, Query(description="Read everything again, not only what changed.")] = False,
        sweep: Annotated[
            bool | None, Query(description="List all identifiers to find deletions (default: when due).")
        ] = None,
    ) -> dict[str, Any]:
        """Harvest the library's OAI-PMH repository now, in the background (one harvest at a time per
        library: asking again while one waits changes nothing)."""
        lib = own_library_or_403(db, code, who, "harvest its records")
        if not lib.oai_base_url:
            raise Problem(409, f"library {lib.code} has no OAI-PMH base URL to harvest")
        queued = app.state.worker.submit(HarvestTask(lib.code, full=full, sweep=sweep))
        return {"library": lib.code, "queued": queued, "jobs": f"{API}/libraries/{lib.code}/jobs"}

    # ------------------------------------------------------------------------------ admin
    @app.post(f"{API}/admin/reindex", tags=["admin"])
    def admin_reindex(_admin: AdminDep) -> dict[str, Any]:
        """Rebuild the search index from the catalogue (searches keep working meanwhile)."""
        try:
            return {"engine": search_engine.name, "documents": search_engine.rebuild(catalogue)}
        except SearchUnavailable as exc:
            raise Problem(503, str(exc)) from None

    @app.post(f"{API}/admin/dedup-rebuild", tags=["admin"])
    def admin_dedup(_admin: AdminDep) -> dict[str, Any]:
        """Decide every candidate pair again, rebuild all union records, then the index."""
        from catalog.dedup.clusters import rebuild

        with writing(catalogue) as conn:
            rebuild(conn, settings.dedup_ignore_isbns)
            unions = conn.execute(select(func.count()).select_from(UnionRecord)).scalar_one()
        search_engine.rebuild(catalogue)
        return {"union_records": unions}

    from .oai_provider import oai_router
    from .web import router

    app.include_router(oai_router(catalogue, settings))
    app.include_router(router(app))
    return app


def _download(stem: str, fmt: str) -> dict[str, str]:
    suffix = {"marcxml": "xml", "iso2709": "mrc", "marcjson": "json"}[fmt]
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in stem)
    return {"Content-Disposition": f'attachment; filename="{safe}.{suffix}"'}


_NAMES: dict[int, tuple[float, dict[str, str]]] = {}


def library_names(engine: Engine) -> dict[str, str]:
    """Library code -> Vietnamese name, read at most every 30 seconds (search pages need them all)."""
    import time

    cached = _NAMES.get(id(engine))
    if cached and time.monotonic() - cached[0] < 30:
        return cached[1]
    with engine.connect() as conn:
        names = dict(conn.execute(select(Library.code, Library.name_vi)).all())
    _NAMES[id(engine)] = (time.monotonic(), names)
    return names


async def _receive_file(upload: Any, target: Path, limit: int) -> str:
    size = 0
    with open(target, "wb") as out:
        while chunk := await upload.read(1 << 20):
            size += len(chunk)
            if size > limit:
                out.close()
                target.unlink(missing_ok=True)
                raise Problem(413, f"the upload is larger than {limit} bytes")
            out.write(chunk)
    return upload.filename or "upload"


async def _receive(request: Request, target: Path, limit: int) -> str:
    """Stream the upload (multipart 'file' or raw body) to ``target``; the original file name."""
    content_type = request.headers.get("content-type", "")
    size = 0
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=10)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise Problem(422, "the multipart upload needs a 'file' field")
        return await _receive_file(upload, target, limit)
    with open(target, "wb") as out:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                out.close()
                target.unlink(missing_ok=True)
                raise Problem(413, f"the upload is larger than {limit} bytes")
            out.write(chunk)
    if size == 0:
        target.unlink(missing_ok=True)
        raise Problem(422, "the upload is empty")
    return request.headers.get("x-filename", "upload")[:200]
