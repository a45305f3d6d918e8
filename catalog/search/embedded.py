"""The embedded search engine: SQLite FTS5 inside the catalogue database.

It needs no server, and its index is written in the same transaction as the catalogue, so the two
never disagree after a job. Text is indexed folded (see catalog.text.fold), so "dai hoc ha noi" and
"ĐẠI HỌC HÀ NỘI" are the same words; a second table keeps the diacritics to rank exact spellings
first. Prefix indexes of one and two characters keep search as you type fast on Vietnamese, whose
syllables are short ("kinh t", "dai hoc q"). All user input reaches SQL as bound parameters or as
quoted FTS5 strings.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

from catalog.db import chunks, rows_in, writing
from catalog.search import documents as docs_module
from catalog.search import embedded_facets as facet_store
from catalog.search.facets import FILTERS
from catalog.search.query import (
    MAX_FACET_LIMIT,
    Hit,
    ParsedQuery,
    SearchQuery,
    SearchResult,
    highlight,
    parse,
)
from catalog.search.rows import index_rows

BM25 = "bm25(m.search_fts, 10.0, 4.0, 2.0, 1.0)"
TEXT_COLUMNS = "{title authors subjects other}"
_BLANK_FACETS_TTL = 30.0
FACET_SAMPLE = 5000  # facets of a query matching more are estimated from this many of its matches
RANK_ALL = 2000  # matches ranked together by bm25; a broader query is ranked tier by tier
MAX_CODES_REMEMBERED = 50_000  # the dictionary codes a job remembers having written (memory bound)
TABLES = (
    "search_fts",
    "search_exact",
    "search_doc",
    "search_facet_value",
    "search_filter",
)


def _quote(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def match_expression(parsed: ParsedQuery) -> str | None:
    """The FTS5 MATCH string for a parsed query (every word quoted: no operator can be injected)."""
    if parsed.isbn:
        return f"other : {_quote(parsed.isbn)}"
    if parsed.issn:
        return f"other : {_quote(parsed.issn.replace('-', ''))}"
    parts = _parts(parsed)
    if not parts:
        return None
    return f"{TEXT_COLUMNS} : ({' AND '.join(parts)})"


def _parts(parsed: ParsedQuery) -> list[str]:
    parts = []
    for i, term in enumerate(parsed.terms):
        last = i == len(parsed.terms) - 1
        parts.append(_quote(term) + ("*" if last and parsed.prefix_last else ""))
    return parts + [_quote(" ".join(phrase)) for phrase in parsed.phrases]


def title_expression(parsed: ParsedQuery) -> str | None:
    """Records with every word of the query in their title (None for an ISBN or ISSN query)."""
    parts = _parts(parsed)  # none for an ISBN or ISSN query
    return f"title : ({' AND '.join(parts)})" if parts else None


def exact_expression(parsed: ParsedQuery) -> str | None:
    if not parsed.exact_terms:
        return None
    words = [_quote(w) for w in parsed.exact_terms]  # whole words: "hồ" ranks above "hồi"
    return " AND ".join(words)  # for search_exact, the text with its diacritics


Bucket = tuple[str, bool | None]  # (FTS5 expression, in search_exact's matches or not, or either)


def tiers(match: str, title: str | None, exact: str | None) -> list[Bucket]:
    """The matches of ``match`` cut into the buckets relevance ranks in order: records with the
    query's exact spelling (diacritics) first, then within each, records with every word in the title."""
    buckets = [f"({match}) AND ({title})", f"({match}) NOT ({title})"] if title else [match]
    if exact:
        return [(b, True) for b in buckets] + [(b, False) for b in buckets]
    return [(b, None) for b in buckets]


# How each sort orders the records (relevance here: a search without words, which ranks nothing).
# {id} and {score} stand for the record's id and bm25 score in the statement _Scope writes.
ORDERS = {
    "relevance": ["{id}"],
    "year_desc": ["d.year IS NULL", "d.year DESC", "d.title_sort", "{id}"],
    "year_asc": ["d.year IS NULL", "d.year ASC", "d.title_sort", "{id}"],
    "title": ["d.title_sort = ''", "d.title_sort", "d.year", "{id}"],
}
_EXACT_IDS = "(SELECT rowid FROM search_exact WHERE search_exact MATCH :exact)"
_IN_EXACT = f"{{id}} IN {_EXACT_IDS} DESC"
_IN_TITLE = "{id} IN (SELECT rowid FROM search_fts WHERE search_fts MATCH :title) DESC"
_BY_SCORE = ["{score}", "{id}"]
_BY_ID = ["{id}"]


class _Scope:
    """The records a search can answer with: those matching an FTS5 expression (or every record),
    under the search's filters. Each method runs one statement.

    The FTS table is joined directly (not through a subquery) so that bm25 is computed only for the
    matches that pass the filters, when a statement orders by it."""

    def __init__(self, conn: Connection, where: list[str], params: dict[str, Any]) -> None:
        self.conn = conn
        self.where = where
        self.params = params

    def _source(self, match: str | None, doc: bool = False, exact: bool | None = None) -> tuple[str, str]:
        """(FROM ... WHERE ..., the record's id) of the records."""
        if match is None:
            uid, source, where = "f.union_id", "search_filter f", list(self.where)
        else:
            uid, source, where = "m.rowid", "search_fts m", ["m.search_fts MATCH :match", *self.where]
            if self.where:  # filters read the narrow rows of search_filter
                source += " JOIN search_filter f ON f.union_id = m.rowid"
        if exact is not None:
            where.append(f"{uid} {'' if exact else 'NOT '}IN {_EXACT_IDS}")
        if doc:  # sorts read search_doc
            source += f" JOIN search_doc d ON d.union_id = {uid}"
        return source + (f" WHERE {' AND '.join(where)}" if where else ""), uid

    def _run(self, sql: str, match: str | None, **extra: Any) -> Any:
        return self.conn.execute(text(sql), {**self.params, "match": match, **extra})

    def count(
        self, match: str | None, at_most: int | None = None, in_exact: bool | None = None, **extra: Any
    ) -> int:
        """How many records (counting stops past ``at_most``)."""
        if match is None and not self.where and in_exact is None:
            return self.conn.execute(text("SELECT count(*) FROM search_doc")).scalar_one()
        source, _uid = self._source(match, exact=in_exact)
        sql = f"SELECT count(*) FROM {source}"
        if at_most is not None:
            sql = f"SELECT count(*) FROM (SELECT 1 FROM {source} LIMIT {int(at_most) + 1})"
        return self._run(sql, match, **extra).scalar_one()

    def ids(
        self,
        match: str | None,
        order: list[str],
        limit: int,
        doc: bool = False,
        in_exact: bool | None = None,
        **extra: Any,
    ) -> list[int]:
        source, uid = self._source(match, doc, in_exact)
        keys = ", ".join(key.format(id=uid, score=BM25) for key in order)
        sql = f"SELECT {uid} FROM {source} ORDER BY {keys} LIMIT :limit"
        return list(self._run(sql, match, limit=limit, **extra).scalars())

    def summary(self, match: str | None) -> tuple[int, str | None]:
        """(count, facet codes as hex) of every filtered match, in one pass: a filtered search reads
        each match's row of search_filter anyway, and its codes come with it."""
        assert self.where
        source, _uid = self._source(match)
        sql = f"SELECT count(*), group_concat(hex(f.codes), '') FROM {source}"
        count, hexed = self._run(sql, match).one()
        return count, hexed

    def codes(self, match: str | None, limit: int) -> str | None:
        """The facet codes of the first ``limit`` records, as the hex of their blobs."""
        source, uid = self._source(match)
        sql = (
            f"SELECT group_concat(hex(c.codes), '') FROM (SELECT {uid} AS id FROM {source} "
            "LIMIT :limit) s JOIN search_filter c ON c.union_id = s.id"
        )
        return self._run(sql, match, limit=limit).scalar_one()


def _by_relevance(scope: _Scope, parsed: ParsedQuery, match: str, total: int, wanted: int) -> list[int]:
    """The ``wanted`` best matches. Up to RANK_ALL matches are ranked together: exact spelling
    first, then every word in the title, then by bm25 (title words weigh most). A broader query is
    ranked bucket by bucket in that order, the way Meilisearch's ranking rules work: a bucket of up
    to RANK_ALL records by bm25, a larger one in record order (bm25 over 50,000 matches costs over
    100 ms; a reader typing "hist" is served the first titles with the word at once)."""
    title = title_expression(parsed)
    exact = exact_expression(parsed)
    if total <= RANK_ALL:
        order = ([_IN_EXACT] if exact else []) + ([_IN_TITLE] if title else []) + _BY_SCORE
        return scope.ids(match, order, wanted, exact=exact, title=title)
    ids: list[int] = []
    for bucket, in_exact in tiers(match, title, exact):
        need = wanted - len(ids)
        if need <= 0:
            break
        # Small enough to rank? Counting stops past RANK_ALL, where a full count would go on.
        size = scope.count(bucket, at_most=RANK_ALL, in_exact=in_exact, exact=exact)
        if size:
            order = _BY_SCORE if size <= RANK_ALL else _BY_ID
            ids += scope.ids(bucket, order, need, in_exact=in_exact, exact=exact)
    return ids


class EmbeddedSearchEngine:
    name = "embedded"
    transactional = True

    def __init__(self, catalogue: Engine) -> None:
        self.catalogue = catalogue
        self._blank_facets: tuple[float, dict[str, list[tuple[str, int]]]] | None = None
        # Facet value codes this engine wrote to the dictionary in the current transaction: a job
        # writes the same libraries, languages and common subjects thousands of times.
        self._written_codes: tuple[Any, set[int]] | None = None

    def _codes_written(self, conn: Connection) -> set[int]:
        """The codes already in the dictionary in ``conn``'s transaction (forgotten with it)."""
        transaction = conn.get_transaction()
        if self._written_codes is None or self._written_codes[0] is not transaction:
            self._written_codes = (transaction, set())
        elif len(self._written_codes[1]) > MAX_CODES_REMEMBERED:
            self._written_codes[1].clear()
        return self._written_codes[1]

    # --------------------------------------------------------------------------------- writing
    def upsert(self, conn: Connection | None, docs: Sequence[dict[str, Any]]) -> None:
        if not docs:
            return
        assert conn is not None, "the embedded engine writes inside the catalogue's transaction"
        self.delete(conn, [d["id"] for d in docs])
        raw = conn.connection.driver_connection
        rows = [(d["id"], d.get("index_rows") or index_rows(d)) for d in docs]
        raw.executemany(
            "INSERT INTO search_fts (rowid, title, authors, subjects, other) VALUES (?, ?, ?, ?, ?)",
            [(uid, *r.fts) for uid, r in rows],
        )
        raw.executemany(
            "INSERT INTO search_exact (rowid, exact) VALUES (?, ?)", [(uid, r.exact) for uid, r in rows]
        )
        raw.executemany(
            "INSERT INTO search_doc (union_id, year, title_sort, has_digital, doc) VALUES (?, ?, ?, ?, ?)",
            [(uid, r.year, r.title_sort, r.has_digital, r.payload) for uid, r in rows],
        )
        written = self._codes_written(conn)
        entries = {e[0]: e for _uid, r in rows for e in r.entries if e[0] not in written}
        facet_store.write(raw, [(uid, r.year, r.has_digital, r.codes) for uid, r in rows], entries.values())
        written.update(entries)
        self._blank_facets = None

    def delete(self, conn: Connection | None, ids: Sequence[int]) -> None:
        if not ids:
            return
        assert conn is not None
        raw = conn.connection.driver_connection
        for part in chunks(list(ids)):
            marks = ",".join("?" * len(part))
            raw.execute(f"DELETE FROM search_fts WHERE rowid IN ({marks})", part)
            raw.execute(f"DELETE FROM search_exact WHERE rowid IN ({marks})", part)
            raw.execute(f"DELETE FROM search_doc WHERE union_id IN ({marks})", part)
            raw.execute(f"DELETE FROM search_filter WHERE union_id IN ({marks})", part)
        self._blank_facets = None

    def rebuild(self, catalogue: Engine) -> int:
        """Rebuild the whole index in one transaction: readers see the old index until it commits."""
        count = 0
        with writing(catalogue) as conn:
            self._written_codes = None
            for table in TABLES:
                conn.exec_driver_sql(f"DELETE FROM {table}")
            for ids in docs_module.all_union_ids(conn):
                found, _gone = docs_module.documents(conn, ids)
                self.upsert(conn, found)
                count += len(found)
        return count

    # --------------------------------------------------------------------------------- reading
    def _where(self, query: SearchQuery, params: dict[str, Any]) -> list[str]:
        clauses = [c for facet in FILTERS if (c := facet_store.where(facet, facet.chosen(query), params))]
        if query.year_from is not None:
            params["year_from"] = query.year_from
            clauses.append("f.year >= :year_from")
        if query.year_to is not None:
            params["year_to"] = query.year_to
            clauses.append("f.year <= :year_to")
        return clauses

    def search(self, query: SearchQuery) -> SearchResult:
        query.validate()
        parsed = parse(query.q)
        match = match_expression(parsed)
        if not match and not parsed.empty:
            return SearchResult(0, [], {}, query.page, query.per_page)
        params: dict[str, Any] = {}
        where = self._where(query, params)
        wanted = query.offset + query.per_page
        with self.catalogue.connect() as conn:
            scope = _Scope(conn, where, params)
            codes = None
            if query.facets and where:
                total, codes = scope.summary(match)
            else:
                total = scope.count(match)
            if match and query.sort == "relevance":
                ids = _by_relevance(scope, parsed, match, total, wanted)
            else:
                ids = scope.ids(match, ORDERS[query.sort], wanted, doc=query.sort != "relevance")
            ids = ids[query.offset : wanted]
            payloads = dict(
                rows_in(conn, "SELECT union_id, doc FROM search_doc WHERE union_id IN ({ids})", ids)
            )
            facets: dict[str, list[tuple[str, int]]] = {}
            facets_exact = True
            if query.facets:
                facets, facets_exact = self._facets(scope, match, total, query.facet_limit, codes)
        hits = []
        for uid in ids:
            doc = orjson.loads(payloads[uid])
            hits.append(
                Hit(
                    id=uid,
                    title=doc["title"],
                    authors=doc["authors"],
                    year=doc["year"],
                    material_type=doc["material_type"],
                    isbns=doc["isbns"],
                    libraries=doc["libraries"],
                    holdings=doc.get("holdings", {}),
                    library_count=doc["library_count"],
                    copies=doc["copies"],
                    has_digital=doc["has_digital"],
                    highlight={
                        "title": highlight(doc["title"], parsed),
                        "authors": highlight(" ; ".join(doc["authors"]), parsed),
                    },
                )
            )
        return SearchResult(total, hits, facets, query.page, query.per_page, facets_exact=facets_exact)

    def _facets(
        self, scope: _Scope, match: str | None, total: int, limit: int, codes: str | None
    ) -> tuple[dict[str, list[tuple[str, int]]], bool]:
        """Facet counts of the matches, and whether they are exact. ``codes`` are those of every match
        when the search had filters (see _Scope.summary); without filters a query matching more than
        FACET_SAMPLE records has its counts estimated from FACET_SAMPLE of its matches (as they come)."""
        if match is None and not scope.where:
            cached = self._blank_facets
            if cached is None or time.monotonic() - cached[0] >= _BLANK_FACETS_TTL:
                cached = (time.monotonic(), facet_store.count_all(scope.conn, MAX_FACET_LIMIT))
                self._blank_facets = cached
            return {facet: values[:limit] for facet, values in cached[1].items()}, True
        if scope.where:
            values, counts = facet_store.count_hex(codes)
            return facet_store.top_values(scope.conn, values, counts, limit), True
        values, counts = facet_store.count_hex(scope.codes(match, FACET_SAMPLE))
        sampled = total > FACET_SAMPLE
        scale = total / FACET_SAMPLE if sampled else 1.0
        return facet_store.top_values(scope.conn, values, counts, limit, scale), not sampled

    def count(self) -> int:
        with self.catalogue.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM search_doc")).scalar_one()

    def documents(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        with self.catalogue.connect() as conn:
            rows = rows_in(
                conn, "SELECT union_id, doc FROM search_doc WHERE union_id IN ({ids})", [int(i) for i in ids]
            )
        return {uid: orjson.loads(doc) for uid, doc in rows}

    def health(self) -> dict[str, Any]:
        try:
            return {"engine": self.name, "status": "ok", "documents": self.count()}
        except Exception as exc:
            return {"engine": self.name, "status": "unavailable", "detail": str(exc)[:200]}
