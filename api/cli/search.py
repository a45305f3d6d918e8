"""``unioncat search``, ``holdings``, ``reindex`` and ``check-index``: finding records and keeping
the search index right."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError

from .common import CliError, JsonOption, app, err, open_catalogue, out, print_json, search_for


@app.command("search")
def search(
    query: Annotated[str, typer.Argument(help='Words, "a phrase", or an ISBN/ISSN.')],
    library: Annotated[
        list[str] | None, typer.Option("--library", "-l", help="Only what this library holds.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100, help="How many hits.")] = 20,
    page: Annotated[int, typer.Option(min=1, help="Which page of hits.")] = 1,
    sort: Annotated[str, typer.Option(help="relevance, year_desc, year_asc or title.")] = "relevance",
    as_json: JsonOption = False,
) -> None:
    """Search the union catalogue with the same engine as the service."""
    from catalog.search.errors import QueryError

    from ..search_params import SearchParams, problem_text

    try:
        wanted = SearchParams(
            q=query, library=library or [], per_page=limit, page=page, sort=sort, facets=False
        )
    except ValidationError as exc:
        raise CliError(problem_text(exc)) from None
    engine = open_catalogue()
    try:
        result = search_for(engine).search(wanted.to_query())
    except QueryError as exc:
        raise CliError(str(exc)) from None
    if as_json:
        print_json(
            {
                "total": result.total,
                "hits": [
                    {"id": h.id, "title": h.title, "year": h.year, "isbns": h.isbns, "libraries": h.libraries}
                    for h in result.hits
                ],
            }
        )
        return
    err.print(f"{result.total} union records")
    for hit in result.hits:
        held = ", ".join(hit.libraries) or "-"
        out.print(f"{hit.id:>8}  {hit.title}  ({hit.year or '?'})  [{held}]", markup=False, highlight=False)


@app.command("holdings")
def holdings_cmd(
    isbn: Annotated[str | None, typer.Option(help="ISBN-10 or -13, hyphens allowed.")] = None,
    issn: Annotated[str | None, typer.Option(help="ISSN.")] = None,
    union_id: Annotated[int | None, typer.Option("--id", help="Union record id.")] = None,
    library: Annotated[
        list[str] | None, typer.Option("--library", "-l", help="Only these libraries.")
    ] = None,
    all_editions: Annotated[
        bool, typer.Option("--all-editions", help="Other editions of the work too.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Which member libraries hold an ISBN, an ISSN or a union record."""
    from catalog.lookup import InvalidIdentifier, lookup

    given = [(k, v) for k, v in (("isbn", isbn), ("issn", issn), ("id", union_id)) if v is not None]
    if len(given) != 1:
        raise CliError("give exactly one of --isbn, --issn or --id")
    kind, value = given[0]
    engine = open_catalogue()
    with engine.connect() as conn:
        try:
            data = lookup(conn, kind, str(value), libraries=library, all_editions=all_editions)
        except InvalidIdentifier as exc:
            raise CliError(str(exc)) from None
    if as_json:
        print_json(data)
        return
    if not data["records"]:
        err.print("no library holds it")
        return
    for record in data["records"]:
        out.print(
            f"{record['id']}: {record['title']} ({record['year'] or '?'}) [{record['match']}]", markup=False
        )
        for lib in record["libraries"]:
            calls = sorted({i["call_number"] for i in lib["items"] if i["call_number"]})
            out.print(f"    {lib['code']:<10} {lib['copies']} copies  {', '.join(calls)}", markup=False)


@app.command("reindex")
def reindex(as_json: JsonOption = False) -> None:
    """Rebuild the search index from the catalogue (searches keep working meanwhile)."""
    engine = open_catalogue()
    search_engine = search_for(engine)
    with err.status("reindexing"):
        count = search_engine.rebuild(engine)
    if as_json:
        print_json({"engine": search_engine.name, "documents": count})
    else:
        err.print(f"{search_engine.name} index rebuilt: {count} documents")


@app.command("check-index")
def check_index(
    sample: Annotated[int, typer.Option(min=1, max=100_000, help="Documents compared one by one.")] = 200,
    as_json: JsonOption = False,
) -> None:
    """Compare the catalogue and the search index; exit code 1 when they drifted apart."""
    from catalog.search.consistency import check

    engine = open_catalogue()
    report = check(engine, search_for(engine), sample=sample)
    if as_json:
        print_json(report)
    else:
        state = "in sync" if report["in_sync"] else "DRIFT"
        err.print(
            f"{report['engine']}: {state}: {report['catalogue_union_records']} union records, "
            f"{report['index_documents']} documents; of {report['sampled']} sampled, "
            f"{len(report['missing'])} missing and {len(report['stale'])} stale"
        )
    if not report["in_sync"]:
        raise typer.Exit(1)
