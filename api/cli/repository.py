"""``unioncat harvest-repository``: bring a library's digital repository (DSpace ...) into the
digital library."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from catalog.db import session_scope
from catalog.digital.storage import open_storage
from catalog.libraries import get_library
from harvest.repository import harvest_repository
from harvest.runner import IngestError

from .common import CliError, JsonOption, app, err, load_settings, open_catalogue, print_json, search_for


@app.command("harvest-repository")
def harvest_repository_command(
    library: Annotated[str, typer.Argument(help="Code of the library whose repository to harvest.")],
    full: Annotated[
        bool, typer.Option("--full", help="Read every item again, not only what changed.")
    ] = False,
    queue: Annotated[
        bool, typer.Option("--queue", help="Queue the harvest for the workers instead of running it here.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Harvest a library's digital repository over OAI-PMH: items become records (matched to union
    records or kept as digital-only ones), their files digital objects; incremental, resumable."""
    settings = load_settings()
    engine = open_catalogue()
    if queue:
        _queue(engine, library, full, as_json)
        return
    try:
        summary = harvest_repository(
            engine,
            library,
            open_storage(settings),
            max_bytes=settings.max_digital_bytes,
            full=full,
            search=search_for(engine),
            ignore_isbns=settings.dedup_ignore_isbns,
        )
    except IngestError as exc:
        where = f" (job {exc.job_id})" if exc.job_id else ""
        if as_json:
            print_json({"library": library, "status": "failed", "error": str(exc), "job_id": exc.job_id})
        else:
            err.print(f"{library}: repository harvest failed{where}: {exc}", markup=False, highlight=False)
        raise typer.Exit(1) from None
    if as_json:
        print_json(summary)
        return
    err.print(
        f"{summary['library']}: job {summary['job_id']} {summary['status']}: {summary['pages']} page(s), "
        f"read {summary['read']}, added {summary['added']}, updated {summary['updated']}, unchanged "
        f"{summary['unchanged']}, deleted {summary['deleted']}, rejected {summary['rejected']}; "
        f"files fetched {summary['files_fetched']}, unchanged {summary['files_unchanged']}, "
        f"failed {summary['files_failed']}, withdrawn {summary['files_withdrawn']}"
        + (" (resumed)" if summary["resumed"] else ""),
        markup=False,
        highlight=False,
    )
    if summary["files_failed"]:
        err.print(
            f"  the failed files are listed in the job's report (unioncat job {summary['job_id']}) "
            "and fetched again by the next harvest",
            markup=False,
            highlight=False,
        )


def _queue(engine: Any, code: str, full: bool, as_json: bool) -> None:
    from harvest.queue import enqueue_repository_harvest

    with session_scope(engine) as session:
        library = get_library(session, code)
    if not library.repository_url:
        raise CliError(f"library {library.code} has no digital repository (set it with --repository-url)")
    job_id = enqueue_repository_harvest(engine, library, full=full)
    if as_json:
        print_json({"library": library.code, "queued": job_id is not None, "job_id": job_id})
    elif job_id is None:
        err.print(f"{library.code}: a repository harvest is already queued or running")
    else:
        err.print(f"{library.code}: repository harvest queued as job {job_id}")
