"""Citations of a union record (BibTeX, CSL-JSON, formatted references; in the API and as the record
page's downloads) and Atom feeds (a member's new acquisitions, a search's records)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, ValidationError
from sqlmodel import Session

from catalog.libraries import UnknownLibrary, get_library
from catalog.models import UnionRecord
from catalog.search.errors import QueryError, SearchUnavailable
from catalog.search.facets import FILTERS, Kind

from .. import citations, feeds
from ..deps import API, MAX_ID, EngineDep, RecordId, SearchDep, SessionDep, union_record_missing
from ..problems import Problem, errors
from ..search_params import SearchParams, problem_text

router = APIRouter()
BIBTEX = "application/x-bibtex"
CSL_JSON = "application/vnd.citationstyles.csl+json"
Style = Literal["apa", "vietnam-moet"]
SINGLE = ("q", "sort", "year_from", "year_to")  # the search's parameters besides its facet filters


class FormattedCitation(BaseModel):
    style: str = Field(
        description="apa (APA 7th edition) or vietnam-moet (Vietnamese, Ministry of Education)"
    )
    text: str = Field(description="The reference as plain text")
    html: str = Field(description="The reference as HTML (escaped; only <i> and <b>)")


def _fields(db: Session, record_id: int) -> dict[str, Any]:
    union = db.get(UnionRecord, record_id) if 0 < record_id <= MAX_ID else None
    if union is None:
        raise union_record_missing(db, record_id)
    return union.fields or {}


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _download(body: str, media_type: str, filename: str) -> Response:
    return Response(
        body.encode(),
        media_type=f"{media_type}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# ------------------------------------------------------------------------------------ citations
@router.get(
    f"{API}/records/{{record_id}}/bibtex",
    tags=["records"],
    response_class=Response,
    responses={200: {"content": {BIBTEX: {}}, "description": "A BibTeX entry"}, **errors(404, 410, 422)},
)
def record_bibtex(record_id: RecordId, db: SessionDep) -> Response:
    """The union record as a BibTeX entry (UTF-8)."""
    return Response(citations.bibtex(record_id, _fields(db, record_id)), media_type=BIBTEX)


@router.get(
    f"{API}/records/{{record_id}}/csl-json",
    tags=["records"],
    response_class=Response,
    responses={
        200: {
            "content": {CSL_JSON: {"schema": {"type": "array", "items": {"type": "object"}}}},
            "description": "CSL-JSON",
        },
        **errors(404, 410, 422),
    },
)
def record_csl_json(record_id: RecordId, db: SessionDep) -> Response:
    """The union record as CSL-JSON (an array of one item), as Zotero and citeproc processors read it."""
    import orjson

    item = citations.csl_item(record_id, _fields(db, record_id))
    return Response(orjson.dumps([item]), media_type=CSL_JSON)


@router.get(
    f"{API}/records/{{record_id}}/citation",
    tags=["records"],
    response_model=FormattedCitation,
    responses=errors(404, 410, 422),
)
def record_citation(
    record_id: RecordId, db: SessionDep, style: Annotated[Style, Query()] = "apa"
) -> dict[str, str]:
    """The reference to the union record, formatted by a CSL style (citeproc-py)."""
    fields = _fields(db, record_id)
    return {
        "style": style,
        "text": citations.formatted(record_id, fields, style),
        "html": citations.formatted(record_id, fields, style, html=True),
    }


@router.get("/records/{record_id}/citation.bib", include_in_schema=False)
def record_page_bibtex(record_id: int, catalogue: EngineDep) -> Response:
    with Session(catalogue) as db:
        fields = _fields(db, record_id)
    return _download(citations.bibtex(record_id, fields), BIBTEX, f"union-{record_id}.bib")


@router.get("/records/{record_id}/citation.json", include_in_schema=False)
def record_page_csl_json(record_id: int, catalogue: EngineDep) -> Response:
    import orjson

    with Session(catalogue) as db:
        item = citations.csl_item(record_id, _fields(db, record_id))
    return _download(orjson.dumps([item]).decode(), CSL_JSON, f"union-{record_id}.json")


# ---------------------------------------------------------------------------------------- feeds
def _atom(body: bytes) -> Response:
    return Response(body, media_type=f"{feeds.MEDIA_TYPE}; charset=utf-8")


@router.get("/libraries/{code}/feed.atom", include_in_schema=False)
def library_feed(code: str, catalogue: EngineDep, request: Request) -> Response:
    """A member's new acquisitions: its records as they first came, newest first."""
    with Session(catalogue) as db:
        try:
            library = get_library(db, code)
        except UnknownLibrary:
            raise Problem(404, "no such library") from None
        entries = feeds.acquisitions(db.connection(), library)
    base = _base(request)
    page = f"{base}/libraries/{library.code}"
    title = f"{library.name_vi} ({library.code}): tài liệu mới · new acquisitions"
    return _atom(feeds.render(f"{page}/feed.atom", title, f"{page}/feed.atom", page, entries))


@router.get("/search/feed.atom", include_in_schema=False)
def search_feed(request: Request, catalogue: EngineDep, search: SearchDep) -> Response:
    """The union records of a search (the query and filters of the search page), as an Atom feed."""
    params = request.query_params
    wanted: dict[str, Any] = {key: params.get(key) for key in SINGLE if key in params}
    wanted.update({f.name: params.getlist(f.name) for f in FILTERS if f.kind is not Kind.BOOLEAN})
    wanted.update(
        {f.name: params.get(f.name) for f in FILTERS if f.kind is Kind.BOOLEAN and f.name in params}
    )
    try:
        query = SearchParams.model_validate({**wanted, "page": 1, "per_page": feeds.ENTRIES, "facets": False})
        result = search.search(query.to_query())
    except ValidationError as exc:
        raise Problem(422, problem_text(exc)) from None
    except QueryError as exc:
        raise Problem(422, str(exc)) from None
    except SearchUnavailable as exc:
        raise Problem(503, str(exc)) from None
    with catalogue.connect() as conn:
        entries = feeds.union_entries(conn, [hit.id for hit in result.hits])
    base = _base(request)
    kept = urlencode([(k, v) for k, v in params.multi_items() if k not in ("page", "per_page")])
    page = f"{base}/?{kept}"
    title = f"unioncat: {query.q or '*'}"
    return _atom(
        feeds.render(
            f"{base}/search/feed.atom?{kept}", title, f"{base}/search/feed.atom?{kept}", page, entries
        )
    )
