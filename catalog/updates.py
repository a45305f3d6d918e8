"""What follows every write to the catalogue inside a job: union records (and the search index)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Connection

from catalog.dedup.clusters import Deduplicator
from catalog.identifiers import isbn13


@dataclass
class UpdateSummary:
    union_records_changed: int = 0
    pairs_decided: int = 0
    pairs_accepted: int = 0
    changed_union_ids: set[int] = field(default_factory=set)


class CatalogueUpdater:
    """Runs after each batch a job writes, on the job's transaction: all of it commits or none does."""

    def __init__(self, conn: Connection, ignore_isbns: Iterable[str] = ()) -> None:
        normalised = {isbn13(v) or v for v in ignore_isbns}
        self.dedup = Deduplicator(conn, normalised)
        self.summary = UpdateSummary()

    def records_changed(self, source_record_ids: Iterable[int]) -> None:
        result = self.dedup.process(source_record_ids)
        self.summary.pairs_decided += result.decisions
        self.summary.pairs_accepted += result.accepted
        self.summary.changed_union_ids |= result.union_ids
        self.summary.union_records_changed = len(self.summary.changed_union_ids)
