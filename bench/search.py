"""Search latency: a fixed mix of 1,000 queries on the catalogue the ingest benchmark left behind.

    python -m bench.ingest --keep      # once: ingests the 250,000 LoC records, keeps the catalogue
    python -m bench.search [--queries 1000] [--http]

The mix (seeded, so every run asks the same): single words, several words, Vietnamese typed without
diacritics, prefixes (search as you type), ISBNs, and queries with filters; every query asks for all
facets. Latency is measured in-process on the embedded engine and, with --http, through a
'unioncat serve' started on loopback: search, holdings lookup by ISBN, and the throughput of a
bounded load of concurrent clients.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from typing import Any

from sqlalchemy import text

from bench import data, measure
from bench.ingest import pymarc_rate
from catalog.db import make_engine
from catalog.search.embedded import EmbeddedSearchEngine
from catalog.search.query import SearchQuery
from catalog.text import fold

VIETNAMESE = [
    "viet nam", "lich su", "van hoc", "dai hoc", "ha noi", "chien tranh", "kinh te", "van hoa", "ho chi minh",
    "nguyen", "tran", "phat giao", "tho", "truyen", "dan toc", "giao duc", "xa hoi", "khoa hoc", "ngon ngu",
]  # fmt: skip


def query_mix(engine: Any, count: int, seed: int = 2026) -> list[SearchQuery]:
    rng = random.Random(seed)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT title, fields FROM union_record WHERE id % 97 = 0 AND title IS NOT NULL LIMIT 5000")
        ).all()
        libraries = [r[0] for r in conn.execute(text("SELECT code FROM library"))]
    titles = [fold(r[0]).split() for r in rows]
    words = [w for t in titles for w in t if len(w) > 3]
    isbns = [i for r in rows for i in (json.loads(r[1]) if isinstance(r[1], str) else r[1]).get("isbns", [])]
    queries: list[SearchQuery] = []
    while len(queries) < count:
        kind = rng.random()
        if kind < 0.25:
            q = SearchQuery(q=rng.choice(words) + " ")
        elif kind < 0.45:
            title = rng.choice([t for t in titles if len(t) >= 2])
            start = rng.randrange(0, len(title) - 1)
            q = SearchQuery(q=" ".join(title[start : start + rng.choice((2, 3))]) + " ")
        elif kind < 0.6:
            q = SearchQuery(q=rng.choice(VIETNAMESE))
        elif kind < 0.75:
            word = rng.choice(words)
            q = SearchQuery(q=word[: rng.choice((3, 4, 5))])  # typing: the last word is a prefix
        elif kind < 0.8 and isbns:
            q = SearchQuery(q=rng.choice(isbns))
        else:
            q = SearchQuery(
                q=rng.choice(words),
                libraries=[rng.choice(libraries)] if rng.random() < 0.5 else [],
                year_from=rng.choice((1950, 1980, 2000)),
                languages=["eng"] if rng.random() < 0.5 else [],
            )
        queries.append(q)
    return queries


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 2),
        "max_ms": round(ordered[-1], 2),
    }


def timed_searches(engine: Any, queries: list[SearchQuery], warm: int = 50) -> dict[str, Any]:
    """p50/p95 of ``queries`` on the embedded engine of ``engine``, after ``warm`` of them untimed."""
    search = EmbeddedSearchEngine(engine)
    for q in queries[:warm]:  # warm the page cache
        search.search(q)
    samples = []
    for q in queries:
        start = time.perf_counter()
        search.search(q)
        samples.append((time.perf_counter() - start) * 1000)
    return {"queries": len(queries), **percentiles(samples)}


def in_process(queries: list[SearchQuery]) -> dict[str, Any]:
    return timed_searches(make_engine(f"sqlite:///{data.CATALOGUE / 'unioncat.db'}"), queries)


def _params(q: SearchQuery) -> dict[str, Any]:
    params: dict[str, Any] = {"q": q.q, "per_page": q.per_page}
    if q.libraries:
        params["library"] = q.libraries
    if q.languages:
        params["language"] = q.languages
    if q.year_from is not None:
        params["year_from"] = q.year_from
    return params


def through_http(
    queries: list[SearchQuery], isbns: list[str], threads: int, seconds: float
) -> dict[str, Any]:
    """Start 'unioncat serve' on the benchmark catalogue and measure search, holdings and throughput."""
    import http.client
    import threading
    from urllib.parse import urlencode, urlsplit

    import httpx

    settings = {"UNIONCAT_DATA_DIR": str(data.CATALOGUE), "UNIONCAT_DATABASE_URL": ""}
    with measure.serving(settings) as base:
        with httpx.Client(base_url=base, timeout=30) as warm:
            for q in queries[:50]:
                warm.get("/api/v1/search", params=_params(q))
        # Latency is timed with the standard library's http.client on one kept-alive connection: the
        # lightest Python client, so that the figures are the server's more than the client's.
        conn = http.client.HTTPConnection(urlsplit(base).netloc, timeout=30)

        def get(path: str, params: dict[str, Any]) -> None:
            conn.request("GET", f"{path}?{urlencode(params, doseq=True)}")
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise SystemExit(f"{path} answered {response.status}")

        search_ms = []
        for q in queries:
            start = time.perf_counter()
            get("/api/v1/search", _params(q))
            search_ms.append((time.perf_counter() - start) * 1000)
        holdings_ms = []
        for isbn in isbns:
            start = time.perf_counter()
            get("/api/v1/holdings", {"isbn": isbn})
            holdings_ms.append((time.perf_counter() - start) * 1000)
        conn.close()
        done = [0] * threads
        stop = time.monotonic() + seconds

        def load(n: int) -> None:  # a bounded load: a fixed time, loopback only
            with httpx.Client(base_url=base, timeout=30) as client:
                i = n
                while time.monotonic() < stop:
                    client.get("/api/v1/search", params=_params(queries[i % len(queries)]))
                    done[n] += 1
                    i += threads

        workers = [threading.Thread(target=load, args=(n,)) for n in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    return {
        "search": {"queries": len(search_ms), **percentiles(search_ms)},
        "holdings_by_isbn": {"lookups": len(holdings_ms), **percentiles(holdings_ms)},
        "throughput": {
            "clients": threads,
            "seconds": seconds,
            "requests_per_s": round(sum(done) / seconds, 1),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument(
        "--http", action="store_true", help="also through HTTP ('unioncat serve' on loopback)"
    )
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients of the throughput run")
    parser.add_argument("--seconds", type=float, default=20, help="how long the throughput run lasts")
    args = parser.parse_args()
    path = data.CATALOGUE / "unioncat.db"
    if not path.exists():
        raise SystemExit(f"no benchmark catalogue at {path}: run 'python -m bench.ingest --keep' first")
    engine = make_engine(f"sqlite:///{path}")
    queries = query_mix(engine, args.queries)
    with engine.connect() as conn:
        documents = conn.execute(text("SELECT count(*) FROM search_doc")).scalar_one()
    report: dict[str, Any] = {
        "documents": documents,
        # This machine's speed varies by half from hour to hour: the rate of pymarc over the first
        # 20,000 LoC records, measured now, says how fast it was while the latencies were measured.
        "machine_pymarc_records_per_s": round(pymarc_rate(data.loc_file(), limit=20_000)[1]),
        "in_process": in_process(queries),
    }
    if args.http:
        with engine.connect() as conn:
            isbns = [
                r[0]
                for r in conn.execute(
                    text(
                        "SELECT value FROM record_key WHERE kind = 'isbn' ORDER BY source_record_id LIMIT 500"
                    )
                )
            ]
        report["http"] = through_http(queries, isbns, args.clients, args.seconds)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
