"""Readers while a job writes: search and holdings-lookup latency through HTTP, idle and during the
ingest of N records, on the embedded default ('unioncat serve' with its worker process).

    python -m bench.readers_during_ingest [--records 250000] [--base 20000]

A catalogue is made with the first ``--base`` LoC records (library BASE); 'unioncat serve' starts on
it, with its worker. The same mix of searches (words of the base's titles, some typed as prefixes)
and holdings lookups (by the base's ISBNs) is timed idle, then while the first ``--records``
records, uploaded through the API as library BIG (which so holds the base's editions too), are
ingested by the worker. The ingest is one transaction
(all or nothing) holding SQLite's write lock; readers read in WAL. Reports p50, p95 and the maximum
of each phase, their ratio, the upload's answer time and the job's duration.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from sqlalchemy import text

from bench import data, measure
from bench.search import percentiles
from catalog.db import make_engine
from catalog.text import fold

ADMIN = "bench-admin-token"


def _cli(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [str(Path(sys.executable).parent / "unioncat"), *args], env=env, check=True, capture_output=True
    )


def _requests(database: Path, count: int, seed: int = 2026) -> list[tuple[str, dict[str, Any]]]:
    """A fixed mix: 3 searches (a word, two words, a prefix) for each lookup by ISBN."""
    rng = random.Random(seed)
    engine = make_engine(f"sqlite:///{database}")
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT title, fields FROM union_record WHERE title IS NOT NULL LIMIT 5000")
        ).all()
    engine.dispose()
    titles = [fold(r[0]).split() for r in rows]
    words = [w for t in titles for w in t if len(w) > 3]
    isbns = [i for r in rows for i in (json.loads(r[1]) if isinstance(r[1], str) else r[1]).get("isbns", [])]
    mix: list[tuple[str, dict[str, Any]]] = []
    while len(mix) < count:
        kind = len(mix) % 4
        if kind == 0:
            mix.append(("/api/v1/search", {"q": rng.choice(words)}))
        elif kind == 1:
            mix.append(("/api/v1/search", {"q": f"{rng.choice(words)} {rng.choice(words)}"}))
        elif kind == 2:
            mix.append(("/api/v1/search", {"q": rng.choice(words)[:4]}))
        else:
            mix.append(("/api/v1/holdings", {"isbn": rng.choice(isbns)}))
    return mix


class Client:
    """One kept-alive connection (the standard library's, the lightest client)."""

    def __init__(self, base: str) -> None:
        self.conn = http.client.HTTPConnection(urlsplit(base).netloc, timeout=120)

    def call(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        headers = {"Authorization": f"Bearer {ADMIN}"}
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self.conn.close()  # the server closed a connection idle for its keep-alive time: again
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        return response.status, response.read()

    def timed(self, path: str, params: dict[str, Any]) -> float:
        start = time.perf_counter()
        status, _ = self.call("GET", f"{path}?{urlencode(params)}")
        if status != 200:
            raise SystemExit(f"{path} answered {status}")
        return (time.perf_counter() - start) * 1000


def _phase(client: Client, mix: list[tuple[str, dict[str, Any]]], until: Any) -> dict[str, list[float]]:
    """Run the mix over and over until ``until()`` (at least once through); the times by kind."""
    times: dict[str, list[float]] = {"search": [], "holdings": []}
    i = 0
    while i < len(mix) or not until():
        path, params = mix[i % len(mix)]
        times["search" if path.endswith("search") else "holdings"].append(client.timed(path, params))
        i += 1
        if i >= len(mix) and until():
            break
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=250_000, help="records ingested while readers read")
    parser.add_argument("--base", type=int, default=20_000, help="records in the catalogue before")
    parser.add_argument("--requests", type=int, default=400, help="requests in the idle mix")
    args = parser.parse_args()
    loc = data.loc_file()
    with tempfile.TemporaryDirectory(prefix="unioncat-readers-") as tmp:
        work = Path(tmp)
        base_file = data.head(loc, args.base, work / "base.mrc")
        # BIG holds the first N records: the base's editions among them, as members share editions.
        big = data.head(loc, args.records, work / "big.mrc")
        env = {
            "UNIONCAT_DATA_DIR": str(work / "data"),
            "UNIONCAT_DATABASE_URL": "",
            "UNIONCAT_ADMIN_TOKEN": ADMIN,
        }
        full_env = {**{k: v for k, v in os.environ.items() if k != "UNIONCAT_MEILI_URL"}, **env}
        _cli(full_env, "library", "add", "BASE", "--name", "Base")
        _cli(full_env, "library", "add", "BIG", "--name", "Big")
        _cli(full_env, "ingest", str(base_file), "--library", "BASE")
        mix = _requests(work / "data" / "unioncat.db", args.requests)
        with measure.serving({**env, "UNIONCAT_SERVE_WORKER": "true"}) as base:
            client = Client(base)
            for path, params in mix[:50]:  # warm the caches
                client.timed(path, params)
            idle = _phase(client, mix, lambda: True)
            uploader = Client(base)
            start = time.perf_counter()
            status, body = uploader.call("POST", "/api/v1/libraries/BIG/uploads", big.read_bytes())
            upload_ms = (time.perf_counter() - start) * 1000
            if status != 202:
                raise SystemExit(f"the upload answered {status}: {body[:200]!r}")
            job_url = json.loads(body)["url"]
            job: dict[str, Any] = {}

            def finished() -> bool:
                nonlocal job
                job = json.loads(uploader.call("GET", job_url)[1])
                return job["status"] in ("succeeded", "failed")

            while json.loads(uploader.call("GET", job_url)[1])["status"] == "queued":
                time.sleep(0.05)
            during = _phase(client, mix, finished)
    report: dict[str, Any] = {
        "records_ingested": job.get("read"),
        "base_records": args.base,
        "upload_answer_ms": round(upload_ms, 1),
        "job": {k: job.get(k) for k in ("status", "read", "added", "started_at", "finished_at", "error")},
    }
    for kind in ("search", "holdings"):
        before, while_writing = percentiles(idle[kind]), percentiles(during[kind])
        report[kind] = {
            "idle": {"requests": len(idle[kind]), **before},
            "during_ingest": {"requests": len(during[kind]), **while_writing},
            "p95_ratio": round(while_writing["p95_ms"] / before["p95_ms"], 2) if before["p95_ms"] else None,
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
