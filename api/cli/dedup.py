"""``unioncat dedup``: audit, explain, correct and rebuild the union records."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from catalog.db import writing

from .common import CliError, JsonOption, app, err, load_settings, open_catalogue, out, print_json, search_for


@app.command("dedup")
def dedup(
    explain_id: Annotated[
        int | None, typer.Option("--explain", help="Why this union record is what it is.")
    ] = None,
    list_all: Annotated[bool, typer.Option("--list", help="Every union record with its members.")] = False,
    rebuild_all: Annotated[
        bool, typer.Option("--rebuild", help="Decide every pair again, rebuild all.")
    ] = False,
    split: Annotated[
        str | None,
        typer.Option("--split", metavar="CODE:LOCAL_ID", help="Take this record out of its union record."),
    ] = None,
    merge: Annotated[
        tuple[str, str] | None,
        typer.Option("--merge", metavar="ID ID", help="Merge two union records into one."),
    ] = None,
    never: Annotated[
        tuple[str, str] | None,
        typer.Option(
            "--never",
            "--keep-apart",
            metavar="A B",
            help="Never merge these two (union record ids or CODE:LOCAL_ID).",
        ),
    ] = None,
    undo: Annotated[
        str | None, typer.Option("--undo", metavar="DECISION_ID", help="Delete a manual decision.")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="Why (kept with the decision).")] = None,
    export_file: Annotated[
        Path | None,
        typer.Option("--export-decisions", metavar="FILE", help="Write the manual decisions as JSON."),
    ] = None,
    import_file: Annotated[
        Path | None,
        typer.Option("--import-decisions", metavar="FILE", help="Read manual decisions written by export."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Union records: audit the merges, explain one, correct them, or rebuild them all."""
    from catalog.analytics.cache import refresh
    from catalog.dedup import clusters, report

    from .corrections import correct, export_decisions, import_decisions

    chosen = [
        explain_id is not None,
        list_all,
        rebuild_all,
        split is not None,
        merge is not None,
        never is not None,
        undo is not None,
        export_file is not None,
        import_file is not None,
    ]
    if sum(chosen) != 1:
        raise CliError(
            "give exactly one of --explain ID, --list, --rebuild, --split CODE:LOCAL_ID, --merge ID ID, "
            "--never A B, --undo DECISION_ID, --export-decisions FILE or --import-decisions FILE"
        )
    if split is not None:
        return correct("split", [split], note, as_json)
    if merge is not None:
        return correct("merge", list(merge), note, as_json)
    if never is not None:
        return correct("never", list(never), note, as_json)
    if undo is not None:
        return correct("undo", [undo], note, as_json)
    if export_file is not None:
        return export_decisions(export_file, as_json)
    if import_file is not None:
        return import_decisions(import_file, as_json)
    settings = load_settings()
    engine = open_catalogue()
    if list_all:
        with engine.connect() as conn:
            for entry in report.iter_unions(conn):
                if as_json:
                    print_json(entry)
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
            print_json(data)
            return
        out.print(f"union record {data['id']}: {data['title']} ({data['year']})", markup=False)
        for member in data["members"]:
            out.print(f"  member {member['library']}:{member['local_id']}  {member['title']}", markup=False)
        for c in data["corrections"]:
            out.print(f"  decision {c['id']}: {c['label']}", markup=False)
        for d in data["decisions"]:
            verdict = "merged" if d["accepted"] else "kept apart"
            out.print(
                f"  {d['a']['library']}:{d['a']['local_id']} ~ {d['b']['library']}:{d['b']['local_id']}: "
                f"{verdict} [{d['rule']}] {d['reason']}",
                markup=False,
            )
        return
    search_engine = search_for(engine)
    with err.status("rebuilding union records"), writing(engine) as conn:
        clusters.rebuild(conn, settings.dedup_ignore_isbns)
        decided, accepted = conn.exec_driver_sql(
            "SELECT count(*), coalesce(sum(CASE WHEN accepted THEN 1 ELSE 0 END), 0) FROM match_decision"
        ).one()
        unions = conn.exec_driver_sql("SELECT count(*) FROM union_record").scalar_one()
    with err.status("refreshing the analytics"):
        refresh(engine)
    with err.status("reindexing"):
        search_engine.rebuild(engine)
    summary = {"pairs_decided": decided, "pairs_accepted": accepted, "union_records": unions}
    if as_json:
        print_json(summary)
    else:
        err.print(f"rebuilt: {decided} pairs decided, {accepted} merged, {unions} union records")
