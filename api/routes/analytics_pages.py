"""The librarians' analytics page: ``/librarian/analytics`` (the consortium) and
``/librarian/analytics/{code}`` (one member), with charts as SVG, each also a table, and CSV
downloads. Any signed-in librarian sees every member's figures: they are the consortium's."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from catalog.analytics.dimensions import DIMENSIONS
from catalog.analytics.members import Member, UnknownMember, members
from catalog.analytics.unique import every_unique_title

from .. import analytics_csv
from ..analytics_reports import (
    REPORTS,
    growth_report,
    member_or_none,
    overlap_report,
    summary_report,
    unique_report,
)
from ..charts import Bar, bar_chart, column_chart
from ..deps import EngineDep
from ..i18n import translator
from .web import LibrarianDep, _lang, render

router = APIRouter(include_in_schema=False)
CHART_VALUES = 12  # bars in a breakdown's chart (its table lists them all)
GROWTH_MONTHS = 24
UNIQUE_SHOWN = 20


def _signed_out(language: str) -> RedirectResponse:
    return RedirectResponse(f"/librarian?lang={language}", status_code=303)


def _page(
    request: Request, catalogue: Any, language: str, code: str | None, signed_in_as: str | None
) -> Response:
    t = translator(language)
    with catalogue.connect() as conn:
        everyone = members(conn)
        try:
            library = member_or_none(conn, code)
        except UnknownMember:
            return render(
                request, "librarian.html", language, 404, who=signed_in_as, jobs=[], error=t("not_found")
            )
        summary = summary_report(conn, library, 2, language)
        overlap = overlap_report(conn, library, language)
        unique = unique_report(conn, library, 0, UNIQUE_SHOWN, language)
        growth = growth_report(conn, library)
    months = growth["totals"][-GROWTH_MONTHS:]
    charts = {
        "distribution": bar_chart(
            t("analytics_distribution"),
            [Bar(str(e["libraries"]), e["titles"]) for e in summary["distribution"]],
            language,
        ),
        "growth": column_chart(
            t("analytics_growth_chart"), [Bar(m["month"], m["added"]) for m in months], language
        ),
    }
    for dimension in DIMENSIONS:
        entries = summary["breakdowns"][dimension][:CHART_VALUES]
        charts[dimension] = bar_chart(
            t(f"analytics_{dimension}"),
            [Bar(e["label"], e["titles"], e["unique_titles"]) for e in entries],
            language,
            part_name=t("analytics_of_them_unique"),
        )
    if library is not None:
        charts["overlap"] = bar_chart(
            t("analytics_overlap"),
            [Bar(p["code"], p["shared"]) for p in overlap["pairs"][:CHART_VALUES]],
            language,
        )
    query = {"lang": language, **({"library": library.code} if library else {})}
    return render(
        request,
        "analytics.html",
        language,
        library=library,
        library_name=library.name(language) if library else None,
        members=everyone,
        summary=summary,
        overlap=overlap,
        unique=unique,
        growth=growth,
        months=months,
        charts=charts,
        dimensions=DIMENSIONS,
        csv={report: f"/librarian/analytics/csv/{report}?{urlencode(query)}" for report in REPORTS},
    )


@router.get("/librarian/analytics", response_class=HTMLResponse)
def consortium_page(
    request: Request,
    catalogue: EngineDep,
    who: LibrarianDep,
    lang: str | None = None,
    library: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    language = _lang(request, lang)
    if who is None:
        return _signed_out(language)
    if library:  # the member chosen in the page's form
        return RedirectResponse(
            f"/librarian/analytics/{quote(library.strip(), safe='')}?lang={language}", 303
        )
    return _page(request, catalogue, language, None, who.library_code)


@router.get("/librarian/analytics/csv/{report}")
def csv_download(
    request: Request,
    catalogue: EngineDep,
    who: LibrarianDep,
    report: str,
    lang: str | None = None,
    library: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    language = _lang(request, lang)
    if who is None:
        return _signed_out(language)
    if report not in REPORTS:
        return Response(
            f"no report {report[:20]!r}: {', '.join(REPORTS)}", status_code=404, media_type="text/plain"
        )
    with catalogue.connect() as conn:
        try:
            chosen: Member | None = member_or_none(conn, library)
        except UnknownMember as exc:
            return Response(str(exc), status_code=404, media_type="text/plain")
        if report == "summary":
            data = summary_report(conn, chosen, 2, language)
        elif report == "overlap":
            data = overlap_report(conn, chosen, language)
        elif report == "unique":
            data = unique_report(conn, chosen, 0, 1, language)
            data["titles"] = list(every_unique_title(conn, chosen))
        else:
            data = growth_report(conn, chosen)
    suffix = f"-{chosen.code}" if chosen else ""
    return Response(
        analytics_csv.WRITERS[report](data),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="analytics-{report}{suffix}.csv"'},
    )


@router.get("/librarian/analytics/{code}", response_class=HTMLResponse)
def member_page(
    request: Request, catalogue: EngineDep, who: LibrarianDep, code: str, lang: str | None = None
) -> Response:
    language = _lang(request, lang)
    if who is None:
        return _signed_out(language)
    return _page(request, catalogue, language, code[:40], who.library_code)
