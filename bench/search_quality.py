"""Search quality: does the record a reader looks for come first, or in the first five?

    python -m bench.ingest --keep                       # once: the 250,000 LoC records
    python -m bench.search_quality --build              # once: draw the query set (seeded)
    python -m bench.search_quality [--database PATH]    # the figures, per kind of query

The query set (bench/search_queries.json, written by bench/query_set.py) is drawn from the catalogue
by a seeded random draw, not picked by hand: for each kind, records are drawn from those the kind
applies to (the records in Vietnamese for the kinds about Vietnamese typing, every record for the
others), and the query is written from the record the way a reader types it. Each query names the
records that answer it by identity (their 001), never by union id: every record with the same title
and first author (the query cannot tell editions apart), or for an author, subject or ISBN query
every record with that author, subject or ISBN. A query counts in the top 1 (top 5) when the first
hit (one of the first five) is one of those.

Kinds: ``no_diacritics`` (title words typed without marks), ``full`` (with them), ``partial`` (some
words with marks, some without), ``telex`` and ``vni`` (some words typed with a keyboard's keys
left in: "vieetj", "vie65t"), ``author`` (the name in Vietnamese order, "Nguyễn Văn A", not the
heading's "Nguyễn, Văn A"), ``subject``, ``prefix`` (typing: the last word unfinished after three
whole ones, fewer in a shorter title), ``typo`` (one typo in one word, never its first letter),
``isbn`` (hyphenated, or with a label), ``d_dd`` (đ typed as d or dd).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench import data
from bench.query_set import SEED, build
from catalog.db import make_engine
from catalog.search.embedded import EmbeddedSearchEngine
from catalog.search.query import SearchQuery

QUERIES = Path(__file__).with_name("search_queries.json")


# ------------------------------------------------------------------------------ the figures
def evaluate(engine: Any, queries: list[dict[str, Any]]) -> dict[str, Any]:
    search = EmbeddedSearchEngine(engine)
    with engine.connect() as conn:
        identity: dict[int, set[str]] = defaultdict(set)
        for uid, local in conn.execute(
            text("SELECT union_record_id, local_id FROM source_record WHERE union_record_id IS NOT NULL")
        ):
            identity[uid].add(local)
    for q in queries[:20]:  # warm the page cache
        search.search(SearchQuery(q=q["q"], per_page=5, facets=False))
    per_kind: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    samples = []
    misses = []
    for q in queries:
        start = time.perf_counter()
        result = search.search(SearchQuery(q=q["q"], per_page=5))
        samples.append((time.perf_counter() - start) * 1000)
        expected = set(q["expected"])
        found = [bool(identity[h.id] & expected) for h in result.hits]
        top1, top5 = bool(found[:1] and found[0]), any(found)
        per_kind[q["kind"]].append((top1, top5))
        if not top1:
            misses.append({"kind": q["kind"], "q": q["q"], "top5": top5})
    ordered = sorted(samples)
    kinds = {
        kind: {
            "queries": len(v),
            "top1": round(sum(a for a, _ in v) / len(v), 3),
            "top5": round(sum(b for _, b in v) / len(v), 3),
        }
        for kind, v in per_kind.items()
    }
    every = [x for v in per_kind.values() for x in v]
    return {
        "queries": len(every),
        "top1": round(sum(a for a, _ in every) / len(every), 3),
        "top5": round(sum(b for _, b in every) / len(every), 3),
        "kinds": kinds,
        "latency": {
            "p50_ms": round(statistics.median(ordered), 2),
            "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 2),
        },
        "misses": misses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", type=Path, default=data.CATALOGUE / "unioncat.db")
    parser.add_argument("--build", action="store_true", help=f"draw the query set anew into {QUERIES.name}")
    parser.add_argument("--queries", type=Path, default=QUERIES)
    parser.add_argument(
        "--seed",
        type=int,
        default=SEED,
        help="with --build: another seed draws a fresh set (a check on unseen queries)",
    )
    args = parser.parse_args()
    if not args.database.exists():
        raise SystemExit(
            f"no benchmark catalogue at {args.database}: run 'python -m bench.ingest --keep' first"
        )
    engine = make_engine(f"sqlite:///{args.database}")
    if args.build:
        queries = build(engine, args.seed)
        args.queries.write_text(json.dumps(queries, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"{len(queries)} queries written to {args.queries}")
        return
    queries = json.loads(args.queries.read_text(encoding="utf-8"))
    print(json.dumps(evaluate(engine, queries), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
