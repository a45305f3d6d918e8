"""Ingest benchmark: raw pymarc parse rate vs ``unioncat ingest`` end to end, and peak memory.

python -m bench.ingest [--records N] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pymarc import MARCReader

from bench import data, measure


def pymarc_rate(path: Path) -> tuple[int, float]:
    """Records and records/s of pymarc alone reading the file (UTF-8 decoding, as the file is)."""
    start = time.perf_counter()
    count = 0
    with open(path, "rb") as fh:
        for record in MARCReader(fh, to_unicode=True, force_utf8=True):
            count += record is not None
    return count, count / (time.perf_counter() - start)


def unioncat(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "unioncat"), *args]


def ingest_rate(path: Path, database_url: str | None, workdir: Path) -> dict[str, Any]:
    env = {"UNIONCAT_DATA_DIR": str(workdir / "data")}
    if database_url:
        env["UNIONCAT_DATABASE_URL"] = database_url
    measure.run(unioncat("library", "add", "LOC-BENCH", "--name", "Library of Congress (benchmark)"), env=env)
    result = measure.run(unioncat("ingest", str(path), "--library", "LOC-BENCH", "--json"), env=env)
    if result.returncode != 0:
        raise SystemExit(f"ingest failed: {result.stderr.strip()[-500:]}")
    summary = json.loads(result.stdout)
    return {
        "records": summary["read"],
        "added": summary["added"],
        "seconds": round(result.seconds, 1),
        "records_per_s": round(summary["read"] / result.seconds),
        "peak_rss_mb": round(result.peak_rss_mb),
        "dedup_seconds": summary["dedup_seconds"],
        "dedup_share_of_rest": round(
            summary["dedup_seconds"] / max(result.seconds - summary["dedup_seconds"], 1e-9), 3
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=0, help="only the first N records (default: all)")
    parser.add_argument("--database-url", default=None, help="catalogue URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    path = data.loc_file()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.records:
            path = data.head(path, args.records, work / "head.mrc")
        records, rate = pymarc_rate(path)
        ingest = ingest_rate(path, args.database_url, work)
    report = {
        "file": path.name,
        "pymarc_records": records,
        "pymarc_records_per_s": round(rate),
        "ingest": ingest,
        "ingest_vs_pymarc": round(ingest["records_per_s"] / rate, 2),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
