"""Waiting for work: a worker with nothing to do waits for its poll interval, and on PostgreSQL it
LISTENs on :data:`catalog.jobs.CHANNEL` meanwhile, so that a job queued (or a job ended, which may
let a waiting one start) wakes it at once. Polling stays: it is the only way on SQLite, and the
fallback when the listening connection is lost (it is opened again on the next wait)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from sqlalchemy.engine import Engine

from catalog.jobs import CHANNEL

log = logging.getLogger("unioncat.worker")
SLICE_S = 0.5  # how often a waiting worker looks whether it was asked to stop


class JobSignals:
    """What a worker waits on between jobs (see the module)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._listening: Any = None  # a psycopg connection in autocommit, listening

    @property
    def listens(self) -> bool:
        return self._engine.dialect.name == "postgresql"

    def listen(self) -> None:
        """Start listening (before the first look at the queue, so that no NOTIFY is missed)."""
        if not self.listens or self._listening is not None:
            return
        import psycopg

        url = self._engine.url.set(drivername="postgresql")
        try:
            conn = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
            conn.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error as exc:
            log.warning("cannot listen for new jobs (polling instead): %s", exc)
            return
        self._listening = conn

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        """Wait up to ``seconds`` for a job to be signalled, or ``stop``; whether one was signalled."""
        if not self.listens:
            stop.wait(seconds)
            return False
        self.listen()
        if self._listening is None:
            stop.wait(seconds)
            return False
        import psycopg

        deadline = time.monotonic() + seconds
        try:
            while not stop.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                received = list(self._listening.notifies(timeout=min(left, SLICE_S), stop_after=1))
                if received:
                    self._drain()
                    return True
        except psycopg.Error as exc:
            log.warning("the connection listening for new jobs was lost (polling meanwhile): %s", exc)
            self.close()
        return False

    def _drain(self) -> None:
        """Take the other notifications already received: one look at the queue answers them all."""
        for _notice in self._listening.notifies(timeout=0.001):  # 0 would mean no limit
            pass

    def close(self) -> None:
        if self._listening is not None:
            try:
                self._listening.close()
            finally:
                self._listening = None
