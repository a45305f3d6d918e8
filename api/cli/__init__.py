"""The ``unioncat`` command line, one module per group of commands. Every reporting command takes
``--json`` (JSON on stdout, progress and messages on stderr); every error is one line on stderr and a
non-zero exit code."""

from __future__ import annotations

import sys

from catalog.libraries import LibraryError
from harvest.incoming import FormatError
from harvest.ingest import IngestError

from . import analytics as analytics_commands  # noqa: F401
from . import database, dedup, digital, ingest, libraries, repository, search, serve, worker  # noqa: F401  (they register their commands)
from .common import CliError, app, err

__all__ = ["app", "main"]


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
