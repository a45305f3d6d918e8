"""OAI-PMH harvest benchmark: a full harvest of the LoC records from a provider on loopback, beside
ingesting the same records from the file, in the same run.

    python -m bench.harvest [--records N] [--page-size 500]

The provider is unioncat's own /oai (``unioncat serve`` in its own process) over a catalogue holding
the records; the harvest and the file ingest each run the whole job (union records and the
embedded index) into a fresh SQLite catalogue. Goal: the harvest at least half the file's rate.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import data, measure

ROOT = Path(__file__).resolve().parent.parent


def _job(args: list[str]) -> tuple[dict[str, Any], measure.Run]:
    result = measure.run([sys.executable, "-m", *args], cwd=ROOT)
    if result.returncode != 0:
        raise SystemExit(f"{args[0]} failed: {result.stderr.strip()[-800:]}")
    return json.loads(result.stdout), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=0, help="only the first N records (default: all)")
    parser.add_argument("--page-size", type=int, default=500, help="records per OAI-PMH response")
    args = parser.parse_args()
    path = data.loc_file()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.records:
            path = data.head(path, args.records, work / "head.mrc")
        provider_db = work / "provider.db"
        _job(["bench.ingest_run", str(path), f"sqlite:///{provider_db}", "--bare"])
        provider = {
            "UNIONCAT_DATA_DIR": str(work),
            "UNIONCAT_DATABASE_URL": f"sqlite:///{provider_db}",
            "UNIONCAT_OAI_PAGE_SIZE": str(args.page_size),
        }
        with measure.serving(provider) as base:
            from_file, file_run = _job(["bench.ingest_run", str(path), f"sqlite:///{work / 'file.db'}"])
            harvested, harvest_run = _job(
                ["bench.harvest_run", f"{base}/oai", "source:LOC-BENCH", f"sqlite:///{work / 'harvest.db'}"]
            )
    file_rate = from_file["read"] / file_run.seconds
    harvest_rate = harvested["read"] / harvest_run.seconds
    report = {
        "file": path.name,
        "records": harvested["read"],
        "page_size": args.page_size,
        "file_ingest": {
            "records": from_file["read"],
            "seconds": round(file_run.seconds, 1),
            "records_per_s": round(file_rate),
            "peak_rss_mb": round(file_run.peak_rss_mb),
        },
        "harvest": {
            "records": harvested["read"],
            "rejected": harvested["rejected"],
            "pages": harvested["pages"],
            "seconds": round(harvest_run.seconds, 1),
            "records_per_s": round(harvest_rate),
            "peak_rss_mb": round(harvest_run.peak_rss_mb),
        },
        "harvest_vs_file": round(harvest_rate / file_rate, 2),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
