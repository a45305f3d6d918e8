"""``unioncat dedup``: audit, explain and rebuild the union records."""

from __future__ import annotations

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
    as_json: JsonOption = False,
) -> None:
    """Union records: audit the merges, explain one, or rebuild them all."""
    from catalog.analytics.cache import refresh
    from catalog.dedup import clusters, report

    if sum([explain_id is not None, list_all, rebuild_all]) != 1:
        raise CliError("give exactly one of --explain ID, --list or --rebuild")
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
