"""The ``unioncat`` command's entry point, kept tiny on purpose.

multiprocessing imports the main module of a job's process again in each of its worker processes
(the console script, and through it this module). Importing the command line here, only once the
command runs, keeps those workers to what preparing records needs (harvest/prepare.py): about 50 MB
less each than with the whole command line, its database layer and web framework.
"""

from __future__ import annotations


def main() -> None:
    from api.cli import main as run

    run()
