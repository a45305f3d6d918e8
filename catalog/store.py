"""Batch writing of prepared records for one library inside one job's transaction.

Core statements, executed many rows at a time, keep memory flat and avoid per-record round trips.
Everything here runs on the connection of the job's single transaction, so a job is all or nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Connection, Table, and_, delete, or_, select, update

from catalog.db import allocate_ids, bind_datetime, chunks, many_rows, placeholder, rows_in
from catalog.holdings import HOLDING_FIELDS
from catalog.models import Holding, RecordKey, RecordStatus, SourceRecord
from catalog.records import PreparedRecord

if TYPE_CHECKING:
    from catalog.dedup.clusters import Fresh

SR = SourceRecord.__table__  # type: ignore[attr-defined]
HOLDING = Holding.__table__  # type: ignore[attr-defined]
KEY = RecordKey.__table__  # type: ignore[attr-defined]
_FIRST_ANALYZE = 5000
# What a job writes and then looks up by key: without statistics, PostgreSQL scans them whole
ANALYZED = (
    "source_record",
    "holding",
    "record_key",
    "union_record",
    "union_key",
    "union_state",
    "match_decision",
)


@dataclass
class WriteResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    touched: set[int] = field(default_factory=set)  # source record ids added, changed or deleted
    # prepared search documents of the records written, by source record id (see PreparedRecord)
    documents: dict[int, dict[str, Any]] = field(default_factory=dict)
    # records this write inserted as new rows: (library id, match keys) by source record id, what
    # deduplication would otherwise read back (see Deduplicator.process)
    fresh: dict[int, Fresh] = field(default_factory=dict)

    def merge(self, other: WriteResult) -> None:
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.deleted += other.deleted
        self.touched |= other.touched
        self.documents.update(other.documents)
        # a record added and then replaced in the same write (its local id twice) is no longer fresh
        self.fresh = {rid: v for rid, v in self.fresh.items() if rid not in other.touched}
        self.fresh.update(other.fresh)


_SR_WRITE = (
    "raw_format",
    "raw",
    "checksum",
    "fields",
    "title",
    "title_key",
    "year",
    "material_type",
    "warnings",
    "status",
    "deleted_at",
    "last_seen",
    "last_job_id",
    "oai_identifier",
    "changed_at",
)
_SR_NEW = ("library_id", "local_id", "first_seen", "job_id", "id")
_HOLDING_COLUMNS = ("library_id", "source_record_id", *HOLDING_FIELDS)
_KEY_COLUMNS = ("source_record_id", "kind", "value")


def _placeholder(conn: Connection, column: Column[Any]) -> str:
    mark = placeholder(conn)
    if conn.dialect.name == "postgresql" and column.type._type_affinity.__name__ == "JSON":
        return mark + "::json"
    return mark


def _executemany(conn: Connection, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """Hand the rows straight to the driver's executemany: prepared rows need no per-value processing."""
    if rows:
        conn.exec_driver_sql(sql, list(rows))


def _insert_sql(conn: Connection, table: Table, columns: Sequence[str], rows: str | None = None) -> str:
    """An insert into ``table`` of one row, or with ``rows="{rows}"`` of many (see
    :func:`catalog.db.many_rows`, which is given the statement and :func:`_row_marks`)."""
    values = rows or _row_marks(conn, table, columns)
    return f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES {values}"


def _row_marks(conn: Connection, table: Table, columns: Sequence[str]) -> str:
    return "(" + ", ".join(_placeholder(conn, table.c[name]) for name in columns) + ")"


class LibraryWriter:
    """Writes one library's records for one job on an open transaction."""

    def __init__(self, conn: Connection, library_id: int, job_id: int, now: datetime) -> None:
        self.conn = conn
        self.library_id = library_id
        self.job_id = job_id
        self.now = now
        self._now_param = bind_datetime(conn, now)
        mark = placeholder(conn)
        # source_record has triggers (the analytics' change feed): many rows per statement
        new_columns = (*_SR_WRITE, *_SR_NEW)
        self._insert_records = (
            _insert_sql(conn, SR, new_columns, "{rows}"),
            _row_marks(conn, SR, new_columns),
        )
        sets = ", ".join(f"{name} = {_placeholder(conn, SR.c[name])}" for name in _SR_WRITE)
        self._update_record_sql = f"UPDATE {SR.name} SET {sets} WHERE id = {mark}"
        self._seen_sql = (
            f"UPDATE {SR.name} SET last_seen = {mark}, last_job_id = {mark}, "
            f"oai_identifier = COALESCE({mark}, oai_identifier) WHERE id = {mark}"
        )
        self._insert_holding_sql = _insert_sql(conn, HOLDING, _HOLDING_COLUMNS)
        self._written = 0
        self._next_analyze = _FIRST_ANALYZE
        self._insert_key_sql = _insert_sql(conn, KEY, _KEY_COLUMNS)

    def _existing(self, local_ids: Sequence[str]) -> dict[str, tuple[int, str, str]]:
        rows = rows_in(
            self.conn,
            "SELECT local_id, id, checksum, status FROM source_record "
            "WHERE library_id = {mark} AND local_id IN ({ids})",
            local_ids,
            before=(self.library_id,),
        )
        return {local_id: (rid, checksum, status) for local_id, rid, checksum, status in rows}

    def _keep_statistics_current(self) -> None:
        """PostgreSQL plans by table statistics, and autoanalyze cannot see a job's rows before it
        commits: a big first ingest would be planned as if the tables were empty (sequential scans,
        quadratic time). ANALYZE inside the transaction sees them; run it each time the job's writes
        double."""
        if self.conn.dialect.name != "postgresql" or self._written < self._next_analyze:
            return
        self.conn.exec_driver_sql(f"ANALYZE {', '.join(ANALYZED)}")
        self._next_analyze = self._written * 2

    def write(self, batch: Sequence[PreparedRecord]) -> WriteResult:
        """Add, replace or confirm each record; a local id seen twice in ``batch`` is written in turn."""
        self._written += len(batch)
        self._keep_statistics_current()
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

    def _row(self, rec: PreparedRecord) -> tuple[Any, ...]:
        """The values of ``_SR_WRITE`` for ``rec``."""
        return (
            rec.raw_format,
            rec.raw,
            rec.checksum,
            rec.fields_json,
            rec.title,
            rec.title_key,
            rec.year,
            rec.material_type,
            rec.warnings_json,
            RecordStatus.ACTIVE.value,
            None,
            self._now_param,
            self.job_id,
            rec.oai_identifier,
            self._now_param,
        )

    def _write_unique(self, batch: Sequence[PreparedRecord]) -> WriteResult:
        result = WriteResult()
        if not batch:
            return result
        existing = self._existing([r.local_id for r in batch])
        new: list[PreparedRecord] = []
        changed: list[tuple[int, PreparedRecord]] = []
        unchanged: list[tuple[int, str | None]] = []
        for rec in batch:
            found = existing.get(rec.local_id)
            if found is None:
                new.append(rec)
            elif found[1] == rec.checksum and found[2] == RecordStatus.ACTIVE:
                unchanged.append((found[0], rec.oai_identifier))
            elif found[2] != RecordStatus.ACTIVE:
                changed.append((found[0], rec))
                result.added += 1  # a deleted record that comes back
            else:
                changed.append((found[0], rec))
                result.updated += 1
        result.unchanged = len(unchanged)
        result.added += len(new)

        ids_by_record: list[tuple[int, PreparedRecord]] = list(changed)
        if new:
            # Ids are drawn first (RETURNING with a guaranteed row order is not batched by every
            # driver: SQLite would run it row by row), so no lookup by local id follows the insert.
            new_ids = allocate_ids(self.conn, SR.name, len(new))
            many_rows(
                self.conn,
                *self._insert_records,
                [
                    (*self._row(rec), self.library_id, rec.local_id, self._now_param, self.job_id, rid)
                    for rid, rec in zip(new_ids, new, strict=True)
                ],
            )
            ids_by_record.extend(zip(new_ids, new, strict=True))
            result.fresh = {rid: (self.library_id, rec.keys) for rid, rec in zip(new_ids, new, strict=True)}
        if changed:
            self._drop_dependents([rid for rid, _ in changed])
            _executemany(self.conn, self._update_record_sql, [(*self._row(rec), rid) for rid, rec in changed])
        if unchanged:
            seen = [(self._now_param, self.job_id, oai, rid) for rid, oai in unchanged]
            _executemany(self.conn, self._seen_sql, seen)
        self._insert_dependents(ids_by_record)
        result.touched.update(rid for rid, _ in ids_by_record)
        result.documents.update((rid, rec.document) for rid, rec in ids_by_record if rec.document is not None)
        return result

    def _drop_dependents(self, ids: Sequence[int]) -> None:
        for part in chunks(ids):  # type: ignore[arg-type]
            self.conn.execute(delete(HOLDING).where(HOLDING.c.source_record_id.in_(part)))
            self.conn.execute(delete(KEY).where(KEY.c.source_record_id.in_(part)))

    def _insert_dependents(self, ids_by_record: Sequence[tuple[int, PreparedRecord]]) -> None:
        library_id = self.library_id
        # Row by row on every database: tables without triggers (see catalog.db.many_rows)
        _executemany(
            self.conn,
            self._insert_holding_sql,
            [(library_id, rid, *h) for rid, rec in ids_by_record for h in rec.holdings],
        )
        _executemany(
            self.conn, self._insert_key_sql, [(rid, k, v) for rid, rec in ids_by_record for k, v in rec.keys]
        )

    def _mark_deleted(self, ids: Sequence[int]) -> int:
        if not ids:
            return 0
        self._drop_dependents(ids)
        for part in chunks(ids):  # type: ignore[arg-type]
            self.conn.execute(
                update(SR)
                .where(SR.c.id.in_(part))
                .values(
                    status=RecordStatus.DELETED.value,
                    deleted_at=self.now,
                    changed_at=self.now,
                    last_job_id=self.job_id,
                )
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
        for part in chunks(unique):
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

    def delete_oai_identifiers(self, identifiers: Sequence[str]) -> WriteResult:
        """Records a harvested repository reports deleted. A record not known by its OAI identifier is
        looked for by the identifier's last part as local id (``oai:host:123`` -> ``123``: Koha and
        most repositories build their identifiers from the record number)."""
        unique = list(dict.fromkeys(identifiers))
        found: dict[str, int] = {}
        for part in chunks(unique):
            rows = self.conn.execute(
                select(SR.c.oai_identifier, SR.c.id).where(
                    SR.c.library_id == self.library_id,
                    SR.c.oai_identifier.in_(part),
                    SR.c.status == RecordStatus.ACTIVE.value,
                )
            )
            found.update((oai, rid) for oai, rid in rows)
        tails = {i.rsplit(":", 1)[-1]: i for i in unique if i not in found}
        for part in chunks(list(tails)):
            rows = self.conn.execute(
                select(SR.c.local_id, SR.c.id).where(
                    SR.c.library_id == self.library_id,
                    SR.c.local_id.in_(part),
                    SR.c.oai_identifier.is_(None),
                    SR.c.status == RecordStatus.ACTIVE.value,
                )
            )
            found.update((tails[local_id], rid) for local_id, rid in rows)
        ids = sorted(set(found.values()))
        deleted = self._mark_deleted(ids)
        return WriteResult(deleted=deleted, unchanged=len(unique) - len(found), touched=set(ids))

    def delete_oai_missing(self, present: set[str]) -> WriteResult:
        """A ListIdentifiers sweep: harvested records whose identifier the repository no longer lists."""
        gone = [
            rid
            for rid, oai in self.conn.execute(
                select(SR.c.id, SR.c.oai_identifier).where(
                    SR.c.library_id == self.library_id,
                    SR.c.oai_identifier.is_not(None),
                    SR.c.status == RecordStatus.ACTIVE.value,
                )
            )
            if oai not in present
        ]
        return WriteResult(deleted=self._mark_deleted(gone), touched=set(gone))
