"""A search condition (catalog.search.condition) as the embedded engine asks it: one FTS5 expression
for the words of its top-level AND (every word quoted: no operator can be injected), and SQL on the
filter rows (``search_filter f``) for years, records and booleans that mix them with words."""

from __future__ import annotations

from typing import Any

from catalog.search.condition import MAX_IDS, Both, Condition, Records, Words, Year
from catalog.search.matching import quote

# Field -> the columns of the embedded index (search_fts) that hold it.
COLUMNS = {
    "title": "title",
    "authors": "authors",
    "subjects": "subjects",
    "publisher": "other",
    "any": "{title authors subjects other}",
}


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
