"""What follows every write to the catalogue inside a job: union records (and the search index)."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import Connection, update
from sqlalchemy.engine import Engine

from catalog.db import chunks
from catalog.dedup.clusters import Deduplicator, Fresh
from catalog.models import UnionRecord, utcnow
from catalog.search.documents import documents, record_holdings
from catalog.search.engine import SearchEngine
from catalog.search.rows import plus_copies

UNION = UnionRecord.__table__  # type: ignore[attr-defined]


@dataclass
class UpdateSummary:
    dedup_seconds: float = 0.0
    index_seconds: float = 0.0
    union_records_changed: int = 0
    pairs_decided: int = 0
    pairs_accepted: int = 0
    changed_union_ids: set[int] = field(default_factory=set)


class CatalogueUpdater:
    """Runs after each batch a job writes, on the job's transaction: all of it commits or none does.

    Union records are brought up to date, then the search documents of the union records that
    changed. A transactional engine (the embedded one) is written at once, in the same transaction;
    for another (Meilisearch) the changed ids are kept for :meth:`push_after_commit`.
    """

    def __init__(
        self,
        conn: Connection,
        ignore_isbns: Iterable[str] = (),
        search: SearchEngine | None = None,
        library_code: str | None = None,
    ) -> None:
        self.conn = conn
        self.dedup = Deduplicator(conn, ignore_isbns)  # normalised there, as for a rebuild
        self.search = search
        self.library_code = library_code
        self.summary = UpdateSummary()

    def records_changed(
        self,
        source_record_ids: Iterable[int],
        prepared: dict[int, dict] | None = None,
        fresh: Mapping[int, Fresh] | None = None,
    ) -> None:
        """Union records and search documents for what a batch changed; ``prepared`` are the embedded
        index rows the ingest built for the records (used for records that stay union records alone),
        ``fresh`` the records the batch added as new rows (see Deduplicator.process)."""
        start = time.perf_counter()
        result = self.dedup.process(source_record_ids, fresh)
        touched = sorted(result.union_ids - result.singletons.keys())
        if touched:  # a member or its holdings changed: the union record's OAI datestamp moves
            stamp = utcnow()
            for part in chunks(touched):
                self.conn.execute(update(UNION).where(UNION.c.id.in_(part)).values(updated_at=stamp))
        self.summary.dedup_seconds += time.perf_counter() - start
        self.summary.pairs_decided += result.decisions
        self.summary.pairs_accepted += result.accepted
        self.summary.changed_union_ids |= result.union_ids
        self.summary.union_records_changed = len(self.summary.changed_union_ids)
        if self.search is not None and self.search.transactional and result.union_ids:
            start = time.perf_counter()
            ready = []
            for union_id, record_id in result.singletons.items():
                doc = (prepared or {}).get(record_id)  # its rows, built by the worker for its library
                if doc is not None and doc["libraries"] == [self.library_code]:
                    ready.append(dict(doc, id=union_id))
            done = {d["id"] for d in ready}
            # union records that new records joined and nothing else changed: their holdings are
            # the indexed ones plus the copies of those records (read again from the members, they
            # would cost as many reads as the union record has members, dozens in a consortium)
            added = self._copies_added({u: r for u, r in result.joined.items() if u not in done})
            # of those, the ones whose description stayed as it was: only their holdings are written
            done |= self.search.add_copies(
                self.conn, {u: added[u] for u in added if u in result.described_as_before}
            )
            rest = sorted(u for u in added if u not in done)
            summaries = {
                u: plus_copies(h, added[u]) for u, h in self.search.indexed_holdings(self.conn, rest).items()
            }
            docs, gone = documents(self.conn, [u for u in result.union_ids if u not in done], summaries)
            self.search.delete(self.conn, gone)
            self.search.upsert(self.conn, docs + ready)
            self.summary.index_seconds += time.perf_counter() - start

    def finish(self) -> None:
        """The transaction is about to commit: a transactional engine writes what it held back
        (timed as indexing)."""
        if self.search is not None and self.search.transactional:
            start = time.perf_counter()
            self.search.flush(self.conn)
            self.summary.index_seconds += time.perf_counter() - start

    def _copies_added(self, joined: Mapping[int, list[int]]) -> dict[int, dict[str, int]]:
        """Union id -> {library code: copies} its new members (``joined``) brought."""
        copies = record_holdings(self.conn, sorted(r for rids in joined.values() for r in rids))
        return {
            uid: functools.reduce(plus_copies, (copies.get(r, {}) for r in rids), {})
            for uid, rids in joined.items()
        }


def push_after_commit(catalogue: Engine, search: SearchEngine, union_ids: Iterable[int]) -> int:
    """Send the documents of ``union_ids`` to a non-transactional engine once the job has committed."""
    ids = sorted(set(union_ids))
    sent = 0
    with catalogue.connect() as conn:
        for i in range(0, len(ids), 5000):
            docs, gone = documents(conn, ids[i : i + 5000])
            search.delete(None, gone)
            search.upsert(None, docs)
            sent += len(docs)
    return sent
