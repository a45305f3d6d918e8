"""Typo tolerance: which words of the index a query word may stand for, with one or two typos.

The thresholds are Meilisearch's defaults (its ``minWordSizeForTypos``), and meili.py configures
Meilisearch with these same numbers: one typo from 5 letters, two from 9, none on the first letter.
A typo is an insertion, a deletion, a substitution or two neighbours swapped (optimal string
alignment distance).

The embedded engine keeps the vocabulary of the titles, authors and subjects in the table
``search_typo_word`` (one row per word, added as the index grows; see EmbeddedSearchEngine.upsert).
Each process holds that list in memory grouped by first letter and length (:class:`Vocabulary`,
brought up to date from the rows added since it last looked), and finds a word's candidates by
measuring the true distance to the words of the same first letter whose length is within the typos
allowed: every word within the distance is found, two letters changed in a long word included. A
word whose last record is deleted stays in the list, and is dropped at search time because FTS5's
vocabulary no longer counts it; a rebuild empties the table and the list is read again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import OSA

from catalog.db import chunks
from catalog.search.typo_words import MIN_WORD, indexable

ONE_TYPO = 5  # Meilisearch typoTolerance.minWordSizeForTypos.oneTypo
TWO_TYPOS = 9  # Meilisearch typoTolerance.minWordSizeForTypos.twoTypos
# When a query finds nothing, the embedded engine tries again with shorter words allowed a typo:
# Vietnamese syllables are short ("lich su vit nam", "truyen ngna").
RELAXED_ONE_TYPO = 3
RELAXED_TWO_TYPOS = 7
MAX_CANDIDATES = 24  # the typo candidates of one word a search matches, most frequent first
MAX_COUNTED = 200  # the candidates whose records are counted to find those (fewest typos first)
TABLE = "search_typo_word"
# One aggregate per SELECT: SQLite reads a lone min or max from the end of the index, both with a scan.
ID_RANGE = f"SELECT (SELECT min(id) FROM {TABLE}), (SELECT max(id) FROM {TABLE})"
VOCABULARY = "search_fts_words"  # fts5vocab 'row' table over search_fts: documents per word


def allowed(word: str, relaxed: bool = False) -> int:
    """How many typos ``word`` may carry."""
    if not indexable(word):
        return 0
    one, two = (RELAXED_ONE_TYPO, RELAXED_TWO_TYPOS) if relaxed else (ONE_TYPO, TWO_TYPOS)
    return 2 if len(word) >= two else 1 if len(word) >= one else 0


def distance(a: str, b: str) -> int:
    return int(OSA.distance(a, b))


def known(raw: Any, words: Iterable[str]) -> set[str]:
    """Those of ``words`` the typo index holds (the words of titles, authors and subjects)."""
    out: set[str] = set()
    for part in chunks(sorted({w for w in words if indexable(w)})):
        marks = ",".join("?" * len(part))
        out.update(row[0] for row in raw.execute(f"SELECT word FROM {TABLE} WHERE word IN ({marks})", part))
    return out


def add_words(raw: Any, words: set[str]) -> None:
    """Put ``words`` into the table, those it does not hold yet. ``raw`` is the sqlite3 connection
    of the catalogue's transaction."""
    raw.executemany(f"INSERT OR IGNORE INTO {TABLE} (word) VALUES (?)", [(w,) for w in sorted(words)])


def has_prefix(raw: Any, prefix: str) -> bool:
    """Whether a word of the typo index begins with ``prefix``."""
    if not indexable(prefix):
        return False
    end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    sql = f"SELECT 1 FROM {TABLE} WHERE word >= ? AND word < ? LIMIT 1"
    return raw.execute(sql, (prefix, end)).fetchone() is not None


class Vocabulary:
    """The typo index's words in memory, by (first letter, length): where a query word's
    candidates are measured. One per catalogue file and process, kept current by :meth:`refresh`."""

    def __init__(self) -> None:
        self.buckets: dict[tuple[str, int], list[str]] = {}
        self.first = 0  # the lowest row id when read: a rebuild starts the rows afresh
        self.last = 0  # the highest row id read
        self.lock = threading.Lock()

    def refresh(self, raw: Any) -> None:
        low, high = raw.execute(ID_RANGE).fetchone()
        with self.lock:
            if low is None or low != self.first:
                self.buckets, self.first, self.last = {}, low or 0, 0
            if high is None or high <= self.last:
                return
            rows = raw.execute(f"SELECT id, word FROM {TABLE} WHERE id > ? ORDER BY id", (self.last,))
            buckets = self.buckets
            for row_id, word in rows:
                buckets.setdefault((word[0], len(word)), []).append(word)
                self.last = row_id

    def candidates(self, word: str, typos: int) -> list[tuple[str, int]]:
        """(word, typos) for the words within ``typos`` of ``word`` but ``word`` itself, first letter
        the same, fewest typos first (and of those, the words of the same length)."""
        out: list[tuple[str, int]] = []
        for length in range(max(MIN_WORD, len(word) - typos), len(word) + typos + 1):
            pool = self.buckets.get((word[0], length))
            if not pool:
                continue
            for other, typed, _i in process.extract(
                word, pool, scorer=OSA.distance, score_cutoff=typos, limit=None
            ):
                if other != word:
                    out.append((other, int(typed)))
        # fewest typos first, then a letter changed or swapped before one missing or added
        return sorted(out, key=lambda wt: (wt[1], abs(len(wt[0]) - len(word)), wt[0]))


_VOCABULARIES: dict[str, Vocabulary] = {}
_VOCABULARIES_LOCK = threading.Lock()


def vocabulary(raw: Any) -> Vocabulary:
    """The current in-memory vocabulary of the catalogue ``raw`` (a sqlite3 connection) is open on."""
    path = (
        next((row[2] for row in raw.execute("PRAGMA database_list") if row[1] == "main"), "")
        or f"memory:{id(raw)}"
    )
    with _VOCABULARIES_LOCK:
        vocab = _VOCABULARIES.setdefault(path, Vocabulary())
    vocab.refresh(raw)
    return vocab


def document_counts(raw: Any, words: Iterable[str]) -> dict[str, int]:
    """How many records hold each of ``words`` (absent: none). FTS5 counts by reading each word's
    postings: for the few candidates of a typo, not for every word of every query."""
    words = sorted(set(words))
    out: dict[str, int] = {}
    for part in chunks(words):
        marks = ",".join("?" * len(part))
        for term, count in raw.execute(f"SELECT term, doc FROM {VOCABULARY} WHERE term IN ({marks})", part):
            out[term] = count
    return out


def candidates(raw: Any, word: str, typos: int) -> list[tuple[str, int]]:
    """(word of the index, typos) for the words within ``typos`` of ``word`` but ``word`` itself
    (see :meth:`Vocabulary.candidates`); ``raw`` is a sqlite3 connection."""
    if typos <= 0 or not word:
        return []
    return vocabulary(raw).candidates(word, typos)
