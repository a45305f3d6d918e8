"""Scaled-up synthetic run: the LoC records replicated over simulated member libraries, each copy
with the variations real exports show (bench.dedup_quality.vary), ingested library after library
into one catalogue up to about 1,000,000 source records; after each library, the ingest rate of
its job and the search and holdings-lookup latency of the catalogue as it then is.

    python -m bench.scale [--records 250000] [--libraries 5] [--share 0.8] [--queries 300]
                          [--database-url POSTGRES_ADMIN_URL]

Each library holds a random ``share`` of the records (so libraries overlap, as members do). The
catalogue (several GB) lives in a temporary directory and is removed at the end; with
``--database-url``, in a new PostgreSQL database on that server, dropped at the end. On PostgreSQL
the search engine is Meilisearch, which the job sends its changes to after it commits: the run
measures the catalogue alone (the job's union records, holdings lookups, the database's size and the
server's CPU time); search latency is measured on the embedded engine only.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from pymarc import MARCReader

from bench import data, measure
from bench.dedup_quality import vary
from bench.ingest import pymarc_rate
from bench.search import percentiles, query_mix, timed_searches
from catalog.db import make_engine
from catalog.lookup import lookup

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_RECORDS = 8000  # pymarc reads this many records before and after each job: the reference
REFERENCE_UNIT = 10_000  # reference seconds: a job's seconds at pymarc's rate, per 10,000 records/s


def library_file(source: Path, code: str, share: float, seed: int, target: Path, limit: int) -> int:
    """The library's export: a random ``share`` of the first ``limit`` records, each varied."""
    rng = random.Random(seed)
    written = 0
    with open(source, "rb") as fh, open(target, "wb") as out:
        for n, record in enumerate(MARCReader(fh, to_unicode=True, force_utf8=True)):
            if n >= limit:
                break
            if record is None or not record.get_fields("001") or rng.random() >= share:
                continue
            out.write(vary(record, code, rng).as_marc())
            written += 1
    return written


def latency(url: str, queries: int) -> dict[str, Any]:
    engine = make_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    searched = timed_searches(engine, query_mix(engine, queries), warm=30) if sqlite else None
    with engine.connect() as conn:
        isbns = [
            r[0] for r in conn.exec_driver_sql("SELECT value FROM record_key WHERE kind = 'isbn' LIMIT 300")
        ]
        counts = conn.exec_driver_sql(
            "SELECT (SELECT count(*) FROM source_record), (SELECT count(*) FROM union_record)"
        ).one()
        holding_samples = []
        for isbn in isbns:
            start = time.perf_counter()
            lookup(conn, "isbn", isbn)
            holding_samples.append((time.perf_counter() - start) * 1000)
        size = conn.exec_driver_sql(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"
            if sqlite
            else "SELECT pg_database_size(current_database())"
        ).scalar_one()
    engine.dispose()
    return {
        "source_records": counts[0],
        "union_records": counts[1],
        "database_mb": round(size / 1e6),
        "search": searched,
        "holdings_by_isbn": percentiles(holding_samples) if holding_samples else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=250_000, help="LoC records replicated")
    parser.add_argument("--libraries", type=int, default=5)
    parser.add_argument("--share", type=float, default=0.8, help="share of the records each library holds")
    parser.add_argument("--queries", type=int, default=300, help="search queries measured after each library")
    parser.add_argument(
        "--database-url", default=None, help="a PostgreSQL admin URL: the catalogue in a new database there"
    )
    args = parser.parse_args()
    source = data.loc_file()
    steps = []
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        work = Path(tmp)
        if args.database_url:
            url = stack.enter_context(data.fresh_postgres(args.database_url))
        else:
            url = f"sqlite:///{work / 'scale.db'}"
        for n in range(1, args.libraries + 1):
            code = f"SIM-{n:02d}"
            export = work / f"{code}.mrc"
            records = library_file(source, code, args.share, 2026 + n, export, args.records)
            before = pymarc_rate(source, REFERENCE_RECORDS)[1]
            used = _children_cpu()
            run = measure.run(
                [
                    sys.executable,
                    "-m",
                    "bench.ingest_run",
                    str(export),
                    url,
                    "--library",
                    code,
                ],
                cwd=ROOT,
                server="postgres" if args.database_url else None,
            )
            if run.returncode != 0:
                raise SystemExit(f"ingest of {code} failed: {run.stderr.strip()[-800:]}")
            summary = json.loads(run.stdout)
            # the database server's CPU counts too (PostgreSQL runs in processes of its own)
            cpu = _children_cpu() - used + run.server_cpu_seconds
            export.unlink()
            reference = (before + pymarc_rate(source, REFERENCE_RECORDS)[1]) / 2
            step = {
                "library": code,
                "records": records,
                "ingest_seconds": round(run.seconds, 1),
                "ingest_records_per_s": round(summary["read"] / run.seconds),
                # CPU time of the job and its workers: what the job costs, whatever else the machine runs
                "ingest_cpu_seconds": round(cpu, 1),
                "ingest_records_per_cpu_s": round(summary["read"] / cpu),
                "server_cpu_seconds": round(run.server_cpu_seconds, 1),
                "peak_rss_mb": round(run.peak_rss_mb),
                # pymarc's rate on the same records just before and after the job: the machine's
                # speed then (it drifts by a third over a long run)
                "reference_records_per_s": round(reference),
                "ingest_reference_seconds": round(run.seconds * reference / REFERENCE_UNIT, 2),
                # the job's own timers: where a growing cost would come from
                "dedup_seconds": summary["dedup_seconds"],
                "index_seconds": summary["index_seconds"],
                **latency(url, args.queries),
            }
            steps.append(step)
            print(json.dumps(step), file=sys.stderr, flush=True)
    report: dict[str, Any] = {"records": args.records, "share": args.share, "steps": steps}
    if len(steps) >= 10:  # how the ingest rate holds up as libraries are added
        report |= _rate_ratios(steps)
    print(json.dumps(report, indent=2))


def _rate_ratios(steps: list[dict[str, Any]]) -> dict[str, float]:
    """The ingest rate of the last five libraries over that of the first five: by the clock, by CPU
    time, and in the machine's speed of the moment (each job's seconds counted at pymarc's rate
    measured beside it, so that the machine's drift over the run cancels out). The rate of five jobs
    is their records over their seconds (the mean of their five rates would count the first library,
    which matches nothing and costs least, as if it had ingested most). Also over libraries 2 to 6,
    all of which match: what growth alone costs."""
    out: dict[str, float] = {}
    for name, seconds in (
        ("ingest_records_per_s", "ingest_seconds"),
        ("ingest_records_per_cpu_s", "ingest_cpu_seconds"),
        ("ingest_records_per_reference_s", "ingest_reference_seconds"),
    ):
        last = _rate(steps[-5:], seconds)
        out[f"last_five_over_first_five_{name}"] = round(last / _rate(steps[:5], seconds), 2)
        out[f"last_five_over_libraries_2_to_6_{name}"] = round(last / _rate(steps[1:6], seconds), 2)
    return out


def _rate(steps: list[dict[str, Any]], seconds: str) -> float:
    return sum(s["records"] for s in steps) / sum(s[seconds] for s in steps)


def _children_cpu() -> float:
    """CPU seconds (user and system) of the child processes waited for so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
