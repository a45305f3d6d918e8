"""A parser of CQL 1.2, the Contextual Query Language of SRU, after its grammar:

.. code-block:: text

    sortedQuery      ::= prefixAssignment sortedQuery | scopedClause ['sortby' sortSpec]
    cqlQuery         ::= prefixAssignment cqlQuery | scopedClause
    prefixAssignment ::= '>' prefix '=' uri | '>' uri
    scopedClause     ::= scopedClause booleanGroup searchClause | searchClause
    booleanGroup     ::= boolean [modifierList]
    boolean          ::= 'and' | 'or' | 'not' | 'prox'
    searchClause     ::= '(' cqlQuery ')' | index relation searchTerm | searchTerm
    relation         ::= comparitor [modifierList]
    comparitor       ::= '=' | '>' | '<' | '>=' | '<=' | '<>' | '==' | namedComparitor
    modifierList     ::= modifier+
    modifier         ::= '/' modifierName [comparitorSymbol modifierValue]
    sortSpec         ::= (index [modifierList])+

Booleans bind left to right with equal precedence; keywords are case-insensitive; a term is a run
of characters other than whitespace, parentheses, ``= < > " /``, or a double-quoted string with
``\\"`` for a quote. The parser knows no index or relation: it builds the tree, and what a server
supports is decided on the tree (see :mod:`api.sru.translate`). Every fault is a
:class:`CqlSyntaxError` naming where it is; nesting and length are bounded so that no query can
exhaust the stack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

BOOLEANS = ("and", "or", "not", "prox")
SYMBOLS = ("==", "<>", ">=", "<=", "=", "<", ">")
MAX_DEPTH = 32  # parentheses within parentheses
MAX_CLAUSES = 64  # search clauses in one query
DEFAULT_INDEX = "cql.serverChoice"
DEFAULT_RELATION = "="

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<quoted>"(?:[^"\\]|\\.)*")
      | (?P<open>".*)
      | (?P<symbol>==|<>|>=|<=|=|<|>|/|\(|\))
      | (?P<word>[^\s()=<>"/]+)
    )""",
    re.VERBOSE | re.DOTALL,
)


class CqlSyntaxError(ValueError):
    """The query does not follow CQL's grammar (SRU diagnostic 10, or 13/14 for parentheses and
    quotes)."""

    def __init__(self, message: str, position: int, diagnostic: int = 10) -> None:
        super().__init__(f"{message} (at character {position + 1})")
        self.position = position
        self.diagnostic = diagnostic


class CqlLimitError(CqlSyntaxError):
    """The query is too large to be answered (too many clauses: SRU diagnostic 38)."""


@dataclass(frozen=True)
class Token:
    kind: str  # "word" (quoted or not), "symbol", "end"
    text: str
    position: int
    quoted: bool = False


@dataclass(frozen=True)
class Modifier:
    name: str
    comparison: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class Relation:
    name: str  # a symbol, or a named relation folded to lower case ("all", "any", "adj" ...)
    modifiers: tuple[Modifier, ...] = ()


@dataclass(frozen=True)
class SearchClause:
    index: str
    relation: Relation
    term: str
    prefixes: tuple[tuple[str, str], ...] = ()  # the prefix assignments in scope, innermost last


@dataclass(frozen=True)
class Boolean:
    operator: str  # and, or, not, prox (lower case)
    modifiers: tuple[Modifier, ...]
    left: Node
    right: Node


Node = SearchClause | Boolean


@dataclass(frozen=True)
class SortKey:
    index: str
    modifiers: tuple[Modifier, ...] = ()


@dataclass
class Query:
    root: Node
    sort_keys: list[SortKey] = field(default_factory=list)


def tokens(text: str) -> list[Token]:
    out: list[Token] = []
    position = 0
    end = len(text.rstrip())
    while position < end:
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:  # pragma: no cover - the pattern takes any character
            raise CqlSyntaxError("unreadable character", position)
        start = match.start(match.lastgroup or 0)
        if match.lastgroup == "open":
            raise CqlSyntaxError("a quoted term is not closed", start, 14)
        if match.lastgroup == "quoted":
            raw = match.group("quoted")[1:-1]
            out.append(Token("word", re.sub(r"\\(.)", _unescape, raw), start, quoted=True))
        elif match.lastgroup == "symbol":
            out.append(Token("symbol", match.group("symbol"), start))
        else:
            out.append(Token("word", match.group("word"), start))
        position = match.end()
    out.append(Token("end", "", end))
    return out


def _unescape(match: re.Match[str]) -> str:
    """``\\"`` is a quote; other escapes (``\\*``, ``\\?``, ``\\^``, ``\\\\``) stay, so that a
    masking character written escaped stays a literal character for the search."""
    return '"' if match.group(1) == '"' else match.group(0)


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokens(text)
        self.at = 0
        self.clauses = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.at]

    def next(self) -> Token:
        token = self.tokens[self.at]
        if token.kind != "end":
            self.at += 1
        return token

    def is_symbol(self, *symbols: str) -> bool:
        return self.token.kind == "symbol" and self.token.text in symbols

    def is_keyword(self, *words: str) -> bool:
        return self.token.kind == "word" and not self.token.quoted and self.token.text.lower() in words

    def fail(self, message: str, diagnostic: int = 10) -> CqlSyntaxError:
        token = self.token
        found = "the end of the query" if token.kind == "end" else repr(token.text)
        return CqlSyntaxError(f"{message}, found {found}", token.position, diagnostic)

    def term(self, what: str) -> str:
        if self.token.kind != "word":
            raise self.fail(f"expected {what}")
        return self.next().text

    # sortedQuery / cqlQuery
    def query(self, prefixes: tuple[tuple[str, str], ...], depth: int, sortable: bool) -> Query:
        while self.is_symbol(">"):
            prefixes = (*prefixes, self.prefix_assignment())
        root = self.scoped_clause(prefixes, depth)
        keys: list[SortKey] = []
        if sortable and self.is_keyword("sortby"):
            self.next()
            while self.token.kind == "word":
                index = self.next().text
                keys.append(SortKey(index, self.modifiers()))
            if not keys:
                raise self.fail("expected an index to sort by")
        return Query(root, keys)

    def prefix_assignment(self) -> tuple[str, str]:
        self.next()  # '>'
        first = self.term("a prefix or a URI")
        if self.is_symbol("="):
            self.next()
            return first, self.term("a URI")
        return "", first

    def scoped_clause(self, prefixes: tuple[tuple[str, str], ...], depth: int) -> Node:
        node = self.search_clause(prefixes, depth)
        while self.is_keyword(*BOOLEANS):
            operator = self.next().text.lower()
            modifiers = self.modifiers()
            node = Boolean(operator, modifiers, node, self.search_clause(prefixes, depth))
        return node

    def search_clause(self, prefixes: tuple[tuple[str, str], ...], depth: int) -> Node:
        if self.is_symbol("("):
            opening = self.next()
            if depth >= MAX_DEPTH:
                raise CqlLimitError(f"parentheses nested deeper than {MAX_DEPTH}", opening.position, 38)
            inner = self.query(prefixes, depth + 1, sortable=False).root
            if not self.is_symbol(")"):
                raise self.fail(f"expected ')' to close the '(' at character {opening.position + 1}", 13)
            self.next()
            return inner
        if self.is_symbol(")"):
            raise self.fail("unbalanced parentheses", 13)
        if self.is_symbol(">"):  # a prefix assignment inside a clause: cqlQuery
            while self.is_symbol(">"):
                prefixes = (*prefixes, self.prefix_assignment())
            return self.search_clause(prefixes, depth)
        first = self.term("a search term")
        self.clauses += 1
        if self.clauses > MAX_CLAUSES:
            raise CqlLimitError(f"more than {MAX_CLAUSES} search clauses", self.token.position, 38)
        if self.token.kind == "symbol" and self.token.text in SYMBOLS:
            relation = self.next().text
        elif self.token.kind == "word" and not self.token.quoted and not self.is_keyword(*BOOLEANS, "sortby"):
            relation = self.next().text.lower()
        else:
            return SearchClause(DEFAULT_INDEX, Relation(DEFAULT_RELATION), first, prefixes)
        modifiers = self.modifiers()
        return SearchClause(first, Relation(relation, modifiers), self.term("a search term"), prefixes)

    def modifiers(self) -> tuple[Modifier, ...]:
        found: list[Modifier] = []
        while self.is_symbol("/"):
            self.next()
            name = self.term("a modifier's name")
            if self.token.kind == "symbol" and self.token.text in SYMBOLS:
                comparison = self.next().text
                found.append(Modifier(name.lower(), comparison, self.term("a modifier's value")))
            else:
                found.append(Modifier(name.lower()))
        return tuple(found)


def parse(text: str, version: str = "1.2") -> Query:
    """The tree of a CQL query; ``sortby`` is part of the query from SRU 1.2 on (CQL 1.2)."""
    if not text.strip():
        raise CqlSyntaxError("the query is empty", 0)
    parser = _Parser(text)
    query = parser.query((), 0, sortable=version != "1.1")
    if parser.token.kind != "end":
        if parser.is_symbol(")"):
            raise parser.fail("unbalanced parentheses", 13)
        raise parser.fail("expected a boolean (and, or, not, prox) or the end of the query")
    return query
