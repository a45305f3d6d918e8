"""The whole benchmark suite in one command, printed as one table (each figure beside its reference):

    python -m bench.run [--postgres ADMIN_URL] [--records N] [--scale]

ingest (pymarc alone, bare, full; what deduplication and indexing add; peak memory), deduplication
quality, search and holdings latency in-process and through HTTP, throughput, search quality (the
record a query is written from, first or in the first five), the OAI-PMH harvest
beside the file ingest of the same records, with --scale the scaled-up run (bench.scale), and with
--postgres the same bare ingest on PostgreSQL beside SQLite. Uses the 250,000 LoC records (downloaded once).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> dict[str, Any]:
    result = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {result.stderr[-800:]}")
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--postgres", default=None, help="PostgreSQL admin URL for the SQLite/PostgreSQL comparison"
    )
    parser.add_argument(
        "--records", type=int, default=0, help="only the first N records (default: all 250,000)"
    )
    parser.add_argument(
        "--scale", action="store_true", help="also the scaled-up run to ~1,000,000 source records (long)"
    )
    args = parser.parse_args()
    head = ["--records", str(args.records)] if args.records else []
    ingest = _run("bench.ingest", "--keep", "--rounds", "3", *head)
    quality = _run("bench.dedup_quality", "--records", "20000", "--libraries", "5")
    search = _run("bench.search", "--http")
    found = _run("bench.search_quality")
    weakest = min(found["kinds"].items(), key=lambda kv: kv[1]["top5"])
    local, http = search["in_process"], search["http"]
    lookups, remote = http["holdings_by_isbn"], http["search"]
    rows = [
        ("pymarc alone", f"{ingest['pymarc_records_per_s']:,} rec/s", "reference"),
        ("ingest, bare (SQLite)", f"{ingest['ingest_bare']['records_per_s']:,} rec/s",
         f"{ingest['bare_vs_pymarc']} x pymarc (goal >= 1)"),
        ("ingest, full: dedup + index (SQLite)", f"{ingest['ingest_full']['records_per_s']:,} rec/s",
         f"{ingest['full_vs_pymarc']} x pymarc (just before: "
         f"{ingest['pymarc_before_full_records_per_s']:,} rec/s)"),
        ("deduplication adds", f"{ingest['dedup_adds']:.0%}", "<= 30 %"),
        ("indexing adds", f"{ingest['index_adds']:.0%}", "<= 30 %"),
        ("peak RSS of the ingest", f"{ingest['ingest_full']['peak_rss_mb']} MB", "< 500 MB"),
        ("dedup precision / recall", f"{quality['precision']} / {quality['recall']}", ">= 0.995 / >= 0.98"),
        ("search p50 / p95, in-process", f"{local['p50_ms']} / {local['p95_ms']} ms",
         f"p95 <= 30 ms (pymarc meanwhile: {search['machine_pymarc_records_per_s']:,} rec/s)"),
        ("search p50 / p95, HTTP", f"{remote['p50_ms']} / {remote['p95_ms']} ms", "p95 <= 50 ms"),
        ("holdings by ISBN p50 / p95, HTTP", f"{lookups['p50_ms']} / {lookups['p95_ms']} ms", "p95 <= 5 ms"),
        ("search throughput, 4 clients", f"{http['throughput']['requests_per_s']} req/s", ""),
        ("search quality, top-1 / top-5", f"{found['top1']:.1%} / {found['top5']:.1%}",
         f">= 90 % / >= 95 % in every kind (lowest: {weakest[0]} {weakest[1]['top5']:.0%})"),
    ]  # fmt: skip
    harvest = _run("bench.harvest", *head)
    harvested = f"{harvest['harvest']['records_per_s']:,} rec/s"
    rows.append(("OAI-PMH harvest, provider on loopback", harvested,
                 f"{harvest['harvest_vs_file']} x file ingest (goal >= 0.5)"))  # fmt: skip
    if args.postgres:
        postgres = _run("bench.ingest", "--database-url", args.postgres, *head)["postgresql"]
        rows.append(("ingest, bare (PostgreSQL)", f"{postgres['records_per_s']:,} rec/s",
                     f"SQLite: {ingest['ingest_bare']['records_per_s']:,} rec/s"))  # fmt: skip
    if args.scale:
        scaled = _run("bench.scale", *(["--records", str(args.records)] if args.records else []))
        first = scaled["steps"][0]
        for step in scaled["steps"]:
            rows.append((
                f"scaled: {step['source_records']:,} source records, {step['union_records']:,} unions",
                f"{step['ingest_records_per_s']:,} rec/s",
                f"first library: {first['ingest_records_per_s']:,} rec/s; search p50/p95 "
                f"{step['search']['p50_ms']}/{step['search']['p95_ms']} ms",
            ))  # fmt: skip
    width = max(len(r[0]) for r in rows)
    print(f"{'what':<{width}}  {'measured':<22}  reference / goal")
    for what, measured, reference in rows:
        print(f"{what:<{width}}  {measured:<22}  {reference}")


if __name__ == "__main__":
    main()
