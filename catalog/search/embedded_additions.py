"""What the embedded engine adds to its two vocabularies in one transaction: the dictionary of facet
values (search_facet_value, keyed by the values' hash codes) and the words of the typo index
(search_typo_word, keyed by the word).

Both are keyed in no order the records come in: a job that wrote each batch's new values at once
wrote them all over both tables, and SQLite, whose page cache holds a small part of a large job's
pages, wrote the same pages out again and again. Held back and written in order of their keys,
many at a time, each page is written once per round. The 250,000-record ingest adds 608,000 facet
values and 376,000 words: its writes fell from 11.3 to 7.7 GB, and its index from 23 % of the job's
time to 19-20 % (two runs each way, alternating).

The rest is written when the transaction commits (a listener of the connection's commit), so a
committed catalogue always holds them; a transaction rolled back takes them with it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, event

from catalog.search import embedded_facets as facet_store
from catalog.search import typos as typo_index

HELD = 50_000  # values or words held back at most, before they are written (memory bound)
# What a transaction remembers having added, so that a job does not add the same libraries,
# languages and common subjects thousands of times (memory bound).
MAX_CODES_REMEMBERED = 50_000
MAX_WORDS_REMEMBERED = 500_000

Entry = tuple[int, str, str]  # (code, facet, value)


class Additions:
    """The facet values and typo words one transaction adds: held, then written in key order."""

    def __init__(self, conn: Connection) -> None:
        self.transaction = conn.get_transaction()
        self.entries: dict[int, Entry] = {}
        self.words: set[str] = set()
        self.codes_added: set[int] = set()
        self.words_added: set[str] = set()
        event.listen(conn, "commit", self._before_commit, once=True)

    def add(self, conn: Connection, entries: Any, words: Any = ()) -> None:
        """Facet value entries (code, facet, value) and typo index words for the dictionary and
        the typo index, written now if enough are held."""
        added = self.codes_added
        for entry in entries:
            if entry[0] not in added:
                self.entries[entry[0]] = entry
        self.words.update(set(words) - self.words_added)
        if len(self.entries) >= HELD or len(self.words) >= HELD:
            self.write(conn)

    def write(self, conn: Connection) -> None:
        """Write what is held, in key order (values the tables hold already are left as they are)."""
        raw = conn.connection.driver_connection
        if self.entries:
            facet_store.write_values(raw, [self.entries[code] for code in sorted(self.entries)])
            if len(self.codes_added) > MAX_CODES_REMEMBERED:
                self.codes_added.clear()
            self.codes_added.update(self.entries)
            self.entries = {}
        if self.words:
            typo_index.add_words(raw, self.words)
            if len(self.words_added) > MAX_WORDS_REMEMBERED:
                self.words_added.clear()
            self.words_added |= self.words
            self.words = set()

    def _before_commit(self, conn: Connection) -> None:
        if conn.get_transaction() is self.transaction:
            self.write(conn)


class AdditionsByTransaction:
    """The :class:`Additions` of the transaction a connection is in (one at a time per engine:
    SQLite has a single writer)."""

    def __init__(self) -> None:
        self._current: Additions | None = None

    def of(self, conn: Connection) -> Additions:
        current = self._current
        if current is None or current.transaction is not conn.get_transaction():
            current = self._current = Additions(conn)
        return current

    def write(self, conn: Connection) -> None:
        """Write what ``conn``'s transaction holds back, if it holds anything."""
        current = self._current
        if current is not None and current.transaction is conn.get_transaction():
            current.write(conn)
