"""Typo tolerance: which words of the index a query word may stand for, with one or two typos.

The thresholds are Meilisearch's defaults (its ``minWordSizeForTypos``), and meili.py configures
Meilisearch with these same numbers: one typo from 5 letters, two from 9, none on the first letter.
A typo is an insertion, a deletion, a substitution or two neighbours swapped (optimal string
alignment distance).

The embedded engine finds the candidates through a deletion neighbourhood of its vocabulary: the
table ``search_typo`` holds, for every word of the titles, authors and subjects, the word itself and
each variant with one letter after the first deleted, as ``(key, word)``. A query word's own keys
(itself and its one-letter deletions) meet the keys of every word within one typo. Within two, its
two-letter deletions and its one-letter insertions meet every word but one that differs from it by
two substituted letters, or by a substitution and a letter missing (finding those would take the
two-letter deletions of every long word, three times the table). Each candidate is then checked
with the true distance. The table grows with the
index (see EmbeddedSearchEngine.upsert) and is emptied with it on a rebuild; a word whose last
record is deleted stays in it, and is dropped at search time because FTS5's vocabulary no longer
counts it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rapidfuzz.distance import OSA

from catalog.db import chunks

ONE_TYPO = 5  # Meilisearch typoTolerance.minWordSizeForTypos.oneTypo
TWO_TYPOS = 9  # Meilisearch typoTolerance.minWordSizeForTypos.twoTypos
# When a query finds nothing, the embedded engine tries again with shorter words allowed a typo:
# Vietnamese syllables are short ("lich su vit nam", "truyen ngna").
RELAXED_ONE_TYPO = 3
RELAXED_TWO_TYPOS = 7
MIN_WORD = 2
MAX_WORD = 30
MAX_CANDIDATES = 8  # the typo candidates of one word a search matches, most frequent first
MAX_COUNTED = 48  # the candidates whose records are counted to find those (fewest typos first)
TABLE = "search_typo"
VOCABULARY = "search_fts_words"  # fts5vocab 'row' table over search_fts: documents per word


def allowed(word: str, relaxed: bool = False) -> int:
    """How many typos ``word`` may carry."""
    if not indexable(word):
        return 0
    one, two = (RELAXED_ONE_TYPO, RELAXED_TWO_TYPOS) if relaxed else (ONE_TYPO, TWO_TYPOS)
    return 2 if len(word) >= two else 1 if len(word) >= one else 0


def indexable(word: str) -> bool:
    """Words that take part: ASCII letters only (no number is corrected: Meilisearch's
    disableOnNumbers), folded, of a sensible length."""
    return MIN_WORD <= len(word) <= MAX_WORD and word.isascii() and word.isalpha()


def deletions(word: str) -> set[str]:
    """``word`` with one letter after the first deleted."""
    return {word[:i] + word[i + 1 :] for i in range(1, len(word))}


def keys(word: str) -> set[str]:
    """What the index stores for ``word``: the word itself and its deletions."""
    return {word} | deletions(word)


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def query_keys(word: str, typos: int) -> set[str]:
    """The keys a word with up to ``typos`` typos looks up. With two: its two-letter deletions
    too, and the word with one letter inserted (whose deletions meet a word that has two letters
    more than the word typed)."""
    out = keys(word)
    if typos >= 2:
        for once in deletions(word):
            out |= deletions(once)
        out |= {word[:i] + ch + word[i:] for i in range(1, len(word) + 1) for ch in _LETTERS}
    return out


def distance(a: str, b: str) -> int:
    return int(OSA.distance(a, b))


def words_of(texts: Iterable[str]) -> set[str]:
    """The indexable words of folded text."""
    return {w for t in texts for w in t.split() if indexable(w)}


def known(raw: Any, words: Iterable[str]) -> set[str]:
    """Those of ``words`` the typo index holds (the words of titles, authors and subjects)."""
    out: set[str] = set()
    for part in chunks(sorted({w for w in words if indexable(w)})):
        marks = ",".join("?" * len(part))
        sql = f"SELECT key FROM {TABLE} WHERE key IN ({marks}) AND word = key"
        out.update(row[0] for row in raw.execute(sql, part))
    return out


def add_words(raw: Any, words: set[str], written: set[str]) -> None:
    """Put the words the table does not hold yet, and their deletions, into it. ``raw`` is the
    sqlite3 connection of the catalogue's transaction; ``written`` words it holds already (a cache
    the caller keeps for the transaction, updated here)."""
    fresh = words - written
    if not fresh:
        return
    # In key order: SQLite appends to the B-tree's pages instead of splitting them all over it.
    rows = sorted((key, word) for word in fresh - known(raw, fresh) for key in keys(word))
    raw.executemany(f"INSERT OR IGNORE INTO {TABLE} (key, word) VALUES (?, ?)", rows)
    written |= fresh


def has_prefix(raw: Any, prefix: str) -> bool:
    """Whether a word of the typo index begins with ``prefix``."""
    if not indexable(prefix):
        return False
    end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    sql = f"SELECT 1 FROM {TABLE} WHERE key >= ? AND key < ? AND word = key LIMIT 1"
    return raw.execute(sql, (prefix, end)).fetchone() is not None


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
    """(word of the index, typos) for the words within ``typos`` of ``word`` but ``word`` itself,
    first letter the same, fewest typos first (and of those, the words of the same length); ``raw``
    is a sqlite3 connection."""
    if typos <= 0:
        return []
    found: set[str] = set()
    for part in chunks(sorted(query_keys(word, typos))):
        marks = ",".join("?" * len(part))
        found.update(row[0] for row in raw.execute(f"SELECT word FROM {TABLE} WHERE key IN ({marks})", part))
    out = []
    for other in found:
        if other == word or other[0] != word[0]:
            continue
        typed = distance(word, other)
        if typed <= typos:
            out.append((other, typed))
    # fewest typos first, then a letter changed or swapped before one missing or added
    return sorted(out, key=lambda wt: (wt[1], abs(len(wt[0]) - len(word)), wt[0]))
