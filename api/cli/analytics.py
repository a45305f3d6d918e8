"""``unioncat analytics``: the collection analytics (summary, overlap, unique, growth) as text, JSON
or CSV, and the refresh of their summary tables."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from .common import CliError, JsonOption, app, err, open_catalogue, out, print_json

analytics_app = typer.Typer(help="Collection analytics of the consortium.", no_args_is_help=True)
app.add_typer(analytics_app, name="analytics")

LibraryOption = Annotated[
    str | None, typer.Option("--library", help="A member's code: its figures (default: the consortium's).")
]
CsvOption = Annotated[bool, typer.Option("--csv", help="Print a CSV table on stdout.")]
LangOption = Annotated[str, typer.Option("--lang", help="Language of names and labels: vi or en.")]


def _report(name: str, code: str | None, lang: str, *args: Any) -> dict[str, Any]:
    from catalog.analytics.members import UnknownMember

    from .. import analytics_reports

    if lang not in ("vi", "en"):
        raise CliError(f"unknown language {lang[:20]!r}: vi or en")
    builders = {
        "summary": lambda conn, lib: analytics_reports.summary_report(conn, lib, *args, lang),
        "overlap": lambda conn, lib: analytics_reports.overlap_report(conn, lib, lang),
        "unique": lambda conn, lib: analytics_reports.unique_report(conn, lib, *args, lang),
        "growth": lambda conn, lib: analytics_reports.growth_report(conn, lib),
    }
    engine = open_catalogue()
    with engine.connect() as conn:
        try:
            library = analytics_reports.member_or_none(conn, code)
        except UnknownMember as exc:
            raise CliError(str(exc)) from None
        data = builders[name](conn, library)
        if name == "unique" and args[1] == 0:  # --limit 0: every unique title
            from catalog.analytics.unique import every_unique_title

            data["titles"] = list(every_unique_title(conn, library))
            data["next_after"] = None
    return data


def _emit(name: str, data: dict[str, Any], as_json: bool, as_csv: bool, text: list[str]) -> None:
    if as_json and as_csv:
        raise CliError("give --json or --csv, not both")
    if as_json:
        print_json(data)
    elif as_csv:
        from ..analytics_csv import WRITERS

        sys.stdout.write(WRITERS[name](data).removeprefix("\ufeff"))
    else:
        for line in text:
            out.print(line, markup=False, highlight=False)


@analytics_app.command("summary")
def summary(
    library: LibraryOption = None,
    min_libraries: Annotated[
        int, typer.Option("--min-libraries", min=1, help="Count the titles held by N members or more.")
    ] = 2,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
    lang: LangOption = "en",
) -> None:
    """Titles held, how many members hold them, and breakdowns by class, language, decade and type."""
    data = _report("summary", library, lang, min_libraries)
    lines = [
        f"{data['library'] or 'consortium'}: {data['titles']} titles, "
        f"{data['unique_titles']} held by one member only, "
        f"{data['held_by_at_least']} held by {min_libraries} or more",
        "held by N members: " + ", ".join(f"{e['libraries']}: {e['titles']}" for e in data["distribution"]),
    ]
    for dimension, entries in data["breakdowns"].items():
        shown = ", ".join(f"{e['label']}: {e['titles']} ({e['unique_titles']} unique)" for e in entries[:15])
        lines.append(f"{dimension}: {shown}" + (" ..." if len(entries) > 15 else ""))
    _emit("summary", data, as_json, as_csv, lines)


@analytics_app.command("overlap")
def overlap(
    library: LibraryOption = None,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
    lang: LangOption = "en",
) -> None:
    """Titles held by both of two members: the matrix, or one member against each other one."""
    data = _report("overlap", library, lang)
    if data["library"]:
        lines = [
            f"{p['code']}\t{p['shared']} shared\t{p['share_of_library']}% of {data['library']}\t"
            f"{p['share_of_other']}% of {p['code']}"
            for p in data["pairs"]
        ]
    else:
        codes = [m["code"] for m in data["libraries"]]
        lines = ["\t" + "\t".join(codes)]
        lines += [
            code + "\t" + "\t".join(map(str, row)) for code, row in zip(codes, data["matrix"], strict=True)
        ]
    _emit("overlap", data, as_json, as_csv, lines)


@analytics_app.command("unique")
def unique(
    library: LibraryOption = None,
    limit: Annotated[int, typer.Option("--limit", min=0, max=1000, help="Titles listed (0: all).")] = 50,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
    lang: LangOption = "en",
) -> None:
    """Titles held by one member alone: counted per member and listed."""
    data = _report("unique", library, lang, 0, limit)
    lines = [
        f"{m['code']}\t{m['titles']} titles\t{m['unique_titles']} unique ({m['unique_share']}%)"
        for m in data["members"]
    ]
    lines += [f"{t['id']}\t{t['library']}\t{t['year'] or ''}\t{t['title'] or ''}" for t in data["titles"]]
    _emit("unique", data, as_json, as_csv, lines)


@analytics_app.command("growth")
def growth(library: LibraryOption = None, as_json: JsonOption = False, as_csv: CsvOption = False) -> None:
    """Records added, updated and deleted per member and month, from the jobs' history."""
    data = _report("growth", library, "en")
    lines = [
        f"{m['month']}\t{m['library']}\t+{m['added']}\t~{m['updated']}\t-{m['deleted']}\t{m['jobs']} jobs"
        for m in data["months"]
    ]
    _emit("growth", data, as_json, as_csv, lines)


@analytics_app.command("refresh")
def refresh(
    full: Annotated[bool, typer.Option("--full", help="Compute everything again from scratch.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Bring the analytics up to date now (done after every job anyway)."""
    from catalog.analytics.cache import refresh as run

    with err.status("refreshing the analytics"):
        done = run(open_catalogue(), full=full)
    data = {"union_records": done.union_records, "full": done.full, "seconds": round(done.seconds, 2)}
    if as_json:
        print_json(data)
    else:
        err.print(
            f"analytics refreshed{' from scratch' if done.full else ''}: {done.union_records} union records "
            f"in {done.seconds:.2f} s"
        )
