"""``unioncat digital``: the digital library's files (deposit, list, replace, withdraw, access
rules) and their usage, on the configured catalogue and object storage."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlmodel import Session

from catalog.digital.access import Reader
from catalog.digital.listing import find_object, library_objects, object_dict
from catalog.digital.objects import DigitalError
from catalog.digital.storage import open_storage
from catalog.digital.usage import COLUMNS, report
from catalog.libraries import get_library, list_libraries
from harvest.deposit import Limits, deposit, replace, set_rule, withdraw_object

from .common import CliError, JsonOption, app, err, load_settings, open_catalogue, out, print_json

digital_app = typer.Typer(help="The digital library: members' files for their records.", no_args_is_help=True)
app.add_typer(digital_app, name="digital")
ADMIN = Reader(admin=True)


def _file(path: Path) -> Path:
    if not path.is_file():
        raise CliError(f"no file {path}")
    return path


def _show(engine: Any, object_id: int, as_json: bool, extra: dict[str, Any] | None = None) -> None:
    with Session(engine) as session:
        found = find_object(session, object_id)
        assert found is not None
        data = {**object_dict(*found, ADMIN), **(extra or {})}
    if as_json:
        print_json(data)
    else:
        out.print(
            f"digital object {data['id']}: {data['filename']} ({data['content_type']}, {data['size']} bytes"
            f"{', ' + str(data['pages']) + ' pages' if data['pages'] else ''}) for {data['library']} "
            f"record {data['record']}, access {data['rule']}, {data['status']}",
            markup=False,
            highlight=False,
        )


@digital_app.command("add")
def digital_add(
    file: Annotated[Path, typer.Argument(help="The file: PDF, EPUB, PNG, JPEG or TIFF.")],
    library: Annotated[str, typer.Option("--library", help="The member library's code.")],
    record: Annotated[str, typer.Option("--record", help="The local id of the library's record.")],
    access: Annotated[
        str, typer.Option("--access", help="open, members or embargo:YYYY-MM-DD (open from that day).")
    ] = "open",
    label: Annotated[str | None, typer.Option("--label", help="e.g. 'Full text', 'Abstract'.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Deposit a file for one of a library's records (checked, stored once per content; its full
    text is queued for extraction)."""
    settings = load_settings()
    engine = open_catalogue()
    try:
        done = deposit(
            engine, open_storage(settings), Limits(settings.max_digital_bytes, settings.digital_max_pages),
            library, record, _file(file), file.name, rule=access, label=label,
        )  # fmt: skip
    except DigitalError as exc:
        raise CliError(str(exc)) from None
    _show(engine, done.object_id, as_json, {"new": done.new, "text_job": done.text_job})


@digital_app.command("list")
def digital_list(
    library: Annotated[str | None, typer.Option("--library", help="Only this library's files.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100_000, help="At most this many.")] = 1000,
    as_json: JsonOption = False,
) -> None:
    """List the digital objects (newest first), withdrawn ones included."""
    engine = open_catalogue()
    rows: list[dict[str, Any]] = []
    with Session(engine) as session:
        libraries = [get_library(session, library)] if library else list_libraries(session)
        for lib in libraries:
            rows += library_objects(session, lib, ADMIN, 0, limit)[1]
    if as_json:
        print_json(rows)
        return
    shown = ("id", "library", "record", "filename", "content_type", "size", "pages", "rule", "status")
    table = Table(*shown)
    for r in rows:
        table.add_row(*(str(r[k] if r[k] is not None else "") for k in shown))
    out.print(table)


@digital_app.command("withdraw")
def digital_withdraw(object_id: Annotated[int, typer.Argument(help="The object's id.")]) -> None:
    """Withdraw an object: it stays recorded (its id is never reused); only its library reads it."""
    try:
        withdraw_object(open_catalogue(), object_id)
    except DigitalError as exc:
        raise CliError(str(exc)) from None
    err.print(f"digital object {object_id} withdrawn", markup=False, highlight=False)


@digital_app.command("replace")
def digital_replace(
    object_id: Annotated[int, typer.Argument(help="The object's id.")],
    file: Annotated[Path, typer.Argument(help="The new version of the file.")],
    as_json: JsonOption = False,
) -> None:
    """Put a new version of an object's file in place: the same id (links stay valid), record,
    access rule, label and usage; its full text is extracted again."""
    settings = load_settings()
    engine = open_catalogue()
    try:
        done = replace(
            engine, open_storage(settings), Limits(settings.max_digital_bytes, settings.digital_max_pages),
            object_id, _file(file), file.name,
        )  # fmt: skip
    except DigitalError as exc:
        raise CliError(str(exc)) from None
    _show(engine, object_id, as_json, {"text_job": done.text_job})


@digital_app.command("access")
def digital_access(
    object_id: Annotated[int, typer.Argument(help="The object's id.")],
    rule: Annotated[str, typer.Argument(help="open, members or embargo:YYYY-MM-DD.")],
    as_json: JsonOption = False,
) -> None:
    """Change who may read an object."""
    engine = open_catalogue()
    try:
        set_rule(engine, object_id, rule=rule)
    except DigitalError as exc:
        raise CliError(str(exc)) from None
    _show(engine, object_id, as_json)


@digital_app.command("usage")
def digital_usage(
    library: Annotated[str | None, typer.Option("--library", help="Only this library's files.")] = None,
    first: Annotated[str | None, typer.Option("--from", help="From this month, YYYY-MM.")] = None,
    last: Annotated[str | None, typer.Option("--to", help="To this month, YYYY-MM.")] = None,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="CSV on stdout (a COUNTER-like item report).")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Views and downloads per object, requesting member, month and COUNTER R5 metric type."""
    engine = open_catalogue()
    with Session(engine) as session:
        library_id = get_library(session, library).id if library else None
        try:
            rows = [row.as_list() for row in report(session, library_id, first, last)]
        except ValueError as exc:
            raise CliError(str(exc)) from None
    if as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    elif as_json:
        print_json([dict(zip(COLUMNS, row, strict=True)) for row in rows])
    else:
        table = Table(*COLUMNS)
        for row in rows:
            table.add_row(*(str(v) for v in row))
        out.print(table)
