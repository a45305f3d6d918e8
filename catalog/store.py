"""Batch writing of prepared records for one library inside one job's transaction.

Core statements, executed many rows at a time, keep memory flat and avoid per-record round trips.
Everything here runs on the connection of the job's single transaction, so a job is all or nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, and_, bindparam, delete, insert, or_, select, update

from catalog.models import Holding, RecordKey, RecordStatus, SourceRecord
from catalog.records import PreparedRecord

SR = SourceRecord.__table__  # type: ignore[attr-defined]
HOLDING = Holding.__table__  # type: ignore[attr-defined]
KEY = RecordKey.__table__  # type: ignore[attr-defined]
_LOOKUP_CHUNK = 900


@dataclass
class WriteResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    touched: set[int] = field(default_factory=set)  # source record ids added, changed or deleted

    def merge(self, other: WriteResult) -> None:
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.deleted += other.deleted
        self.touched |= other.touched


def _chunks(items: Sequence[str], size: int = _LOOKUP_CHUNK) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class LibraryWriter:
    """Writes one library's records for one job on an open transaction."""

    def __init__(self, conn: Connection, library_id: int, job_id: int, now: datetime) -> None:
        self.conn = conn
        self.library_id = library_id
        self.job_id = job_id
        self.now = now

    def _existing(self, local_ids: Sequence[str]) -> dict[str, tuple[int, str, str]]:
        found: dict[str, tuple[int, str, str]] = {}
        for part in _chunks(local_ids):
            rows = self.conn.execute(
                select(SR.c.local_id, SR.c.id, SR.c.checksum, SR.c.status).where(
                    SR.c.library_id == self.library_id, SR.c.local_id.in_(part)
                )
            )
            for local_id, rid, checksum, status in rows:
                found[local_id] = (rid, checksum, status)
        return found

    def write(self, batch: Sequence[PreparedRecord]) -> WriteResult:
        """Add, replace or confirm each record; a local id seen twice in ``batch`` is written in turn."""
        result = WriteResult()
        start = 0
        seen: set[str] = set()
        for i, rec in enumerate(batch):
            if rec.local_id in seen:
                result.merge(self._write_unique(batch[start:i]))
                start, seen = i, set()
            seen.add(rec.local_id)
        result.merge(self._write_unique(batch[start:]))
        return result

    def _row(self, rec: PreparedRecord) -> dict[str, object]:
        return {
            "raw_format": rec.raw_format,
            "raw": rec.raw,
            "checksum": rec.checksum,
            "fields": rec.fields,
            "title": rec.title,
            "title_key": rec.title_key,
            "year": rec.year,
            "material_type": rec.material_type,
            "warnings": rec.warnings or None,
            "status": RecordStatus.ACTIVE.value,
            "deleted_at": None,
            "last_seen": self.now,
            "last_job_id": self.job_id,
        }

    def _write_unique(self, batch: Sequence[PreparedRecord]) -> WriteResult:
        result = WriteResult()
        if not batch:
            return result
        existing = self._existing([r.local_id for r in batch])
        new: list[PreparedRecord] = []
        changed: list[tuple[int, PreparedRecord]] = []
        unchanged_ids: list[int] = []
        for rec in batch:
            found = existing.get(rec.local_id)
            if found is None:
                new.append(rec)
            elif found[1] == rec.checksum and found[2] == RecordStatus.ACTIVE:
                unchanged_ids.append(found[0])
            elif found[2] != RecordStatus.ACTIVE:
                changed.append((found[0], rec))
                result.added += 1  # a deleted record that comes back
            else:
                changed.append((found[0], rec))
                result.updated += 1
        result.unchanged = len(unchanged_ids)
        result.added += len(new)

        ids_by_record: list[tuple[int, PreparedRecord]] = list(changed)
        if new:
            rows = []
            for rec in new:
                row = self._row(rec)
                row.update(
                    library_id=self.library_id, local_id=rec.local_id, first_seen=self.now, job_id=self.job_id
                )
                rows.append(row)
            inserted = (
                self.conn.execute(insert(SR).returning(SR.c.id, sort_by_parameter_order=True), rows)
                .scalars()
                .all()
            )
            ids_by_record.extend(zip(inserted, new, strict=True))
        if changed:
            ids = [rid for rid, _ in changed]
            self._drop_dependents(ids)
            stmt = (
                update(SR)
                .where(SR.c.id == bindparam("_id"))
                .values({name: bindparam(name) for name in self._row(changed[0][1])})
            )
            self.conn.execute(stmt, [{"_id": rid, **self._row(rec)} for rid, rec in changed])
        if unchanged_ids:
            self.conn.execute(
                update(SR)
                .where(SR.c.id == bindparam("_id"))
                .values(last_seen=self.now, last_job_id=self.job_id),
                [{"_id": rid} for rid in unchanged_ids],
            )
        self._insert_dependents(ids_by_record)
        result.touched.update(rid for rid, _ in ids_by_record)
        return result

    def _drop_dependents(self, ids: Sequence[int]) -> None:
        for part in _chunks(ids):  # type: ignore[arg-type]
            self.conn.execute(delete(HOLDING).where(HOLDING.c.source_record_id.in_(part)))
            self.conn.execute(delete(KEY).where(KEY.c.source_record_id.in_(part)))

    def _insert_dependents(self, ids_by_record: Sequence[tuple[int, PreparedRecord]]) -> None:
        holdings = [
            {"library_id": self.library_id, "source_record_id": rid, **h}
            for rid, rec in ids_by_record
            for h in rec.holdings
        ]
        keys = [
            {"source_record_id": rid, "kind": k, "value": v}
            for rid, rec in ids_by_record
            for k, v in rec.keys
        ]
        if holdings:
            self.conn.execute(insert(HOLDING), holdings)
        if keys:
            self.conn.execute(insert(KEY), keys)

    def _mark_deleted(self, ids: Sequence[int]) -> int:
        if not ids:
            return 0
        self._drop_dependents(ids)
        for part in _chunks(ids):  # type: ignore[arg-type]
            self.conn.execute(
                update(SR)
                .where(SR.c.id.in_(part))
                .values(status=RecordStatus.DELETED.value, deleted_at=self.now, last_job_id=self.job_id)
            )
        return len(ids)

    def delete_missing(self) -> WriteResult:
        """Snapshot semantics: active records of the library this job did not see become deleted."""
        ids = (
            self.conn.execute(
                select(SR.c.id).where(
                    SR.c.library_id == self.library_id,
                    SR.c.status == RecordStatus.ACTIVE.value,
                    or_(SR.c.last_job_id.is_(None), SR.c.last_job_id != self.job_id),
                )
            )
            .scalars()
            .all()
        )
        return WriteResult(deleted=self._mark_deleted(ids), touched=set(ids))

    def delete_local_ids(self, local_ids: Sequence[str]) -> WriteResult:
        """Delete mode: the listed records become deleted; those unknown or already deleted are unchanged."""
        unique = list(dict.fromkeys(local_ids))
        ids: list[int] = []
        for part in _chunks(unique):
            ids += (
                self.conn.execute(
                    select(SR.c.id).where(
                        and_(SR.c.library_id == self.library_id, SR.c.local_id.in_(part)),
                        SR.c.status == RecordStatus.ACTIVE.value,
                    )
                )
                .scalars()
                .all()
            )
        deleted = self._mark_deleted(ids)
        return WriteResult(deleted=deleted, unchanged=len(local_ids) - deleted, touched=set(ids))
