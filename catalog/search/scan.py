"""Browsing the words of an index in order, with how many records hold each (SRU's scan): the
embedded engine's words of a column, read through SQLite's fts5vocab over search_fts."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from catalog.text import fold

COLUMNS = ("title", "authors", "subjects")  # the columns a scan may browse
MAX_TERMS = 100
_VOCABULARY = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_vocab USING fts5vocab(main, 'search_fts', 'col')"
)


def scan(catalogue: Engine, column: str, term: str, position: int, count: int) -> list[tuple[str, int]]:
    """Up to ``count`` (word, records) of ``column`` in order around ``term`` (folded): ``term`` or
    the next word after it at ``position`` (1-based; 1: it comes first)."""
    if column not in COLUMNS:
        raise ValueError(f"no scan of {column!r}; one of {', '.join(COLUMNS)}")
    if catalogue.dialect.name != "sqlite":
        raise ValueError("a scan reads the embedded engine's index (a SQLite catalogue)")
    count = max(0, min(count, MAX_TERMS))
    position = max(0, min(position, count + 1))
    start = " ".join(fold(term).split()[:1])
    before = position - 1
    with catalogue.connect() as conn:
        raw = conn.connection.driver_connection
        raw.execute(_VOCABULARY)
        earlier = raw.execute(
            "SELECT term, doc FROM temp.search_vocab WHERE term < ? AND col = ? ORDER BY term DESC LIMIT ?",
            (start, column, before),
        ).fetchall()
        later = raw.execute(
            "SELECT term, doc FROM temp.search_vocab WHERE term >= ? AND col = ? ORDER BY term LIMIT ?",
            (start, column, max(0, count - len(earlier))),
        ).fetchall()
    return [(str(t), int(n)) for t, n in [*reversed(earlier), *later]][:count]
