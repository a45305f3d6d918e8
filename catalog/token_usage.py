"""When each API token was last used (``api_token.last_used_at``), kept without a write per request.

A request that authenticates with a token only notes the time in memory. The time is written to the
catalogue at most once per :data:`WRITE_EVERY_S` per token, by the request that finds it due (in the
thread pool, never on the event loop), and without waiting for SQLite's write lock: while a job holds
it the write is skipped and tried again by a request :data:`RETRY_S` later. The time shown is
therefore at most a few minutes old, on every replica that serves the token.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from catalog.db import is_lock_timeout, write_waiting, writing
from catalog.models import ApiToken, utcnow

log = logging.getLogger("unioncat.tokens")
WRITE_EVERY_S = 300.0
RETRY_S = 30.0


class TokenUsage:
    """The last use of each token seen by this process, written through to the catalogue."""

    def __init__(self, engine: Engine, every: float = WRITE_EVERY_S, retry: float = RETRY_S) -> None:
        self._engine = write_waiting(engine, 0.05)  # PostgreSQL reads 0 as no limit
        self._every = every
        self._retry = retry
        self._lock = threading.Lock()
        self._seen: dict[int, datetime] = {}
        self._next_write: dict[int, float] = {}

    def seen(self, token_id: int) -> None:
        """Note that ``token_id`` was used now; written when due (see the module)."""
        now = time.monotonic()
        with self._lock:
            self._seen[token_id] = utcnow()
            if now < self._next_write.get(token_id, 0.0):
                return
            self._next_write[token_id] = now + self._every  # no other request writes it meanwhile
        if not self._write(token_id):
            with self._lock:
                self._next_write[token_id] = now + self._retry

    def flush(self) -> None:
        """Write every time noted (when the service stops), skipping what the lock refuses."""
        with self._lock:
            tokens = list(self._seen)
        for token_id in tokens:
            self._write(token_id)

    def _write(self, token_id: int) -> bool:
        with self._lock:
            when = self._seen.get(token_id)
        if when is None:
            return True
        table = ApiToken.__table__  # type: ignore[attr-defined]
        try:
            with writing(self._engine) as conn:
                conn.execute(
                    update(table)
                    .where(table.c.id == token_id)
                    .where((table.c.last_used_at.is_(None)) | (table.c.last_used_at < when))
                    .values(last_used_at=when)
                )
        except OperationalError as exc:
            if not is_lock_timeout(exc):
                log.warning("token %s: its last use could not be written: %s", token_id, exc)
            return False
        return True
