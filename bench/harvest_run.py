"""One harvest in its own process, for the benchmark: ``python -m bench.harvest_run OAI_URL SET DB``.

A fresh catalogue harvests the set from the provider with the whole job (union records and the
embedded index included), as 'unioncat harvest' does. Prints the job summary as JSON.

The project is imported inside main(): multiprocessing imports this module again in every worker
process of the job, which should hold only what preparing records needs (see api/entry.py).
"""

from __future__ import annotations

import argparse
import json
import sys


def main() -> None:
    from catalog.db import make_engine, session_scope, upgrade
    from catalog.libraries import add_library
    from harvest.oai import harvest_library

    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("set")
    parser.add_argument("database_url")
    args = parser.parse_args()
    engine = make_engine(args.database_url)
    upgrade(engine)
    with session_scope(engine) as session:
        add_library(
            session, "LOC-OAI", "Library of Congress (harvested)", oai_base_url=args.url, oai_set=args.set
        )
    json.dump(harvest_library(engine, "LOC-OAI", sweep=False), sys.stdout)


if __name__ == "__main__":
    main()
