"""Collection analytics over HTTP: ``/api/v1/analytics/summary``, ``/overlap``, ``/unique`` and
``/growth``, as JSON or CSV (``?format=csv`` or ``Accept: text/csv``).

Who may read them: any member library's token and the admin's. The figures describe the members'
collections side by side (what each holds alone, where they overlap): the consortium's working
material for shared collection decisions, not a public page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from catalog.analytics.members import UnknownMember

from .. import analytics_csv
from ..analytics_reports import growth_report, member_or_none, overlap_report, summary_report, unique_report
from ..deps import API, EngineDep, PrincipalDep, require
from ..problems import Problem, errors
from ..schemas.analytics import Growth, Overlap, Summary, Unique

router = APIRouter(prefix=f"{API}/analytics", tags=["analytics"])

Library = Annotated[
    str | None,
    Query(max_length=16, description="A member's code: its figures (by default the whole consortium's)"),
]
Format = Annotated[Literal["json", "csv"] | None, Query(description="csv: a CSV table (or Accept: text/csv)")]
Lang = Annotated[Literal["vi", "en"], Query(description="The language of names and labels")]
CSV_TYPE = "text/csv; charset=utf-8"
ERRORS = errors(401, 404, 422)
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}}}


def wants_csv(request: Request, fmt: str | None) -> bool:
    if fmt is not None:
        return fmt == "csv"
    return "text/csv" in request.headers.get("accept", "")


def _answer(
    request: Request,
    fmt: str | None,
    name: str,
    data: dict[str, Any],
    writer: Callable[[dict[str, Any]], str],
) -> Any:
    if not wants_csv(request, fmt):
        return data
    suffix = f"-{data['library']}" if data.get("library") else ""
    return Response(
        writer(data),
        media_type=CSV_TYPE,
        headers={"Content-Disposition": f'attachment; filename="analytics-{name}{suffix}.csv"'},
    )


def _read(
    catalogue: Any, code: str | None, build: Callable[..., dict[str, Any]], *args: Any
) -> dict[str, Any]:
    with catalogue.connect() as conn:
        try:
            library = member_or_none(conn, code)
        except UnknownMember as exc:
            raise Problem(404, str(exc)) from None
        return build(conn, library, *args)


@router.get("/summary", response_model=Summary, responses={**ERRORS, **CSV_RESPONSE})
def summary(
    request: Request,
    catalogue: EngineDep,
    who: PrincipalDep,
    library: Library = None,
    min_libraries: Annotated[int, Query(ge=1, le=10_000, description="'held by at least' this many")] = 2,
    format: Format = None,
    lang: Lang = "vi",
) -> Any:
    """Titles held, how many members hold them, and titles by subject class, language, decade and
    material type (with the unique ones), for the consortium or one member."""
    require(who)
    data = _read(catalogue, library, summary_report, min_libraries, lang)
    return _answer(request, format, "summary", data, analytics_csv.summary_csv)


@router.get("/overlap", response_model=Overlap, responses={**ERRORS, **CSV_RESPONSE})
def overlap(
    request: Request, catalogue: EngineDep, who: PrincipalDep, library: Library = None, format: Format = None,
    lang: Lang = "vi",
) -> Any:  # fmt: skip
    """The overlap matrix (union records held by both of two members); with ``library``, that member
    against each other one."""
    require(who)
    data = _read(catalogue, library, overlap_report, lang)
    return _answer(request, format, "overlap", data, analytics_csv.overlap_csv)


@router.get("/unique", response_model=Unique, responses={**ERRORS, **CSV_RESPONSE})
def unique(
    request: Request,
    catalogue: EngineDep,
    who: PrincipalDep,
    library: Library = None,
    after: Annotated[int, Query(ge=0, le=2_147_483_647, description="The last id of the previous page")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    format: Format = None,
    lang: Lang = "vi",
) -> Any:
    """Titles held by one member alone: counted per member, and listed (``library``'s, or anyone's)
    page by page."""
    require(who)
    data = _read(catalogue, library, unique_report, after, limit, lang)
    return _answer(request, format, "unique", data, analytics_csv.unique_csv)


@router.get("/growth", response_model=Growth, responses={**ERRORS, **CSV_RESPONSE})
def growth(
    request: Request, catalogue: EngineDep, who: PrincipalDep, library: Library = None, format: Format = None
) -> Any:
    """Records added, updated and deleted per member and month, from the jobs' history."""
    require(who)
    data = _read(catalogue, library, growth_report)
    return _answer(request, format, "growth", data, analytics_csv.growth_csv)
