"""One ingest run in its own process, for the benchmark: ``python -m bench.ingest_run FILE DB [--bare]``.

``--bare`` skips union records and indexing, so that the benchmark can tell what they add.
Prints the job summary as JSON.

The project is imported inside main(): multiprocessing imports this module again in every worker
process of the job, which should hold only what preparing records needs (see api/entry.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main() -> None:
    from catalog.db import make_engine, session_scope, upgrade
    from catalog.libraries import add_library, list_libraries
    from harvest.ingest import ingest_file

    parser = argparse.ArgumentParser()
    parser.add_argument("file", type=Path)
    parser.add_argument("database_url")
    parser.add_argument("--bare", action="store_true")
    parser.add_argument("--library", default="LOC-BENCH", help="added to the catalogue if it is not there")
    args = parser.parse_args()
    engine = make_engine(args.database_url)
    upgrade(engine)
    with session_scope(engine) as session:
        if args.library not in {lib.code for lib in list_libraries(session)}:
            add_library(session, args.library, f"{args.library} (benchmark)")
    summary = ingest_file(engine, args.library, args.file, maintain=not args.bare)
    json.dump(summary, sys.stdout)


if __name__ == "__main__":
    main()
