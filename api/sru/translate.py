"""A parsed CQL query as the catalogue's search condition (catalog.search.condition): its indexes,
relations and modifiers checked against what the server supports, each refusal an SRU diagnostic.

Indexes are named with their context set (``dc.title``, ``bath.isbn``, ``cql.serverChoice``,
``rec.id``) or without one, as Koha, MarcEdit and Z39.50 gateways send them (``title``,
``author``, ``isbn``). A prefix assigned in the query (``> dc = "info:srw/cql-context-set/1/dc-v1.1"``)
is resolved by the set's identifier."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from catalog.search.condition import Both, Condition, Records, Words, Year, words_of
from catalog.search.query import MAX_QUERY_LENGTH

from . import cql
from .diagnostics import Diagnostic

# Context sets: their short names and identifiers (CQL 1.2, Dublin Core, Bath, rec).
CONTEXT_SETS = {
    "cql": "info:srw/cql-context-set/1/cql-v1.2",
    "dc": "info:srw/cql-context-set/1/dc-v1.1",
    "bath": "http://zing.z3950.org/cql/bath/2.0/",
    "rec": "info:srw/cql-context-set/2/rec-1.1",
}
_SET_OF_URI = {uri: name for name, uri in CONTEXT_SETS.items()} | {
    "info:srw/cql-context-set/1/cql-v1.1": "cql",
    "info:srw/cql-context-set/1/dc-v1.0": "dc",
    "info:srw/cql-context-set/2/rec-1.0": "rec",
}

# What each index searches: a field of words, the year, an identifier, or the record's number.
TEXT, YEAR, ISBN, ISSN, LCCN, RECORD = "text", "year", "isbn", "issn", "lccn", "record"


@dataclass(frozen=True)
class Index:
    name: str  # as explain shows it: set.name
    kind: str
    field: str | None = None  # the condition's field, for text indexes
    title: str = ""


INDEXES = {
    ("dc", "title"): Index("dc.title", TEXT, "title", "Title"),
    ("dc", "creator"): Index("dc.creator", TEXT, "authors", "Author, creator"),
    ("dc", "subject"): Index("dc.subject", TEXT, "subjects", "Subject"),
    ("dc", "publisher"): Index("dc.publisher", TEXT, "publisher", "Publisher, series, classification"),
    ("dc", "date"): Index("dc.date", YEAR, None, "Year of publication"),
    ("bath", "isbn"): Index("bath.isbn", ISBN, None, "ISBN"),
    ("bath", "issn"): Index("bath.issn", ISSN, None, "ISSN"),
    ("bath", "lccn"): Index("bath.lccn", LCCN, None, "LCCN"),
    ("rec", "id"): Index("rec.id", RECORD, None, "Union record number"),
    ("cql", "anywhere"): Index("cql.anywhere", TEXT, "any", "Anywhere"),
    ("cql", "serverchoice"): Index("cql.serverChoice", TEXT, "any", "Title, authors, subjects and more"),
}
# Other names of the same indexes: Bath's and Dublin Core's synonyms, and the unprefixed names
# Koha's SRU client, MarcEdit and Z39.50-to-SRU gateways send.
ALIASES = {
    ("dc", "author"): ("dc", "creator"),
    ("dc", "contributor"): ("dc", "creator"),
    ("bath", "title"): ("dc", "title"),
    ("bath", "author"): ("dc", "creator"),
    ("bath", "name"): ("dc", "creator"),
    ("bath", "personalname"): ("dc", "creator"),
    ("bath", "corporatename"): ("dc", "creator"),
    ("bath", "subject"): ("dc", "subject"),
    ("bath", "keytitle"): ("dc", "title"),
    ("bath", "any"): ("cql", "anywhere"),
    ("cql", "keywords"): ("cql", "anywhere"),
    ("cql", "all"): ("cql", "anywhere"),
    ("rec", "identifier"): ("rec", "id"),
    **{
        ("", name): target
        for target, names in {
            ("dc", "title"): ("title", "ti"),
            ("dc", "creator"): ("author", "creator", "au", "name"),
            ("dc", "subject"): ("subject", "su"),
            ("dc", "publisher"): ("publisher", "pb"),
            ("dc", "date"): ("date", "year", "yr", "pubdate"),
            ("bath", "isbn"): ("isbn",),
            ("bath", "issn"): ("issn",),
            ("bath", "lccn"): ("lccn",),
            ("rec", "id"): ("id",),
            ("cql", "anywhere"): ("anywhere", "any", "keyword", "keywords", "kw", "all"),
            ("cql", "serverchoice"): ("serverchoice",),
        }.items()
        for name in names
    },
}
CQL_RELATIONS = {"=", "==", "<>", "<", ">", "<=", ">=", "all", "any", "adj", "within", "encloses", "exact"}
RELATIONS = {
    TEXT: {"=", "==", "all", "any", "adj", "exact"},
    YEAR: {"=", "==", "<>", "<", ">", "<=", ">=", "within"},
    ISBN: {"=", "==", "exact", "any"},
    ISSN: {"=", "==", "exact", "any"},
    LCCN: {"=", "==", "exact", "any"},
    RECORD: {"=", "==", "exact", "any"},
}
# Relation modifiers a search honours anyway: words are matched folded (case and diacritics).
HARMLESS_MODIFIERS = {"ignorecase", "ignoreaccents", "word", "string", "unmasked", "masked", "relevant"}
MAX_TERM = MAX_QUERY_LENGTH
_YEAR = re.compile(r"^\d{1,4}$")

Resolver = Callable[[str, str], list[int]]  # (identifier kind, value) -> union record ids


def index_of(name: str, prefixes: tuple[tuple[str, str], ...]) -> Index:
    """The index a name stands for, its prefix resolved through the query's assignments."""
    prefix, dot, local = name.rpartition(".")
    prefix = prefix.lower() if dot else ""
    if not dot and not local:
        raise Diagnostic(16, name)
    assigned = dict(prefixes)
    if prefix in assigned:
        uri = assigned[prefix]
        if uri not in _SET_OF_URI:
            raise Diagnostic(15, uri)
        prefix = _SET_OF_URI[uri]
    elif prefix and prefix not in CONTEXT_SETS:
        raise Diagnostic(15, prefix)
    key = (prefix, local.lower())
    key = ALIASES.get(key, key)
    if key not in INDEXES:
        raise Diagnostic(16, name)
    return INDEXES[key]


def _check_modifiers(relation: cql.Relation) -> None:
    for modifier in relation.modifiers:
        name = modifier.name.rpartition(".")[2]
        if name not in HARMLESS_MODIFIERS:
            raise Diagnostic(20, modifier.name)


def _words(term: str, field: str, mode: str) -> Words:
    if "?" in term.replace("\\?", ""):
        raise Diagnostic(28, "?")
    if "^" in term.replace("\\^", ""):
        raise Diagnostic(31, "^")
    for word in term.split():
        if "*" in word.rstrip("*").replace("\\*", ""):
            raise Diagnostic(28, f"'*' inside a word: {word}")
    words = words_of(term.replace("\\", " "))
    if not words:
        raise Diagnostic(27, term or '""')
    return Words(field, words, mode)  # type: ignore[arg-type]


def _year(term: str, relation: str) -> Condition:
    if relation == "within":
        parts = term.split()
        if len(parts) != 2 or not all(_YEAR.match(p) for p in parts):
            raise Diagnostic(36, f"'within' takes two years: {term!r}")
        low, high = sorted(int(p) for p in parts)
        return Both("and", Year(">=", low), Year("<=", high))
    if not _YEAR.match(term.strip()):
        raise Diagnostic(36, f"a year of up to four digits: {term!r}")
    comparison = "=" if relation in ("=", "==") else relation
    return Year(comparison, int(term))  # type: ignore[arg-type]


class Translator:
    def __init__(self, resolve: Resolver) -> None:
        self.resolve = resolve

    def condition(self, node: cql.Node) -> Condition:
        if isinstance(node, cql.Boolean):
            if node.operator == "prox":
                raise Diagnostic(37, "prox")
            if node.modifiers:
                raise Diagnostic(46, node.modifiers[0].name)
            return Both(node.operator, self.condition(node.left), self.condition(node.right))  # type: ignore[arg-type]
        return self.clause(node)

    def clause(self, clause: cql.SearchClause) -> Condition:
        index = index_of(clause.index, clause.prefixes)
        relation = clause.relation.name
        if relation not in CQL_RELATIONS:
            raise Diagnostic(19, relation)
        if relation not in RELATIONS[index.kind]:
            raise Diagnostic(22, f"{relation} with {index.name}")
        _check_modifiers(clause.relation)
        term = clause.term
        if len(term) > MAX_TERM:
            raise Diagnostic(23, f"a term of {len(term)} characters; at most {MAX_TERM}")
        if index.kind == TEXT:
            mode = {"any": "any", "adj": "phrase", "==": "phrase", "exact": "phrase"}.get(relation, "all")
            assert index.field is not None
            return _words(term, index.field, mode)
        if index.kind == YEAR:
            return _year(term, relation)
        values = term.split() if relation == "any" else [term]
        if index.kind == RECORD:
            ids = []
            for value in values:
                number = value.strip().removeprefix("union-")
                if not number.isdigit() or len(number) > 18:
                    raise Diagnostic(36, f"a union record's number: {value!r}")
                ids.append(int(number))
            return Records(tuple(ids))
        found: list[int] = []
        for value in values:
            found += self.resolve(index.kind, value)
        if not found and index.kind == ISBN:  # an ISBN printed with a wrong check digit is a word
            digits = re.sub(r"[\s-]", "", term)
            if re.fullmatch(r"\d{9}[\dXx]|\d{13}", digits):
                return Words("any", (digits.lower(),), "all")
        return Records(tuple(sorted(set(found))))


SORTS = {"title": ("title", "title"), "date": ("year_asc", "year_desc")}


def sort_of(keys: list[cql.SortKey]) -> str:
    """The engine's sort of CQL's ``sortby`` (one key: title, or the year either way)."""
    if not keys:
        return "relevance"
    if len(keys) > 1:
        raise Diagnostic(84, "one sort key")
    key = keys[0]
    index = index_of(key.index, ())
    name = {"dc.title": "title", "dc.date": "date"}.get(index.name)
    if name is None:
        raise Diagnostic(88, key.index)
    descending = False
    for modifier in key.modifiers:
        local = modifier.name.rpartition(".")[2]
        if local == "descending":
            descending = True
        elif local not in ("ascending", "ignorecase", "ignoreaccents", "missinglow", "missinghigh"):
            raise Diagnostic(90 if local in ("respectcase",) else 20, modifier.name)
    if name == "title" and descending:
        raise Diagnostic(90, "titles sort ascending only")
    ascending, down = SORTS[name]
    return down if descending else ascending
