"""The files of a repository's items: fetched and judged before the transaction that records
them, then recorded in it as digital objects with the state of each file (fetched, with what tells
a changed file; or failed, with the reason, to fetch again).

Used by :mod:`harvest.repository`, whose harvest decides when; everything here that writes does so
on the harvest's transaction (a session bound to its connection).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalog.db import as_utc
from catalog.digital.objects import Checked, DigitalError, add_file, check_file, withdraw
from catalog.digital.storage import ObjectStorage
from catalog.models import DigitalObject, DigitalStatus, RepositoryFile, SourceRecord, utcnow
from harvest.bitstreams import CONTENT_BUNDLE, Bitstream
from harvest.file_fetch import FetchFailed, FileFetcher

FILE = RepositoryFile.__table__  # type: ignore[attr-defined]
OBJECT = DigitalObject.__table__  # type: ignore[attr-defined]
# A file's state: recorded; failed (fetched again at the next harvest); refused (its content, its
# size or its address can never be taken: fetched again only when its item changes).
FETCHED, FAILED, REFUSED = "fetched", "failed", "refused"
# A file that failed this many harvests in a row is refused (its item changing brings it back).
MAX_ATTEMPTS = 10


@dataclass
class FileOutcome:
    """What became of one file of an item in this harvest, written with the item."""

    bitstream: Bitstream
    access: str
    embargo_until: datetime | None
    checked: Checked | None = None  # fetched and judged: to record
    etag: str | None = None
    unchanged: bool = False  # the object recorded for it still holds it
    reason: str | None = None  # why it failed
    final: bool = False  # it cannot be taken as it is listed: not tried again until its item changes

    def discard(self) -> None:
        """Remove the fetched copy (once recorded, or when its transaction failed)."""
        if self.checked is not None:
            self.checked.path.unlink(missing_ok=True)


def known_files(engine: Engine, library_id: int, item: str) -> dict[str, dict[str, Any]]:
    """What the last harvest of ``item`` left of each of its files, by address, with the state and
    size of the object each became."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(FILE, OBJECT.c.status.label("object_status"), OBJECT.c.size.label("object_size"))
            .outerjoin(OBJECT, OBJECT.c.id == FILE.c.object_id)
            .where(FILE.c.library_id == library_id, FILE.c.item == item)
        ).mappings()
        return {row["url"]: dict(row) for row in rows}


def failed_files(engine: Engine, library_id: int) -> dict[str, list[FileOutcome]]:
    """The files that failed in earlier harvests, by item, as outcomes to fetch again (with the
    rule they were to get)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(FILE)
            .where(FILE.c.library_id == library_id, FILE.c.status == FAILED)
            .order_by(FILE.c.item, FILE.c.id)
        ).mappings()
        found: dict[str, list[FileOutcome]] = {}
        for row in rows:
            bitstream = Bitstream(
                row["url"], row["name"], row["content_type"], row["size"], row["checksum"], CONTENT_BUNDLE
            )
            outcome = FileOutcome(bitstream, row["access"], as_utc(row["embargo_until"]))
            found.setdefault(row["item"], []).append(outcome)
        return found


def fetch_file(
    fetcher: FileFetcher, directory: Path, outcome: FileOutcome, known: dict[str, Any] | None
) -> FileOutcome:
    """Fetch and judge ``outcome``'s file into ``directory``, unless the object recorded for it
    (``known``, see :func:`known_files`) still holds it: the same size (and checksum) as listed, or
    the server says its ETag is unchanged."""
    bitstream = outcome.bitstream
    if known is not None and known["status"] == FETCHED and known["object_status"] == DigitalStatus.ACTIVE:
        etag = known["etag"]
        same_size = bitstream.size is not None and known["object_size"] == bitstream.size
        if same_size and bitstream.checksum in (None, known["checksum"]):
            outcome.unchanged, outcome.etag = True, etag
            return outcome
    else:
        etag = None
    try:
        fetched = fetcher.fetch(bitstream.url, directory, etag)
    except FetchFailed as exc:
        outcome.reason, outcome.final = str(exc), exc.final
        return outcome
    outcome.etag = fetched.etag
    if fetched.path is None:  # not modified
        outcome.unchanged = True
        return outcome
    try:
        outcome.checked = check_file(fetched.path, fetcher.max_bytes, bitstream.content_type)
    except DigitalError as exc:
        fetched.path.unlink(missing_ok=True)
        outcome.reason, outcome.final = str(exc), True
    return outcome


@dataclass
class Recorded:
    """What recording an item's files did."""

    new_objects: list[int]
    fetched: int = 0
    unchanged: int = 0
    failed: list[FileOutcome] | None = None
    withdrawn: int = 0


class ItemFiles:
    """The files of one item of library ``library_id``, recorded on ``session`` (the harvest's
    transaction) for its ``record``."""

    def __init__(self, session: Session, storage: ObjectStorage, library_id: int, item: str) -> None:
        self.session = session
        self.storage = storage
        self.library_id = library_id
        self.item = item
        self.rows = {
            row.url: row
            for row in session.scalars(
                select(RepositoryFile).where(
                    RepositoryFile.library_id == library_id,  # type: ignore[arg-type]
                    RepositoryFile.item == item,  # type: ignore[arg-type]
                )
            )
        }

    def record(self, record: SourceRecord, outcomes: list[FileOutcome], listed_all: bool) -> Recorded:
        """Record ``outcomes``: new objects, unchanged ones confirmed (with the access rule the item
        now gives), failures kept to try again; with ``listed_all`` (the item's whole list), the
        objects of the files it no longer lists are withdrawn."""
        done = Recorded(new_objects=[], failed=[])
        used: set[int] = set()
        for outcome in outcomes:
            row = self.rows.get(outcome.bitstream.url)
            if outcome.reason is not None:
                done.failed.append(outcome)  # type: ignore[union-attr]
                self._state(row, outcome, None, REFUSED if outcome.final else FAILED)
                continue
            object_id = row.object_id if row is not None else None
            if outcome.checked is not None:
                obj, is_new = add_file(
                    self.session,
                    self.storage,
                    record,
                    outcome.checked,
                    outcome.bitstream.name,
                    access=outcome.access,
                    embargo_until=outcome.embargo_until,
                    origin="harvest",
                    origin_url=outcome.bitstream.url[:2000],
                )
                object_id = obj.id
                done.fetched += 1
                if is_new and obj.id is not None:
                    done.new_objects.append(obj.id)
            elif object_id is not None:
                done.unchanged += 1
                self._same_rule(object_id, outcome)
            if object_id is not None:
                used.add(object_id)
            self._state(row, outcome, object_id, FETCHED)
        if listed_all:
            listed = {o.bitstream.url for o in outcomes}
            for url, row in list(self.rows.items()):
                if url not in listed:
                    done.withdrawn += self._drop(row, used)
        return done

    def _same_rule(self, object_id: int, outcome: FileOutcome) -> None:
        obj = self.session.get(DigitalObject, object_id)
        rule = (outcome.access, outcome.embargo_until)
        if obj is not None and (obj.access, as_utc(obj.embargo_until)) != rule:
            obj.access, obj.embargo_until, obj.updated_at = outcome.access, outcome.embargo_until, utcnow()
            self.session.add(obj)

    def _state(
        self, row: RepositoryFile | None, outcome: FileOutcome, object_id: int | None, status: str
    ) -> None:
        bitstream = outcome.bitstream
        if row is None:
            row = RepositoryFile(library_id=self.library_id, item=self.item, url=bitstream.url, status=status)
            self.rows[bitstream.url] = row
        row.name = (bitstream.name or "")[:500] or None
        row.content_type = (bitstream.content_type or "")[:100] or None
        row.size = outcome.checked.size if outcome.checked is not None else bitstream.size or row.size
        row.checksum = bitstream.checksum
        row.etag = (outcome.etag or "")[:300] or None
        row.access, row.embargo_until = outcome.access, outcome.embargo_until
        row.status = status
        if status != FETCHED:
            row.reason, row.attempts = outcome.reason, (row.attempts or 0) + 1
            if status == FAILED and row.attempts >= MAX_ATTEMPTS:
                row.status = REFUSED
                row.reason = f"{outcome.reason} (given up after {row.attempts} harvests)"
        else:
            row.reason, row.attempts, row.object_id = None, 0, object_id
        row.checked_at = utcnow()
        self.session.add(row)

    def _drop(self, row: RepositoryFile, used: set[int]) -> int:
        """A file the item no longer lists: its state forgotten, its object withdrawn unless a
        listed file is the same content. How many objects were withdrawn."""
        withdrawn = 0
        if row.object_id is not None and row.object_id not in used:
            obj = self.session.get(DigitalObject, row.object_id)
            if obj is not None and obj.status == DigitalStatus.ACTIVE.value:
                withdraw(self.session, obj)
                withdrawn = 1
        self.session.delete(row)
        del self.rows[row.url]
        return withdrawn


def withdraw_item(session: Session, library_id: int, item: str) -> int:
    """A deleted item: the objects of its record withdrawn, its files' states forgotten; how many
    objects were withdrawn."""
    record_id = session.scalars(
        select(SourceRecord.id).where(  # type: ignore[call-overload]
            SourceRecord.library_id == library_id, SourceRecord.local_id == item
        )
    ).first()
    objects: list[DigitalObject] = []
    if record_id is not None:
        objects = list(
            session.scalars(
                select(DigitalObject).where(
                    DigitalObject.source_record_id == record_id,  # type: ignore[arg-type]
                    DigitalObject.status == DigitalStatus.ACTIVE.value,  # type: ignore[arg-type]
                )
            )
        )
    for obj in objects:
        withdraw(session, obj)
    session.flush()
    session.execute(delete(FILE).where(FILE.c.library_id == library_id, FILE.c.item == item))
    return len(objects)
