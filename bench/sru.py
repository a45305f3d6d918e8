"""SRU searchRetrieve latency through HTTP on the catalogue the ingest benchmark left behind, with
the JSON search API's latency for the same searches measured in the same run as the reference.

    python -m bench.ingest --keep      # once: ingests the 250,000 LoC records, keeps the catalogue
    python -m bench.sru [--queries 500]

The mix (seeded, so every run asks the same) is what copy cataloguers send: a title's words, an
author's name, an ISBN, a title word within a span of years, a subject, and any word. Each SRU
request retrieves its first 10 records as copy-safe MARCXML (decoded from the stored MARC, as a
client gets them); its JSON reference asks the same words of /api/v1/search, 10 hits without facets.
The two are measured alternately on one kept-alive connection each, so that the machine's load
weighs on both alike."""

from __future__ import annotations

import argparse
import http.client
import json
import random
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

from sqlalchemy import text

from bench import data, measure
from bench.search import percentiles
from catalog.db import make_engine
from catalog.text import fold

GOAL_P95_MS = 50.0


def query_mix(engine: Any, count: int, seed: int = 2026) -> list[tuple[str, dict[str, Any]]]:
    """(CQL query, the JSON search's parameters asking the same) pairs."""
    rng = random.Random(seed)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT title, fields FROM union_record WHERE id % 97 = 0 AND title IS NOT NULL LIMIT 5000")
        ).all()
    fields = [json.loads(r[1]) if isinstance(r[1], str) else r[1] for r in rows]
    titles = [fold(r[0]).split() for r in rows]
    words = [w for t in titles for w in t if len(w) > 3 and w.isalpha()]
    surnames = [
        fold(a["name"].split(",")[0])
        for f in fields
        for a in f.get("authors") or []
        if "," in a.get("name", "")
    ]
    surnames = [s for s in surnames if s.isalpha()]
    subjects = [
        fold(s.split(" -- ")[0]).split()[0] for f in fields for s in f.get("subjects") or [] if s.strip()
    ]
    isbns = [i for f in fields for i in f.get("isbns") or []]
    mix: list[tuple[str, dict[str, Any]]] = []
    while len(mix) < count:
        kind = rng.random()
        if kind < 0.3:
            title = rng.choice([t for t in titles if len(t) >= 2])
            start = rng.randrange(0, len(title) - 1)
            phrase = " ".join(title[start : start + 2])
            mix.append((f'dc.title="{phrase}"', {"q": phrase}))
        elif kind < 0.5 and surnames:
            name = rng.choice(surnames)
            mix.append((f"dc.creator={name}", {"q": name}))
        elif kind < 0.65 and isbns:
            isbn = rng.choice(isbns)
            mix.append((f"bath.isbn={isbn}", {"q": isbn}))
        elif kind < 0.8:
            word, year = rng.choice(words), rng.choice((1950, 1980, 2000))
            mix.append((f"dc.title={word} and dc.date>={year}", {"q": word, "year_from": year}))
        elif kind < 0.9 and subjects:
            subject = rng.choice(subjects)
            mix.append((f"dc.subject={subject}", {"q": subject}))
        else:
            word = rng.choice(words)
            mix.append((word, {"q": word}))
    return mix


def measured(mix: list[tuple[str, dict[str, Any]]], warm: int) -> dict[str, Any]:
    settings = {
        "UNIONCAT_DATA_DIR": str(data.CATALOGUE),
        "UNIONCAT_DATABASE_URL": "",
        "UNIONCAT_SERVE_WORKER": "false",
    }
    with measure.serving(settings) as base:
        host = urlsplit(base).netloc
        sru_conn = http.client.HTTPConnection(host, timeout=60)
        json_conn = http.client.HTTPConnection(host, timeout=60)

        def get(conn: http.client.HTTPConnection, path: str, params: dict[str, Any]) -> tuple[float, bytes]:
            start = time.perf_counter()
            conn.request("GET", f"{path}?{urlencode(params)}")
            response = conn.getresponse()
            body = response.read()
            elapsed = (time.perf_counter() - start) * 1000
            if response.status != 200:
                raise SystemExit(f"{path} answered {response.status}: {body[:300]!r}")
            return elapsed, body

        def sru(cql: str) -> tuple[float, bytes]:
            params = {"version": "1.2", "operation": "searchRetrieve", "query": cql, "maximumRecords": 10}
            return get(sru_conn, "/sru", params)

        def search(params: dict[str, Any]) -> tuple[float, bytes]:
            return get(json_conn, "/api/v1/search", {**params, "per_page": 10, "facets": "false"})

        for cql, params in mix[:warm]:
            sru(cql)
            search(params)
        sru_ms, json_ms, records, diagnostics = [], [], 0, 0
        for n, (cql, params) in enumerate(mix):
            if n % 2:  # alternate which goes first
                json_elapsed, _answer = search(params)
                sru_elapsed, body = sru(cql)
            else:
                sru_elapsed, body = sru(cql)
                json_elapsed, _answer = search(params)
            sru_ms.append(sru_elapsed)
            json_ms.append(json_elapsed)
            records += body.count(b"<srw:recordPosition>")
            diagnostics += body.count(b"<diag:diagnostic")
        sru_conn.close()
        json_conn.close()
    return {
        "sru_search_retrieve": {
            "requests": len(sru_ms),
            "records_returned": records,
            "diagnostics": diagnostics,
            **percentiles(sru_ms),
        },
        "json_search_reference": {"requests": len(json_ms), **percentiles(json_ms)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--warm", type=int, default=30, help="requests sent untimed first")
    args = parser.parse_args()
    path = data.CATALOGUE / "unioncat.db"
    if not path.exists():
        raise SystemExit(f"no benchmark catalogue at {path}: run 'python -m bench.ingest --keep' first")
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        documents = conn.execute(text("SELECT count(*) FROM search_doc")).scalar_one()
    mix = query_mix(engine, args.queries)
    report: dict[str, Any] = {"documents": documents, **measured(mix, args.warm)}
    p95 = report["sru_search_retrieve"]["p95_ms"]
    report["goal"] = {"sru_p95_ms_at_most": GOAL_P95_MS, "met": p95 <= GOAL_P95_MS}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
