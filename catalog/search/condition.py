"""A fielded, boolean search condition: what a structured query (SRU's CQL) asks of the engines, in
their own terms: words in a field, a year, a set of union records, joined by AND, OR and AND NOT.

Words are folded (catalog.text.fold) like the indexed text, so "Đại học" finds "DAI HOC". The
embedded engine turns a condition into one FTS5 expression where it can (every word quoted: no
operator can be injected) and into SQL on its filter rows where it must (years, records, and
booleans mixing those with words); Meilisearch answers the conditions it can express (words of one
field, years and records joined by AND) and refuses the others with a QueryError."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from catalog.search.errors import QueryError
from catalog.search.matching import quote
from catalog.text import fold

# Field -> the columns of the embedded index (search_fts) that hold it.
COLUMNS = {
    "title": "title",
    "authors": "authors",
    "subjects": "subjects",
    "publisher": "other",
    "any": "{title authors subjects other}",
}
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
        if self.field not in COLUMNS:
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


# ------------------------------------------------------------------------------ embedded (FTS5)
def _word(word: str) -> str:
    return quote(word[:-1]) + "*" if word.endswith("*") else quote(word)


def _fts(words: Words) -> str:
    if words.mode == "phrase":
        plain = [w.rstrip("*") for w in words.words]
        star = "*" if words.words[-1].endswith("*") else ""
        body = quote(" ".join(plain)) + star
    else:
        joiner = " AND " if words.mode == "all" else " OR "
        body = "(" + joiner.join(_word(w) for w in words.words) + ")"
    return f"{COLUMNS[words.field]} : {body}"


def _pure_text(node: Condition) -> bool:
    if isinstance(node, Words):
        return True
    if isinstance(node, Both):
        return _pure_text(node.left) and _pure_text(node.right)
    return False


class _Compiler:
    """Turns a condition into SQL clauses on ``search_filter f`` (parameters in ``params``)."""

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params

    def bind(self, value: Any) -> str:
        name = f"cond_{len([k for k in self.params if k.startswith('cond_')])}"
        self.params[name] = value
        return f":{name}"

    def fts(self, node: Condition) -> str:
        if isinstance(node, Words):
            return _fts(node)
        assert isinstance(node, Both)
        left, right = self.fts(node.left), self.fts(node.right)
        operator = {"and": "AND", "or": "OR", "not": "NOT"}[node.operator]
        return f"({left} {operator} {right})"

    def sql(self, node: Condition) -> str:
        if _pure_text(node):
            expression = self.bind(self.fts(node))
            return f"f.union_id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH {expression})"
        if isinstance(node, Year):
            comparison = "!=" if node.comparison == "<>" else node.comparison
            return f"f.year {comparison} {self.bind(node.year)}"
        if isinstance(node, Records):
            if not node.ids:
                return "0"
            marks = ", ".join(self.bind(int(i)) for i in node.ids[:MAX_IDS])
            return f"f.union_id IN ({marks})"
        assert isinstance(node, Both)
        left, right = self.sql(node.left), self.sql(node.right)
        if node.operator == "not":
            return f"({left} AND NOT {right})"
        return f"({left} {node.operator.upper()} {right})"


def embedded_plan(condition: Condition, params: dict[str, Any]) -> tuple[str | None, list[str]]:
    """(the FTS5 MATCH expression, SQL clauses on ``search_filter f``) that together select the
    records of ``condition``: the words of its top-level AND in the expression (fast), the rest in
    clauses."""
    compiler = _Compiler(params)
    texts: list[str] = []
    clauses: list[str] = []

    def add(node: Condition, negated: bool) -> None:
        if not negated and isinstance(node, Both) and node.operator in ("and", "not"):
            add(node.left, False)
            add(node.right, node.operator == "not")
            return
        if _pure_text(node) and not negated:
            texts.append(compiler.fts(node))
            return
        clause = compiler.sql(node)
        clauses.append(f"NOT {clause}" if negated else clause)

    add(condition, False)
    return (" AND ".join(texts) if texts else None), clauses


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
