"""Does the search index agree with the catalogue? Counts, and a sample of documents compared."""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from catalog.models import UnionRecord
from catalog.search.documents import documents
from catalog.search.engine import SearchEngine

COMPARED = (
    "title",
    "authors",
    "year",
    "material_type",
    "libraries",
    "library_count",
    "copies",
    "has_digital",
)


def check(
    catalogue: Engine, search: SearchEngine, sample: int = 200, seed: int | None = None
) -> dict[str, Any]:
    union = UnionRecord.__table__  # type: ignore[attr-defined]
    with catalogue.connect() as conn:
        total = conn.execute(select(func.count()).select_from(union)).scalar_one()
        ids = list(conn.execute(select(union.c.id)).scalars())
        chosen = sorted(random.Random(seed).sample(ids, min(sample, len(ids))))
        expected, _gone = documents(conn, chosen)
    indexed = search.documents(chosen)
    missing = [d["id"] for d in expected if d["id"] not in indexed]
    stale = [
        d["id"]
        for d in expected
        if d["id"] in indexed and any(indexed[d["id"]].get(k) != d.get(k) for k in COMPARED)
    ]
    index_count = search.count()
    return {
        "engine": search.name,
        "catalogue_union_records": total,
        "index_documents": index_count,
        "sampled": len(chosen),
        "missing": missing,
        "stale": stale,
        "in_sync": total == index_count and not missing and not stale,
    }
