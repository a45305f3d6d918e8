"""What every command of the command line shares: the root command, the consoles, the ``--json``
option, and the catalogue, settings and search engine a command opens."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console

from catalog.settings import Settings

from .. import context

app = typer.Typer(
    name="unioncat",
    help="unioncat: the consortium's union catalogue (ingest, search, holdings, service).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]


class CliError(Exception):
    """An error the user can act on: printed as one line, exit code 1."""


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise CliError(f"invalid setting UNIONCAT_{field.upper()}: {first['msg']}") from None


def open_catalogue(migrate: str = "empty") -> Any:
    try:
        return context.open_engine(load_settings(), migrate=migrate)
    except context.CatalogueUnavailable as exc:
        raise CliError(str(exc)) from None


def search_for(engine: Any) -> Any:
    """The configured search engine over ``engine``'s catalogue."""
    from catalog.search.engine import ConfigurationError, open_search

    try:
        return open_search(load_settings(), engine)
    except ConfigurationError as exc:
        raise CliError(str(exc)) from None


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
