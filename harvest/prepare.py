"""What an ingest's worker processes run: one record read from a file or a harvested page becomes
an outcome (prepared for the catalogue, or rejected with the reason).

Kept apart from the job and its database (harvest.runner): what a worker needs is pymarc, lxml and
the catalogue's pure functions, not SQLAlchemy or SQLModel. multiprocessing also imports the job's
main module in each worker; the `unioncat` command's is tiny for that reason (api/entry.py). A
worker of `unioncat ingest` holds about 44 MB, not 99.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import select
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from pymarc import Record

from catalog.holdings import HoldingsProfile
from catalog.mapping import native_tags, prepare_record
from catalog.pickling import by_constructor
from catalog.records import PreparedRecord, RecordRejected
from harvest import sources
from harvest.incoming import Incoming

# Workers run only on CPU the writer leaves: since the compiled mapping made them cheap, the
# single writer is the narrowest part, and at niceness 5 they still took a quarter of its core
# (50,000 LoC records, four rounds each way: 6.57 s at 5, 6.12 s at 19).
WORKER_NICENESS = 19
# Mapping a record allocates thousands of small objects, nearly none of them in reference cycles:
# at Python's default thresholds (700, 10, 10) the collector ran so often that it took a quarter of
# the workers' time. Collections stay, far fewer of them: memory remains bounded.
GC_THRESHOLDS = (20_000, 20, 1_000)


@by_constructor
@dataclass(slots=True)
class Outcome:
    """What became of one record read from the file."""

    number: int
    offset: int | None
    local_id: str | None
    prepared: PreparedRecord | None
    reason: str | None


def process(
    item: Incoming, profile: HoldingsProfile | None, library: str | None = None, tags: str | None = None
) -> Outcome:
    """Decode and prepare one split record; every failure becomes a reason, never an exception.

    :func:`catalog.mapping.prepare_record` chooses the path (the compiled mapping where it is built,
    the fast Python reader, this reader's careful decoding). ``tags``:
    :func:`catalog.mapping.native_tags` for ``profile`` when it was computed once for many records."""
    where = f"{item.member}: " if item.member else ""
    if item.record is None and item.error is not None:
        return Outcome(item.number, item.offset, None, None, where + item.error)
    return _outcome(item, where, profile, library, tags)


def _outcome(
    item: Incoming, where: str, profile: HoldingsProfile | None, library: str | None, tags: str | None
) -> Outcome:
    try:
        prepared = prepare_record(
            item.raw,
            item.raw_format,
            profile,
            record=item.record,
            decode=lambda: _decoded(item),
            warnings=item.warnings,
            library=library,
            tags=tags,
        )
    except RecordRejected as exc:
        return Outcome(item.number, item.offset, None, None, f"{where}{exc}"[:500])
    return Outcome(item.number, item.offset, prepared.local_id, prepared, None)


def _decoded(item: Incoming) -> tuple[Record, list[str]]:
    """The record decoded by its reader (pymarc for ISO 2709), with its warnings."""
    sources.decode(item)
    if item.record is None:
        raise RecordRejected(item.error or "unreadable record")
    return item.record, item.warnings


def process_chunk(
    items: list[Incoming], profile: HoldingsProfile | None, library: str | None = None
) -> list[Outcome]:
    tags = native_tags(profile)
    outcomes = [process(item, profile, library, tags) for item in items]
    for outcome in outcomes:
        if outcome.prepared is not None:
            outcome.prepared.compact()
    return outcomes


def packed(func: Callable[..., Any], *args: Any) -> bytes:
    """``func(*args)``, pickled: what a job's worker hands back, for the job's writing thread to
    unpickle (:func:`unpacked`) when it takes the result. Left to the process pool, the results
    are unpickled in the pool's own thread of the job's process, one call holding the GIL for
    milliseconds: each time the writer came back from SQLite it waited for that call to end, and
    its inserts took twice as long as in a job without workers."""
    return pickle.dumps(func(*args), protocol=pickle.HIGHEST_PROTOCOL)


def unpacked(done: Future[bytes]) -> Any:
    """The result of a :func:`packed` call, unpickled in the calling (writing) thread."""
    return pickle.loads(done.result())


def worker_start(job_pid: int | None = None) -> None:
    """Start of a worker process that prepares records for a job's writer (file ingests and OAI-PMH
    harvests). Workers yield the CPU to the writer: the single writer is the pipeline's narrowest
    part, and with as many workers as cores, an equal share would leave it waiting behind them.

    ``job_pid``: the job's process. A worker ends when it does, even when it is killed (kill -9): a
    worker of a fork server holds both ends of its task queue and the server stays up while any of
    its workers does, so without this they would all wait for work forever."""
    with contextlib.suppress(OSError, AttributeError):
        os.nice(WORKER_NICENESS)
    gc.freeze()  # the imported modules' objects: never garbage, never scanned again
    gc.set_threshold(*GC_THRESHOLDS)
    if job_pid is not None:
        threading.Thread(target=_end_with, args=(job_pid,), name="end-with-job", daemon=True).start()


def _end_with(pid: int) -> None:
    """Wait for process ``pid`` to end (a pidfd where the system has them, else polling), then end."""
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        with contextlib.suppress(OSError):
            while True:
                os.kill(pid, 0)  # raises once the process is gone
                time.sleep(1.0)
    else:
        select.select([fd], [], [])
    os._exit(1)
