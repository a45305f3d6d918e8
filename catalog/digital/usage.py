"""Usage of the digital library's objects, counted per object, month and requesting member, and
reported in the spirit of a COUNTER Release 5 item report.

What is counted (see docs/digital-library.md):

- a *view*: the reader page of an object opened, or one of its page images served;
- a *download*: the file served whole (200) or from its first byte (a 206 whose range starts at 0),
  so a reader fetching a PDF in many ranges counts once;
- COUNTER's double-click rule: the same client (address and browser) doing the same thing to the
  same object again within 30 seconds is not counted again;
- *unique* ones: the first view or download of an object by a client on a day (COUNTER's
  'unique item' per session, with a day for the session).

Counting never blocks a request nor fails it: a count is added to a counter in memory, and a
thread writes the counter to the catalogue every few seconds in one transaction (a failed write
keeps the counts for the next one)."""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from catalog.models import DigitalObject, DigitalUsage, Library, SourceRecord

log = logging.getLogger("unioncat.digital.usage")
VIEW, DOWNLOAD, UNIQUE_VIEW, UNIQUE_DOWNLOAD = "view", "download", "unique", "unique_download"
DOUBLE_CLICK_S = 30.0
FLUSH_S = 5.0
# COUNTER R5 metric types, from the kinds counted.
METRICS: dict[str, tuple[str, ...]] = {
    "Total_Item_Investigations": (VIEW, DOWNLOAD),
    "Unique_Item_Investigations": (UNIQUE_VIEW,),
    "Total_Item_Requests": (DOWNLOAD,),
    "Unique_Item_Requests": (UNIQUE_DOWNLOAD,),
}
_Key = tuple[int, str, str, str]  # object, month, kind, requester


class UsageCounter:
    """Counts in memory, written to ``engine`` by a background thread (started on the first count)."""

    def __init__(self, engine: Engine, flush_seconds: float = FLUSH_S) -> None:
        self.engine = engine
        self.flush_seconds = flush_seconds
        self._counts: Counter[_Key] = Counter()
        self._recent: dict[tuple[str, int, str], float] = {}
        self._unique: set[tuple[str, int, str, str]] = set()  # client, object, kind, day
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def count(
        self, object_id: int, kind: str, requester: str, client: str, now: datetime | None = None
    ) -> bool:
        """Count a ``kind`` (view or download) of ``object_id`` by ``client`` for the member
        ``requester`` ('' for none); whether it counted (not a double click). Never raises."""
        try:
            moment = now or datetime.now(UTC)
            clock = moment.timestamp()
            month, day = f"{moment:%Y-%m}", f"{moment:%Y-%m-%d}"
            unique = UNIQUE_VIEW if kind == VIEW else UNIQUE_DOWNLOAD
            with self._lock:
                last = self._recent.get((client, object_id, kind))
                self._recent[(client, object_id, kind)] = clock
                if last is not None and 0 <= clock - last < DOUBLE_CLICK_S:
                    return False
                self._counts[(object_id, month, kind, requester)] += 1
                if (client, object_id, kind, day) not in self._unique:
                    self._unique.add((client, object_id, kind, day))
                    self._counts[(object_id, month, unique, requester)] += 1
                self._start()
            return True
        except Exception:  # counting must never fail a request
            log.exception("usage not counted")
            return False

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="digital-usage", daemon=True)
            self._thread.start()
            atexit.register(self.close)

    def _run(self) -> None:
        while not self._stop.wait(self.flush_seconds):
            self.flush()

    def close(self) -> None:
        self._stop.set()
        self.flush()

    def flush(self) -> int:
        """Write the counts so far (one transaction); how many rows were written."""
        with self._write_lock:
            with self._lock:
                counts, self._counts = self._counts, Counter()
                horizon = time.time() - DOUBLE_CLICK_S
                self._recent = {k: v for k, v in self._recent.items() if v >= horizon}
                today = f"{datetime.now(UTC):%Y-%m-%d}"
                self._unique = {k for k in self._unique if k[3] == today}
            if not counts:
                return 0
            try:
                _add(self.engine, counts)
            except Exception:  # the catalogue is busy or away: keep the counts for the next write
                log.warning("usage counts kept for the next write", exc_info=True)
                with self._lock:
                    self._counts.update(counts)
                return 0
            return len(counts)


def _add(engine: Engine, counts: Counter[_Key]) -> None:
    table: Any = DigitalUsage.__table__
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    rows = [
        {"object_id": o, "month": m, "kind": k, "requester": r, "count": n}
        for (o, m, k, r), n in sorted(counts.items())
    ]
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=["object_id", "month", "kind", "requester"],
        set_={"count": table.c.count + statement.excluded.count},
    )
    with engine.begin() as conn:
        existing = {
            row[0]
            for row in conn.execute(
                select(DigitalObject.id).where(DigitalObject.id.in_({r["object_id"] for r in rows}))  # type: ignore[union-attr]
            )
        }
        kept = [r for r in rows if r["object_id"] in existing]  # an object deleted meanwhile
        if kept:
            conn.execute(statement, kept)


@dataclass(frozen=True)
class ReportRow:
    item_id: int
    item: str
    publisher: str
    member: str
    month: str
    metric_type: str
    count: int

    def as_list(self) -> list[Any]:
        return [
            self.item_id,
            self.item,
            self.publisher,
            self.member,
            self.month,
            self.metric_type,
            self.count,
        ]


COLUMNS = ["Item_ID", "Item", "Publisher", "Member", "Month", "Metric_Type", "Count"]


def check_month(value: str) -> str:
    """``value`` when it is a month YYYY-MM; ValueError otherwise."""
    try:
        datetime.strptime(value, "%Y-%m")
    except ValueError:
        raise ValueError(f"{value[:20]!r} is not a month YYYY-MM") from None
    if len(value) != 7:
        raise ValueError(f"{value[:20]!r} is not a month YYYY-MM")
    return value


def report(
    session: Session, library_id: int | None, first: str | None = None, last: str | None = None
) -> Iterator[ReportRow]:
    """The usage of the objects of ``library_id`` (None: all) from month ``first`` to ``last``
    (YYYY-MM, both included): one row per object, requesting member, month and COUNTER metric."""
    where: list[Any] = []
    if library_id is not None:
        where.append(DigitalObject.library_id == library_id)
    if first:
        where.append(DigitalUsage.month >= check_month(first))
    if last:
        where.append(DigitalUsage.month <= check_month(last))
    rows = session.exec(
        select(
            DigitalUsage.object_id,
            func.coalesce(SourceRecord.title, DigitalObject.label, DigitalObject.filename),
            Library.code,
            DigitalUsage.requester,
            DigitalUsage.month,
            DigitalUsage.kind,
            func.sum(DigitalUsage.count),
        )
        .join(DigitalObject, DigitalObject.id == DigitalUsage.object_id)
        .join(Library, Library.id == DigitalObject.library_id)
        .join(SourceRecord, SourceRecord.id == DigitalObject.source_record_id, isouter=True)
        .where(*where)
        .group_by(
            DigitalUsage.object_id,
            SourceRecord.title,
            DigitalObject.label,
            DigitalObject.filename,
            Library.code,
            DigitalUsage.requester,
            DigitalUsage.month,
            DigitalUsage.kind,
        )
    ).all()
    totals: Counter[tuple[int, str, str, str, str, str]] = Counter()
    for object_id, title, publisher, member, month, kind, count in rows:
        for metric, kinds in METRICS.items():
            if kind in kinds:
                totals[(object_id, title or "", publisher, member, month, metric)] += int(count)
    order = list(METRICS)
    for (object_id, title, publisher, member, month, metric), count in sorted(
        totals.items(), key=lambda item: (item[0][0], item[0][4], item[0][3], order.index(item[0][5]))
    ):
        yield ReportRow(object_id, title, publisher, member, month, metric, count)
