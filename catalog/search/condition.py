"""A fielded, boolean search condition: what a structured query (SRU's CQL) asks of the engines, in
their own terms: words in a field, a year, a set of union records, joined by AND, OR and AND NOT.

Words are folded (catalog.text.fold) like the indexed text, so "Đại học" finds "DAI HOC". The
embedded engine turns a condition into one FTS5 expression where it can (every word quoted: no
operator can be injected) and into SQL on its filter rows where it must (years, records, and
booleans mixing those with words); Meilisearch answers the conditions it can express (words of one
field, years and records joined by AND) and refuses the others with a QueryError. The embedded
engine's form is in catalog.search.condition_fts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from catalog.search.errors import QueryError
from catalog.text import fold

FIELDS = ("title", "authors", "subjects", "publisher", "any")
# Field -> the attributes Meilisearch searches on for it.
ATTRIBUTES = {
    "title": ["title_folded"],
    "authors": ["authors_folded"],
    "subjects": ["subjects_folded"],
    "publisher": ["publisher_folded"],
}
MAX_IDS = 1000  # union records one condition may name
Mode = Literal["all", "any", "phrase"]
Comparison = Literal["=", "<", ">", "<=", ">=", "<>"]


@dataclass(frozen=True)
class Words:
    """Words of a field: every one (``all``), one of them (``any``) or in this order (``phrase``).
    A word ending with ``*`` is a prefix."""

    field: str
    words: tuple[str, ...]
    mode: Mode = "all"

    def __post_init__(self) -> None:
        if self.field not in FIELDS:
            raise QueryError(f"unknown field {self.field!r}")
        if not self.words:
            raise QueryError("a search term needs a word")


@dataclass(frozen=True)
class Year:
    comparison: Comparison
    year: int


@dataclass(frozen=True)
class Records:
    """Union records by id (a record number, or the records an identifier resolved to)."""

    ids: tuple[int, ...]


@dataclass(frozen=True)
class Both:
    operator: Literal["and", "or", "not"]  # not: the left without the right
    left: Condition
    right: Condition


Condition = Words | Year | Records | Both


def words_of(text: str) -> tuple[str, ...]:
    """A term's words, folded; a trailing ``*`` stays as the mark of a prefix."""
    out = []
    for raw in text.split():
        prefix = raw.endswith("*")
        for word in fold(raw.rstrip("*")).split():
            out.append(word)
        if prefix and out and fold(raw.rstrip("*")):
            out[-1] += "*"
    return tuple(out)


# ------------------------------------------------------------------------------- Meilisearch
def meili_plan(condition: Condition) -> tuple[str, list[str] | None, list[str]]:
    """(the words to search, the attributes to search them on, filters) of a condition that
    Meilisearch can answer: words of one field, years and records, joined by AND."""
    words: list[str] = []
    fields: set[str] = set()
    filters: list[str] = []

    def add(node: Condition) -> None:
        if isinstance(node, Both):
            if node.operator != "and":
                raise QueryError("with Meilisearch, a structured search joins its parts with AND only")
            add(node.left)
            add(node.right)
        elif isinstance(node, Words):
            if node.mode == "any" and len(node.words) > 1:
                raise QueryError("with Meilisearch, a structured search asks for all of its words")
            words.extend(w.rstrip("*") for w in node.words)
            fields.add(node.field)
        elif isinstance(node, Year):
            comparison = "!=" if node.comparison == "<>" else node.comparison
            filters.append(f"year {comparison} {int(node.year)}")
        else:
            filters.append(
                f"id IN [{', '.join(str(int(i)) for i in node.ids[:MAX_IDS])}]" if node.ids else "id = 0"
            )

    add(condition)
    if len(fields) > 1 or "any" in fields:
        return " ".join(words), None, filters
    attributes = ATTRIBUTES[next(iter(fields))] if fields else None
    return " ".join(words), attributes, filters
