"""Ingest benchmark: raw pymarc parse rate vs ``unioncat ingest`` end to end, what deduplication and
indexing add, and peak memory.

    python -m bench.ingest [--records N] [--database-url URL] [--keep] [--rounds N]

Runs over the same file, the ingests each in a fresh catalogue and its own process: pymarc alone; the
ingest without union records and indexing ("bare"); pymarc alone again; the full ingest (the job
'unioncat ingest' runs). Each ingest is compared with the pymarc run just before it. This machine's
speed drifts by a third within minutes, so what the full job adds to the bare one moves with it:
--rounds repeats the four runs and reports the median round.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pymarc import MARCReader

from bench import data, measure


def pymarc_rate(path: Path, limit: int | None = None) -> tuple[int, float]:
    """Records and records/s of pymarc alone reading the file (UTF-8 decoding, as the file is), or
    its first ``limit`` records."""
    start = time.perf_counter()
    count = 0
    with open(path, "rb") as fh:
        for record in MARCReader(fh, to_unicode=True, force_utf8=True):
            count += record is not None
            if limit is not None and count >= limit:
                break
    return count, count / (time.perf_counter() - start)


def run_ingest(path: Path, database_url: str, bare: bool) -> dict[str, Any]:
    args = [sys.executable, "-m", "bench.ingest_run", str(path), database_url, *(["--bare"] if bare else [])]
    result = measure.run(args, cwd=Path(__file__).resolve().parent.parent)
    if result.returncode != 0:
        raise SystemExit(f"ingest failed: {result.stderr.strip()[-800:]}")
    summary = json.loads(result.stdout)
    return {
        "records": summary["read"],
        "seconds": round(result.seconds, 1),
        "records_per_s": round(summary["read"] / result.seconds),
        "peak_rss_mb": round(result.peak_rss_mb),
        # the job's process (reading the file, the single writer) and its worker processes (decoding,
        # mapping, and for the whole job the search rows of each record)
        "job_process_cpu_seconds": round(result.cpu_seconds, 1),
        "workers_cpu_seconds": round(result.children_cpu_seconds, 1),
        "dedup_seconds": summary["dedup_seconds"],
        "index_seconds": summary["index_seconds"],
    }


def run_postgres(path: Path, admin_url: str) -> dict[str, Any]:
    """The bare ingest on a fresh PostgreSQL database (the full job needs Meilisearch for search)."""
    with data.fresh_postgres(admin_url) as url:
        return run_ingest(path, url, bare=True)


_ROUND_KEYS = ("bare_vs_pymarc", "full_vs_pymarc", "dedup_and_index_add", "dedup_adds", "index_adds")


def _round(
    path: Path, records: int, rate: float, bare: dict[str, Any], rate_full: float, full: dict[str, Any]
) -> dict[str, Any]:
    """One round's figures: each ingest against the pymarc run just before it, and what the full
    job adds to the bare one (split between deduplication and indexing by the writer's timers)."""
    added = full["seconds"] - bare["seconds"]
    share_dedup = full["dedup_seconds"] / max(full["dedup_seconds"] + full["index_seconds"], 1e-9)
    return {
        "file": path.name,
        "pymarc_records": records,
        "pymarc_records_per_s": round(rate),
        "pymarc_before_full_records_per_s": round(rate_full),
        "ingest_bare": bare,
        "ingest_full": full,
        "bare_vs_pymarc": round(bare["records_per_s"] / rate, 2),
        "full_vs_pymarc": round(full["records_per_s"] / rate_full, 2),
        "dedup_and_index_add": round(added / bare["seconds"], 3),
        "dedup_adds": round(added * share_dedup / bare["seconds"], 3),
        "index_adds": round(added * (1 - share_dedup) / bare["seconds"], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=0, help="only the first N records (default: all)")
    parser.add_argument(
        "--database-url",
        default=None,
        help="a PostgreSQL admin URL: the bare ingest on a fresh database there",
    )
    parser.add_argument("--keep", action="store_true", help=f"keep the SQLite catalogue in {data.CATALOGUE}")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="bare and full ingests this many times, alternately; the median round is reported, "
        "with every round's ratios",
    )
    args = parser.parse_args()
    path = data.loc_file()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.records:
            path = data.head(path, args.records, work / "head.mrc")
        records, rate = pymarc_rate(path)
        if args.database_url:
            postgres = run_postgres(path, args.database_url)
            print(
                json.dumps(
                    {"file": path.name, "pymarc_records_per_s": round(rate), "postgresql": postgres}, indent=2
                )
            )
            return
        results = []
        for number in range(args.rounds):
            if number:  # each round has its own references and fresh catalogues
                records, rate = pymarc_rate(path)
                for name in ("bare.db", "unioncat.db"):
                    for suffix in ("", "-wal", "-shm"):
                        (work / f"{name}{suffix}").unlink(missing_ok=True)
            bare = run_ingest(path, f"sqlite:///{work / 'bare.db'}", bare=True)
            # The machine's speed drifts within minutes: the full run has its own reference, measured
            # just before it, as the bare run has the first.
            _records, rate_full = pymarc_rate(path)
            full = run_ingest(path, f"sqlite:///{work / 'unioncat.db'}", bare=False)
            results.append(_round(path, records, rate, bare, rate_full, full))
        if args.keep:
            data.CATALOGUE.mkdir(parents=True, exist_ok=True)
            for name in ("unioncat.db", "unioncat.db-wal", "unioncat.db-shm"):
                if (work / name).exists():
                    shutil.move(str(work / name), data.CATALOGUE / name)
    # The round in the middle by what deduplication and indexing add: one slow minute in either of a
    # round's two runs moves that figure most.
    report = sorted(results, key=lambda r: r["dedup_and_index_add"])[(len(results) - 1) // 2]
    if len(results) > 1:
        report["rounds"] = [
            {key: r[key] for key in _ROUND_KEYS} | {"peak_rss_mb": r["ingest_full"]["peak_rss_mb"]}
            for r in results
        ]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
