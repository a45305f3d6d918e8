"""Blocking keys: which records are worth comparing at all. Stored per source record (record_key)."""

from __future__ import annotations

import re
from typing import Any

from catalog.text import fold

TITLE_WORDS = 5
IDENTIFIER_KINDS = ("isbn", "issn", "lccn", "oclc")
TITLE_KINDS = ("title", "title_year")
BLOCKING_KINDS = (*IDENTIFIER_KINDS, *TITLE_KINDS)
Key = tuple[str, str]  # a match key: (kind, value)
# The record_key rows indexed by value (SQL): identifiers, looked up by value to match records and to
# answer holdings lookups. Every statement that finds them by value says so too, so that SQLite
# uses the partial index. Title keys are found through the union records that hold them (union_key),
# so that a library's job does not write into an index of every title key in the consortium.
IDENTIFIER_KEYS = "kind IN (" + ", ".join(f"'{kind}'" for kind in IDENTIFIER_KINDS) + ")"
_DIGITS = re.compile(r"\d")


def title_words(fields: dict[str, Any], count: int = TITLE_WORDS) -> str:
    """The leading words of the filing title (no initial article), folded."""
    return " ".join(fold(fields.get("sort_title") or fields.get("title")).split()[:count])


def main_author_key(fields: dict[str, Any]) -> str | None:
    """The first word of the main author's name (a surname, or a family name in Vietnamese), folded."""
    for author in fields.get("authors") or []:
        if author.get("main"):
            words = [w for w in fold(author["name"]).split() if not _DIGITS.search(w)]
            return words[0] if words else None
    return None


def blocking_keys(fields: dict[str, Any]) -> list[Key]:
    """Title keys: title words + main author, or + year + publisher without an author; and title + year."""
    words = title_words(fields)
    if not words:
        return []
    keys = []
    author = main_author_key(fields)
    year = fields.get("year")
    if author:
        keys.append(("title", f"{words}|{author}"))
    else:
        publisher = fold(fields.get("publisher")).split()[:1]
        keys.append(("title", f"{words}|{year or ''}|{publisher[0] if publisher else ''}"))
    if year:
        keys.append(("title_year", f"{words}|{year}"))
    return [(kind, value[:255]) for kind, value in keys]
