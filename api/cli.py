"""The ``unioncat`` command line. Every reporting command takes ``--json`` (JSON on stdout, progress and
messages on stderr); every error is one line on stderr and a non-zero exit code."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from catalog import db, holdings
from catalog.db import session_scope, writing
from catalog.libraries import (
    LibraryError,
    add_library,
    get_library,
    library_dict,
    library_stats,
    list_libraries,
    update_library,
)
from catalog.models import Library
from catalog.settings import Settings
from harvest.incoming import FormatError
from harvest.ingest import IngestError, ingest_file

from . import context

app = typer.Typer(
    name="unioncat",
    help="unioncat: the consortium's union catalogue (ingest, search, holdings, service).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="The catalogue database.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens of member libraries.", no_args_is_help=True)
library_app = typer.Typer(help="Member libraries.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(library_app, name="library")
app.add_typer(token_app, name="token")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]


class CliError(Exception):
    """An error the user can act on: printed as one line, exit code 1."""


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise CliError(f"invalid setting UNIONCAT_{field.upper()}: {first['msg']}") from None


def _engine(migrate: str = "empty") -> Any:
    try:
        return context.open_engine(_settings(), migrate=migrate)
    except context.CatalogueUnavailable as exc:
        raise CliError(str(exc)) from None


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")


# ---------------------------------------------------------------------------------------------- db
@db_app.command("upgrade")
def db_upgrade(as_json: JsonOption = False) -> None:
    """Apply the schema migrations the database lacks."""
    engine = _engine(migrate="always")
    revision = db.current_revision(engine)
    if as_json:
        _print_json({"revision": revision, "database": engine.url.render_as_string(hide_password=True)})
    else:
        err.print(f"database at revision {revision}: {engine.url.render_as_string(hide_password=True)}")


# ----------------------------------------------------------------------------------------- library
@library_app.command("add")
def library_add(
    code: Annotated[str, typer.Argument(help="ISIL-like code, e.g. VNU-LIC.")],
    name: Annotated[str, typer.Option("--name", help="Name in Vietnamese.")],
    name_en: Annotated[str | None, typer.Option("--name-en", help="Name in English.")] = None,
    region: Annotated[str | None, typer.Option(help="Region.")] = None,
    city: Annotated[str | None, typer.Option(help="City.")] = None,
    website: Annotated[str | None, typer.Option(help="Website URL.")] = None,
    opac_url: Annotated[
        str | None, typer.Option("--opac-url", help="Link to a local record, with {id} for its local id.")
    ] = None,
    contact: Annotated[str | None, typer.Option(help="Contact person or e-mail.")] = None,
    holdings_profile: Annotated[
        str, typer.Option("--holdings-profile", help=f"One of: {', '.join(holdings.profile_names())}.")
    ] = holdings.AUTO,
    oai_url: Annotated[str | None, typer.Option("--oai-url", help="OAI-PMH base URL to harvest.")] = None,
    oai_prefix: Annotated[
        str | None, typer.Option("--oai-prefix", help="metadataPrefix to harvest (default marc21).")
    ] = None,
    oai_set: Annotated[str | None, typer.Option("--oai-set", help="Harvest only this OAI-PMH set.")] = None,
    harvest_every: Annotated[
        int | None, typer.Option("--harvest-every", min=1, help="Harvest by the service every N hours.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Add a member library."""
    engine = _engine()
    with session_scope(engine) as session:
        library = add_library(
            session,
            code,
            name,
            name_en=name_en,
            region=region,
            city=city,
            website=website,
            opac_url_pattern=opac_url,
            contact=contact,
            holdings_profile=holdings_profile,
            oai_base_url=oai_url,
            oai_metadata_prefix=oai_prefix,
            oai_set=oai_set,
            harvest_interval_hours=harvest_every,
        )
        data = library_dict(library)
    if as_json:
        _print_json(data)
    else:
        err.print(f"added library {data['code']}: {data['name_vi']}")


@library_app.command("update")
def library_update(
    code: Annotated[str, typer.Argument(help="Code of the library.")],
    name: Annotated[str | None, typer.Option("--name", help="Name in Vietnamese.")] = None,
    name_en: Annotated[str | None, typer.Option("--name-en", help="Name in English.")] = None,
    region: Annotated[str | None, typer.Option(help="Region.")] = None,
    city: Annotated[str | None, typer.Option(help="City.")] = None,
    website: Annotated[str | None, typer.Option(help="Website URL.")] = None,
    opac_url: Annotated[str | None, typer.Option("--opac-url", help="Link to a local record ({id}).")] = None,
    contact: Annotated[str | None, typer.Option(help="Contact person or e-mail.")] = None,
    holdings_profile: Annotated[
        str | None, typer.Option("--holdings-profile", help="Holdings profile.")
    ] = None,
    oai_url: Annotated[str | None, typer.Option("--oai-url", help="OAI-PMH base URL to harvest.")] = None,
    oai_prefix: Annotated[str | None, typer.Option("--oai-prefix", help="metadataPrefix to harvest.")] = None,
    oai_set: Annotated[str | None, typer.Option("--oai-set", help="Harvest only this set.")] = None,
    harvest_every: Annotated[
        int | None, typer.Option("--harvest-every", min=1, help="Harvest by the service every N hours.")
    ] = None,
    active: Annotated[bool | None, typer.Option("--active/--inactive", help="Member in service?")] = None,
    as_json: JsonOption = False,
) -> None:
    """Change a member library's details (only the options given)."""
    values = {
        "name_vi": name,
        "name_en": name_en,
        "region": region,
        "city": city,
        "website": website,
        "opac_url_pattern": opac_url,
        "contact": contact,
        "holdings_profile": holdings_profile,
        "oai_base_url": oai_url,
        "oai_metadata_prefix": oai_prefix,
        "oai_set": oai_set,
        "harvest_interval_hours": harvest_every,
        "active": active,
    }
    changes = {k: v for k, v in values.items() if v is not None}
    if not changes:
        raise CliError("nothing to change: give at least one option (see --help)")
    engine = _engine()
    with session_scope(engine) as session:
        data = library_dict(update_library(session, code, **changes))
    if as_json:
        _print_json(data)
    else:
        err.print(f"updated library {data['code']}: {', '.join(sorted(changes))}")


@library_app.command("list")
def library_list(as_json: JsonOption = False) -> None:
    """List the member libraries with their counts."""
    engine = _engine()
    with session_scope(engine) as session:
        rows = [library_dict(lib, library_stats(session, lib)) for lib in list_libraries(session)]
    if as_json:
        _print_json(rows)
        return
    if not rows:
        err.print("no libraries yet: add one with 'unioncat library add CODE --name NAME'")
        return
    table = Table("code", "name", "records", "holdings", "last ingest")
    for row in rows:
        table.add_row(
            row["code"], row["name_vi"], str(row["records"]), str(row["holdings"]), row["last_ingest"] or ""
        )
    out.print(table)


@library_app.command("show")
def library_show(
    code: Annotated[str, typer.Argument(help="Library code.")], as_json: JsonOption = False
) -> None:
    """Show one library's settings and counts."""
    engine = _engine()
    with session_scope(engine) as session:
        library = get_library(session, code)
        data = library_dict(library, library_stats(session, library))
    if as_json:
        _print_json(data)
        return
    for key, value in data.items():
        if value not in (None, ""):
            out.print(f"{key:>20}: {value}")


# ------------------------------------------------------------------------------------------- token
@token_app.command("create")
def token_create(
    library: Annotated[str, typer.Option("--library", "-l", help="The library the token writes for.")],
    name: Annotated[str, typer.Option(help="What the token is for (e.g. 'Koha nightly export').")] = "",
    as_json: JsonOption = False,
) -> None:
    """Create a token for a library; it is printed once and only its hash is kept."""
    from catalog import tokens

    with session_scope(_engine()) as session:
        record, token = tokens.create_token(session, library, name)
        data = {**tokens.token_dict(record, get_library(session, library).code), "token": token}
    if as_json:
        _print_json(data)
    else:
        err.print(f"token {data['id']} for {data['library']} (shown once, keep it safe):")
        out.print(token, markup=False, highlight=False)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id (see 'token list').")],
    as_json: JsonOption = False,
) -> None:
    """Revoke a token: requests with it are refused from now on."""
    from catalog import tokens

    with session_scope(_engine()) as session:
        try:
            record = tokens.revoke(session, token_id)
        except tokens.TokenError as exc:
            raise CliError(str(exc)) from None
        data = tokens.token_dict(record, session.get(Library, record.library_id).code)  # type: ignore[union-attr]
    if as_json:
        _print_json(data)
    else:
        err.print(f"token {token_id} revoked")


@token_app.command("list")
def token_list(
    library: Annotated[
        str | None, typer.Option("--library", "-l", help="Only this library's tokens.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List tokens (never the tokens themselves)."""
    from catalog import tokens

    with session_scope(_engine()) as session:
        rows = tokens.list_tokens(session, library)
    if as_json:
        _print_json(rows)
        return
    table = Table("id", "library", "name", "prefix", "created", "revoked")
    for row in rows:
        table.add_row(
            str(row["id"]), row["library"], row["name"], row["prefix"], row["created_at"], str(row["revoked"])
        )
    out.print(table)


# ------------------------------------------------------------------------------------------ ingest
def _progress_bar(path: Path) -> tuple[Progress, Any]:
    total = path.stat().st_size if path.suffix.lower() not in (".gz", ".zip") else None
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[records]} records"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    task = progress.add_task(f"ingest {path.name}", total=total, records=0)

    def update(records: int, offset: int | None) -> None:
        if offset is not None and total:
            progress.update(task, completed=offset, records=records)
        else:
            progress.update(task, records=records)

    return progress, update


@app.command("ingest")
def ingest(
    file: Annotated[
        Path, typer.Argument(help="MARC export: ISO 2709, MARCXML or MARC-in-JSON, maybe gzip/zip.")
    ],
    library: Annotated[
        str, typer.Option("--library", "-l", help="Code of the library the records belong to.")
    ],
    mode: Annotated[
        str,
        typer.Option(
            help="snapshot (the complete catalogue: missing records are deleted), update, or delete."
        ),
    ] = "update",
    fmt: Annotated[
        str, typer.Option("--format", help="auto, iso2709, marcxml or marcjson (auto detects).")
    ] = "auto",
    batch_size: Annotated[int | None, typer.Option("--batch-size", min=1, help="Records per write.")] = None,
    workers: Annotated[
        int | None, typer.Option(min=0, help="Worker processes for decoding (default: by file size).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Bring a library's MARC export into the catalogue as one atomic job."""
    if not file.is_file():
        raise CliError(f"no such file: {file}")
    settings = _settings()
    engine = _engine()
    progress, update = _progress_bar(file)
    try:
        with progress:
            summary = ingest_file(
                engine,
                library,
                file,
                mode=mode,
                fmt=fmt,
                progress=update,
                batch_size=batch_size or settings.ingest_batch_size,
                workers=workers,
                ignore_isbns=settings.dedup_ignore_isbns,
                search=_search_engine(engine),
            )
    except IngestError as exc:
        where = f" (job {exc.job_id})" if exc.job_id else ""
        raise CliError(f"ingest failed{where}: {exc}") from None
    with engine.connect() as conn:
        from catalog import jobs

        shown = jobs.rejections(conn, summary["job_id"], limit=100)
    summary["rejections"] = shown
    if as_json:
        _print_json(summary)
        return
    err.print(
        f"job {summary['job_id']} {summary['status']}: read {summary['read']}, added {summary['added']}, "
        f"updated {summary['updated']}, unchanged {summary['unchanged']}, deleted {summary['deleted']}, "
        f"rejected {summary['rejected']} ({summary['warnings']} with warnings)"
    )
    for rejection in shown[:20]:
        at = f" at byte {rejection['byte_offset']}" if rejection["byte_offset"] is not None else ""
        err.print(f"  record {rejection['record_number']}{at}: {rejection['reason']}")
    if summary["rejected"] > 20:
        err.print(f"  ... {summary['rejected'] - 20} more rejected records in the job report")


# ----------------------------------------------------------------------------------------- harvest
@app.command("harvest")
def harvest(
    library: Annotated[str | None, typer.Argument(help="Code of the library to harvest.")] = None,
    all_libraries: Annotated[
        bool, typer.Option("--all", help="Every active library with an OAI-PMH URL.")
    ] = False,
    full: Annotated[
        bool,
        typer.Option("--full", help="Read everything again, not only what changed."),
    ] = False,
    sweep: Annotated[
        bool | None,
        typer.Option(
            "--sweep/--no-sweep",
            help="List all identifiers to find records deleted without trace (default: weekly, and only "
            "for repositories that keep no deletions).",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Harvest libraries' OAI-PMH repositories: incremental, resumable, one job per library."""
    from harvest.oai import harvest_library

    if (library is None) == (not all_libraries):
        raise CliError("name one library code, or --all")
    settings = _settings()
    engine = _engine()
    if all_libraries:
        with session_scope(engine) as session:
            codes = [lib.code for lib in list_libraries(session, active_only=True) if lib.oai_base_url]
    else:
        codes = [str(library)]
    results, failed = [], 0
    for code in codes:
        try:
            summary = harvest_library(
                engine,
                code,
                full=full,
                sweep=sweep,
                search=_search_engine(engine),
                ignore_isbns=settings.dedup_ignore_isbns,
            )
        except IngestError as exc:
            failed += 1
            where = f" (job {exc.job_id})" if exc.job_id else ""
            summary = {"library": code, "status": "failed", "error": str(exc), "job_id": exc.job_id}
            if not as_json:
                err.print(f"{code}: harvest failed{where}: {exc}", markup=False, highlight=False)
        else:
            if not as_json:
                err.print(
                    f"{code}: job {summary['job_id']} {summary['status']}: {summary['pages']} page(s), read "
                    f"{summary['read']}, added {summary['added']}, updated {summary['updated']}, unchanged "
                    f"{summary['unchanged']}, deleted {summary['deleted']}, rejected {summary['rejected']}"
                    + (" (resumed)" if summary["resumed"] else ""),
                    markup=False,
                    highlight=False,
                )
        results.append(summary)
    if as_json:
        _print_json(results if all_libraries else results[0])
    if failed:
        raise typer.Exit(1)


# ------------------------------------------------------------------------------------------ search
def _search_engine(engine: Any) -> Any:
    from catalog.search.engine import ConfigurationError, open_search

    try:
        return open_search(_settings(), engine)
    except ConfigurationError as exc:
        raise CliError(str(exc)) from None


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

    from .search_params import SearchParams, problem_text

    try:
        wanted = SearchParams(
            q=query, library=library or [], per_page=limit, page=page, sort=sort, facets=False
        )
    except ValidationError as exc:
        raise CliError(problem_text(exc)) from None
    engine = _engine()
    try:
        result = _search_engine(engine).search(wanted.to_query())
    except QueryError as exc:
        raise CliError(str(exc)) from None
    if as_json:
        _print_json(
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
    engine = _engine()
    with engine.connect() as conn:
        try:
            data = lookup(conn, kind, str(value), libraries=library, all_editions=all_editions)
        except InvalidIdentifier as exc:
            raise CliError(str(exc)) from None
    if as_json:
        _print_json(data)
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
    engine = _engine()
    search_engine = _search_engine(engine)
    with err.status("reindexing"):
        count = search_engine.rebuild(engine)
    if as_json:
        _print_json({"engine": search_engine.name, "documents": count})
    else:
        err.print(f"{search_engine.name} index rebuilt: {count} documents")


@app.command("check-index")
def check_index(
    sample: Annotated[int, typer.Option(min=1, max=100_000, help="Documents compared one by one.")] = 200,
    as_json: JsonOption = False,
) -> None:
    """Compare the catalogue and the search index; exit code 1 when they drifted apart."""
    from catalog.search.consistency import check

    engine = _engine()
    report = check(engine, _search_engine(engine), sample=sample)
    if as_json:
        _print_json(report)
    else:
        state = "in sync" if report["in_sync"] else "DRIFT"
        err.print(
            f"{report['engine']}: {state}: {report['catalogue_union_records']} union records, "
            f"{report['index_documents']} documents; of {report['sampled']} sampled, "
            f"{len(report['missing'])} missing and {len(report['stale'])} stale"
        )
    if not report["in_sync"]:
        raise typer.Exit(1)


# ------------------------------------------------------------------------------------------- dedup
@app.command("dedup")
def dedup(
    explain_id: Annotated[
        int | None, typer.Option("--explain", help="Why this union record is what it is.")
    ] = None,
    list_all: Annotated[bool, typer.Option("--list", help="Every union record with its members.")] = False,
    rebuild_all: Annotated[
        bool, typer.Option("--rebuild", help="Decide every pair again, rebuild all.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Union records: audit the merges, explain one, or rebuild them all."""
    from catalog.dedup import clusters, report

    if sum([explain_id is not None, list_all, rebuild_all]) != 1:
        raise CliError("give exactly one of --explain ID, --list or --rebuild")
    settings = _settings()
    engine = _engine()
    if list_all:
        with engine.connect() as conn:
            for entry in report.iter_unions(conn):
                if as_json:
                    _print_json(entry)
                else:
                    members = ", ".join(f"{code}:{local}" for code, local in entry["members"])
                    out.print(f"{entry['id']}\t{members}", markup=False, highlight=False)
        return
    if explain_id is not None:
        with engine.connect() as conn:
            try:
                data = report.explain(conn, explain_id)
            except report.UnknownUnionRecord as exc:
                raise CliError(str(exc)) from None
        if as_json:
            _print_json(data)
            return
        out.print(f"union record {data['id']}: {data['title']} ({data['year']})", markup=False)
        for member in data["members"]:
            out.print(f"  member {member['library']}:{member['local_id']}  {member['title']}", markup=False)
        for d in data["decisions"]:
            verdict = "merged" if d["accepted"] else "kept apart"
            out.print(
                f"  {d['a']['library']}:{d['a']['local_id']} ~ {d['b']['library']}:{d['b']['local_id']}: "
                f"{verdict} [{d['rule']}] {d['reason']}",
                markup=False,
            )
        return
    search_engine = _search_engine(engine)
    with err.status("rebuilding union records"), writing(engine) as conn:
        clusters.rebuild(conn, settings.dedup_ignore_isbns)
        decided, accepted = conn.exec_driver_sql(
            "SELECT count(*), coalesce(sum(CASE WHEN accepted THEN 1 ELSE 0 END), 0) FROM match_decision"
        ).one()
        unions = conn.exec_driver_sql("SELECT count(*) FROM union_record").scalar_one()
    with err.status("reindexing"):
        search_engine.rebuild(engine)
    summary = {"pairs_decided": decided, "pairs_accepted": accepted, "union_records": unions}
    if as_json:
        _print_json(summary)
    else:
        err.print(f"rebuilt: {decided} pairs decided, {accepted} merged, {unions} union records")


# ----------------------------------------------------------------------------------- serve / demo
@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
) -> None:
    """Start the HTTP service (API and web pages)."""
    import uvicorn

    from .app import create_app

    settings = _settings()
    engine = _engine(migrate="always")
    _search_engine(engine)  # a PostgreSQL catalogue without Meilisearch is refused here, before serving
    err.print(f"unioncat serving on http://{host}:{port}/  (API docs: http://{host}:{port}/api/v1/docs)")
    uvicorn.run(create_app(engine, settings), host=host, port=port, log_level="warning")


@app.command("demo")
def demo(
    data_dir: Annotated[Path, typer.Option(help="Where the demo catalogue is created (replaced).")] = Path(
        "data/demo"
    ),
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build the demo catalogue and stop.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Create a fresh demo catalogue with demo member libraries and their records, and serve it."""
    from .demo import build_demo

    settings = Settings(data_dir=data_dir, database_url=f"sqlite:///{(data_dir / 'unioncat.db').resolve()}")
    engine, summaries = build_demo(settings, log=err.print)
    if as_json:
        _print_json({"database": settings.resolved_database_url, "jobs": summaries})
    if no_serve:
        return
    import uvicorn

    from .app import create_app

    err.print(f"demo catalogue ready: http://{host}:{port}/  (health: http://{host}:{port}/health)")
    uvicorn.run(create_app(engine, settings), host=host, port=port, log_level="warning")


def main() -> None:
    """Entry point: click reports usage errors itself; known errors become one line and exit code 1."""
    try:
        app()
    except (CliError, LibraryError, FormatError, IngestError, ValueError) as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        sys.exit(1)
    except Exception as exc:  # last line of defence: no traceback for users
        err.print(f"error: {type(exc).__name__}: {exc}", markup=False, highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
