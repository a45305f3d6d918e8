"""What a search asks and what it answers, the same for every engine."""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from catalog.identifiers import isbn13, isbn_candidate, issn
from catalog.search.errors import QueryError
from catalog.search.facets import NAMES
from catalog.text import fold

if TYPE_CHECKING:
    from catalog.digital.access import Reader
    from catalog.search.condition import Condition

SORTS = ("relevance", "year_desc", "year_asc", "title")
FACETS = NAMES  # the counted facets, declared in catalog.search.facets
MAX_QUERY_LENGTH = 500  # characters searched
MAX_QUERY_INPUT = 10_000  # characters a front end accepts: a longer query is searched by its start
MAX_PER_PAGE = 100
MAX_PAGE = 1000
MAX_FACET_LIMIT = 200
_PHRASE = re.compile(r'"([^"]*)"')
_ISBN_QUERY = re.compile(r"^[\dXx\-\s]{10,17}$")
# "ISBN 978-...", "isbn: ...", "ISSN 0028-0836": the label readers copy with the number
_ID_LABEL = re.compile(r"^(?:e-?)?(?:isbn(?:-?1[03])?|issn)\s*:?\s*(?=\d)", re.IGNORECASE)


# What a hit carries from its document (both engines store or retrieve exactly these).
HIT_FIELDS = (
    "title", "authors", "year", "material_type", "isbns", "libraries", "holdings", "library_count", "copies",
    "has_digital",
)  # fmt: skip


def shorten(q: str) -> str:
    """``q`` as searched: a query longer than :data:`MAX_QUERY_LENGTH` (a pasted paragraph) by its
    first characters, cut between words."""
    if len(q) <= MAX_QUERY_LENGTH:
        return q
    cut = q[:MAX_QUERY_LENGTH]
    space = cut.rfind(" ")
    return (cut[:space] if space > MAX_QUERY_LENGTH // 2 else cut).strip()


@dataclass
class SearchQuery:
    q: str = ""
    libraries: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    material_types: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    decades: list[int] = field(default_factory=list)
    year_from: int | None = None
    year_to: int | None = None
    has_digital: bool | None = None
    has_fulltext: bool | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20
    facets: bool = True
    facet_limit: int = 20
    condition: Condition | None = None  # a fielded, boolean search (SRU), in place of q
    # Records are also found by words inside their files (the full text), for this reader: the
    # text of an object the reader may not read neither finds its record nor is shown.
    fulltext: bool = True
    reader: Reader | None = None  # None: anonymous (ingest workers import this module: no models)

    def validate(self) -> SearchQuery:
        if self.condition is not None and self.q.strip():
            raise QueryError("a search asks either words (q) or a condition, not both")
        if len(self.q) > MAX_QUERY_LENGTH:
            raise QueryError(f"the query is longer than {MAX_QUERY_LENGTH} characters")
        if self.sort not in SORTS:
            raise QueryError(f"unknown sort {self.sort!r}; use one of: {', '.join(SORTS)}")
        if not 1 <= self.page <= MAX_PAGE:
            raise QueryError(f"page must be between 1 and {MAX_PAGE}")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise QueryError(f"per_page must be between 1 and {MAX_PER_PAGE}")
        if not 1 <= self.facet_limit <= MAX_FACET_LIMIT:
            raise QueryError(f"facet_limit must be between 1 and {MAX_FACET_LIMIT}")
        if self.year_from is not None and self.year_to is not None and self.year_from > self.year_to:
            raise QueryError("year_from is after year_to")
        return self

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass
class ParsedQuery:
    """The words of a query: folded terms (the last one a prefix unless the query ends with a space),
    phrases, an ISBN/ISSN when the query is one, and the terms with diacritics for exact ranking."""

    terms: list[str]
    phrases: list[list[str]]
    prefix_last: bool
    isbn: str | None
    issn: str | None
    exact_terms: list[str]

    @property
    def empty(self) -> bool:
        return not (self.terms or self.phrases or self.isbn or self.issn)

    @property
    def words(self) -> list[str]:
        return self.terms + [w for p in self.phrases for w in p]


def _printed_isbn(number: str) -> str | None:
    """The digits of an ISBN as printed when its check digit is wrong: records that carry it are
    found by it (see catalog.search.rows), as the reader copies it from the book."""
    candidate = isbn_candidate(number)
    if candidate is None or len(candidate) != len(re.sub(r"[\s-]", "", number)):
        return None  # more than an ISBN-looking number: searched as words
    return candidate if len(candidate) == 10 or candidate[:3] in ("978", "979") else None


def parse(q: str) -> ParsedQuery:
    from catalog.text import exact_key

    text = q.strip()
    number = _ID_LABEL.sub("", text)
    isbn = (isbn13(number) or _printed_isbn(number)) if _ISBN_QUERY.match(number) else None
    issn_value = issn(number) if not isbn and re.fullmatch(r"\d{4}-?\d{3}[\dXx]", number) else None
    if isbn or issn_value:
        return ParsedQuery([], [], False, isbn, issn_value, [])
    phrases = [fold(p).split() for p in _PHRASE.findall(text)]
    rest = _PHRASE.sub(" ", text)
    terms = fold(rest).split()
    prefix_last = bool(terms) and not q.endswith((" ", '"')) and not _PHRASE.search(text[-1:] or "")
    exact = exact_key(text.replace('"', " ")).split() if any(ord(ch) > 127 for ch in text) else []
    return ParsedQuery(terms, [p for p in phrases if p], prefix_last, None, None, exact)


@dataclass
class Hit:
    id: int
    title: str | None
    authors: list[str]
    year: int | None
    material_type: str | None
    isbns: list[str]
    libraries: list[str]
    library_count: int
    copies: int
    has_digital: bool
    highlight: dict[str, str] = field(default_factory=dict)
    holdings: dict[str, int] = field(default_factory=dict)  # library code -> copies
    # The best pages of the files the reader may read that hold the query's words:
    # {"object": id, "page": 2, "snippet": "… <mark>word</mark> …"} (escaped HTML, only <mark>)
    fulltext: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "authors": self.authors,
            "year": self.year,
            "material_type": self.material_type,
            "isbns": self.isbns,
            "libraries": self.libraries,
            "library_count": self.library_count,
            "copies": self.copies,
            "has_digital": self.has_digital,
            "holdings": self.holdings,
            "highlight": self.highlight,
            "fulltext": self.fulltext,
        }


@dataclass
class SearchResult:
    total: int
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]]
    page: int
    per_page: int
    facets_exact: bool = True  # False: a broad query's facet counts estimated from a sample of its matches
    did_you_mean: str | None = None  # the corrected query, when the query as typed finds almost nothing

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "facets_exact": self.facets_exact,
            "did_you_mean": self.did_you_mean,
            "page": self.page,
            "per_page": self.per_page,
            "hits": [h.as_dict() for h in self.hits],
            "facets": {k: [{"value": v, "count": c} for v, c in vs] for k, vs in self.facets.items()},
        }


_WORD = re.compile(r"\w+")
fold_word = functools.lru_cache(maxsize=65536)(fold)  # text repeats its words; folding is not free


def highlight(text: str | None, parsed: ParsedQuery) -> str:
    """HTML-escaped ``text`` with the words the query matched wrapped in <mark>, diacritics kept."""
    if not text:
        return ""
    words = set(parsed.words)
    prefix = parsed.terms[-1] if parsed.prefix_last and parsed.terms else None
    out, last = [], 0
    for match in _WORD.finditer(text):
        key = fold_word(match.group())
        if key in words or (prefix and key.startswith(prefix)):
            out.append(html.escape(text[last : match.start()]))
            out.append(f"<mark>{html.escape(match.group())}</mark>")
            last = match.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def decade_of(year: int | None) -> int | None:
    return (year // 10) * 10 if year else None
