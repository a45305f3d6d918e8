"""Which words of the index a typo may stand for: pure functions, so that ingest workers find a
record's words with its index rows (see catalog.search.rows) and import nothing more."""

from __future__ import annotations

from collections.abc import Iterable

MIN_WORD = 2
MAX_WORD = 30


def indexable(word: str) -> bool:
    """Words that take part: ASCII letters only (no number is corrected: Meilisearch's
    disableOnNumbers), folded, of a sensible length."""
    return MIN_WORD <= len(word) <= MAX_WORD and word.isascii() and word.isalpha()


def words_of(texts: Iterable[str]) -> set[str]:
    """The indexable words of folded text."""
    return {w for t in texts for w in t.split() if indexable(w)}
