"""One ingest run in its own process, for the benchmark: ``python -m bench.ingest_run FILE DB [--bare]``.

``--bare`` skips union records and indexing, so that the benchmark can tell what they add.
Prints the job summary as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from catalog.db import make_engine, session_scope, upgrade
from catalog.libraries import add_library
from harvest.ingest import ingest_file


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file", type=Path)
    parser.add_argument("database_url")
    parser.add_argument("--bare", action="store_true")
    args = parser.parse_args()
    engine = make_engine(args.database_url)
    upgrade(engine)
    with session_scope(engine) as session:
        add_library(session, "LOC-BENCH", "Library of Congress (benchmark)")
    summary = ingest_file(engine, "LOC-BENCH", args.file, maintain=not args.bare)
    json.dump(summary, sys.stdout)


if __name__ == "__main__":
    main()
