"""What librarians' corrections cost: the time of a split, its undo and a keep-apart, each in its
own transaction as the API makes them, and a whole rebuild with and without manual decisions (the
reference, measured in the same run).

    python -m bench.corrections [--libraries K] [--corrections N]

The catalogue: the 529 Vietnamese Library of Congress records, held by K libraries each (every
record one union record of K members).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from catalog import corrections, db
from catalog.db import session_scope, writing
from catalog.dedup.clusters import rebuild
from catalog.libraries import add_library
from harvest.ingest import ingest_file

RECORDS = Path(__file__).resolve().parent.parent / "api" / "demo_data" / "vietnamese-529.mrc"


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median_ms": round(ordered[len(ordered) // 2] * 1000, 1),
        "p95_ms": round(ordered[int(len(ordered) * 0.95)] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def measure(workdir: Path, libraries: int = 3, count: int = 40) -> dict[str, Any]:
    engine = db.make_engine(f"sqlite:///{workdir / 'catalogue.db'}")
    db.upgrade(engine)
    codes = [f"SIM-{n:02d}" for n in range(1, libraries + 1)]
    with session_scope(engine) as session:
        for code in codes:
            add_library(session, code, f"Simulated library {code}")
    for code in codes:
        ingest_file(engine, code, RECORDS, workers=0)
    with engine.connect() as conn:
        locals_ = [
            r[0]
            for r in conn.exec_driver_sql(
                "SELECT s.local_id FROM source_record s JOIN library l ON l.id = s.library_id "
                "WHERE l.code = ? ORDER BY s.local_id LIMIT ?",
                (codes[0], count),
            )
        ]
    start = time.perf_counter()
    with writing(engine) as conn:
        rebuild(conn)
    reference = time.perf_counter() - start
    times: dict[str, list[float]] = {"split": [], "undo": [], "keep_apart": []}
    for local in locals_:
        start = time.perf_counter()
        with writing(engine) as conn:
            done = corrections.split(conn, (codes[0], local), corrections.ADMIN)
        times["split"].append(time.perf_counter() - start)
        start = time.perf_counter()
        with writing(engine) as conn:
            corrections.undo(conn, done.correction.id, corrections.ADMIN)
        times["undo"].append(time.perf_counter() - start)
        start = time.perf_counter()
        with writing(engine) as conn:
            corrections.keep_apart(conn, (codes[0], local), (codes[1], local), corrections.ADMIN)
        times["keep_apart"].append(time.perf_counter() - start)
    start = time.perf_counter()
    with writing(engine) as conn:
        rebuild(conn)
    with_decisions = time.perf_counter() - start
    engine.dispose()
    return {
        "source_records": 529 * libraries,
        "corrections": {name: _ms(values) for name, values in times.items()},
        "rebuild_seconds_without_decisions": round(reference, 2),
        "rebuild_seconds_with_decisions": round(with_decisions, 2),
        "manual_decisions": len(locals_),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--libraries", type=int, default=3)
    parser.add_argument("--corrections", type=int, default=40)
    args = parser.parse_args()
    if args.libraries < 2:
        parser.error("--libraries must be 2 or more")
    with tempfile.TemporaryDirectory() as tmp:
        report = measure(Path(tmp), args.libraries, args.corrections)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
