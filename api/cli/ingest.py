"""``unioncat ingest`` and ``unioncat harvest``: bring member libraries' records into the catalogue."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from catalog.analytics.cache import refresh_quietly
from catalog.db import session_scope
from catalog.libraries import list_libraries
from harvest.ingest import IngestError, ingest_file

from .common import CliError, JsonOption, app, err, load_settings, open_catalogue, print_json, search_for


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
    settings = load_settings()
    engine = open_catalogue()
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
                search=search_for(engine),
            )
    except IngestError as exc:
        where = f" (job {exc.job_id})" if exc.job_id else ""
        raise CliError(f"ingest failed{where}: {exc}") from None
    finally:  # what the job committed reaches the collection analytics
        refresh_quietly(engine)
    with engine.connect() as conn:
        from catalog import jobs

        shown = jobs.rejections(conn, summary["job_id"], limit=100)
    summary["rejections"] = shown
    if as_json:
        print_json(summary)
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
    settings = load_settings()
    engine = open_catalogue()
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
                search=search_for(engine),
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
    refresh_quietly(engine)  # what the harvests committed reaches the collection analytics
    if as_json:
        print_json(results if all_libraries else results[0])
    if failed:
        raise typer.Exit(1)
