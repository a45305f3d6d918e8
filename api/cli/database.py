"""``unioncat db``: the catalogue database."""

from __future__ import annotations

import typer

from catalog import db

from .common import JsonOption, app, err, open_catalogue, print_json

db_app = typer.Typer(help="The catalogue database.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade(as_json: JsonOption = False) -> None:
    """Apply the schema migrations the database lacks."""
    engine = open_catalogue(migrate="always")
    revision = db.current_revision(engine)
    if as_json:
        print_json({"revision": revision, "database": engine.url.render_as_string(hide_password=True)})
    else:
        err.print(f"database at revision {revision}: {engine.url.render_as_string(hide_password=True)}")
