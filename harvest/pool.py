"""The worker processes of a job: they prepare what the job's single writer writes.

Records are prepared (decoded, mapped, keyed) in processes at niceness 19 (see
:func:`harvest.prepare.worker_start`), in chunks that travel pickled (see :func:`harvest.prepare.packed`),
while the job's process writes; the garbage collector runs less often while any job runs.
"""

from __future__ import annotations

import contextlib
import gc
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_all_start_methods, get_context
from typing import Any, TypeVar

from harvest.prepare import GC_THRESHOLDS, packed, unpacked, worker_start

T = TypeVar("T")
R = TypeVar("R")
AHEAD = 4  # chunks in flight per worker


def default_workers() -> int:
    """Preparing processes of a large job: one per core, at most four (the single writer is the
    limit beyond that)."""
    return min(os.cpu_count() or 1, 4)


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """Processes that prepare records for a job's writer (file ingests and OAI-PMH harvests): started
    by a fork server where there is one (a clean process, not a copy of a busy writer), else spawned."""
    methods = get_all_start_methods()
    ctx = get_context("forkserver" if "forkserver" in methods else "spawn")
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=worker_start, initargs=(os.getpid(),)
    )


def _chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def in_order(
    items: Iterable[T], work: Callable[..., list[R]], args: tuple[Any, ...], workers: int, chunk: int
) -> Iterator[R]:
    """``work(chunk_of_items, *args)`` for consecutive chunks of ``items``, run by ``workers``
    processes, the results yielded in the items' order (``work`` must be picklable).

    A feeder thread reads ``items`` and keeps the workers supplied while this thread writes what
    came back (a writer waiting in SQLite lets the feeder run meanwhile); at most ``workers * AHEAD``
    chunks are in flight, so memory stays flat whatever the number of items. An exception raised
    while reading ``items`` is raised here, in order, after the results of the items before it."""
    with worker_pool(workers) as pool:
        ahead: queue.Queue[Future[bytes] | BaseException | None] = queue.Queue(workers * AHEAD)
        stop = threading.Event()

        def feed() -> None:
            try:
                for part in _chunked(items, chunk):
                    if stop.is_set():
                        return
                    ahead.put(pool.submit(packed, work, part, *args))
            except BaseException as exc:  # items that cannot be read further: raised in order
                ahead.put(exc)
            else:
                ahead.put(None)

        feeder = threading.Thread(target=feed, name="job-feeder", daemon=True)
        feeder.start()
        try:
            while (got := ahead.get()) is not None:
                if isinstance(got, BaseException):
                    raise got
                yield from unpacked(got)  # here, not in the pool's thread (see packed)
        finally:
            stop.set()
            while feeder.is_alive():  # let a feeder blocked on a full queue see the stop
                with contextlib.suppress(queue.Empty):
                    pending = ahead.get(timeout=0.05)
                    if isinstance(pending, Future):
                        pending.cancel()
            feeder.join()


class _FewerCollections:
    """Jobs running in this process (the API server runs several at once, in threads): the first to
    start sets the collector's thresholds, the last to end puts back the ones it found. Each job
    saving and restoring its own would leave them changed when two jobs overlap."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.before: tuple[int, int, int] = gc.get_threshold()

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self.lock:
            if not self.running:
                self.before = gc.get_threshold()
                gc.set_threshold(*GC_THRESHOLDS)
            self.running += 1
        try:
            yield
        finally:
            with self.lock:
                self.running -= 1
                if not self.running:
                    gc.set_threshold(*self.before)


# The garbage collector less often while jobs run (see GC_THRESHOLDS), as it was after.
fewer_collections = _FewerCollections()
