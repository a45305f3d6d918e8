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
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

from catalog.db import chunks, rows_in, writing
from catalog.search import documents as docs_module
from catalog.search import embedded_facets as facet_store
from catalog.search import matching, ranking
from catalog.search import pages as page_index
from catalog.search import typos as typo_index
from catalog.search.condition_fts import embedded_plan
from catalog.search.embedded_additions import AdditionsByTransaction
from catalog.search.facets import BY_NAME, FILTERS
from catalog.search.matching import Plan, Term, quote
from catalog.search.query import (
    MAX_FACET_LIMIT,
    Hit,
    ParsedQuery,
    SearchQuery,
    SearchResult,
    highlight,
    parse,
)
from catalog.search.rows import IndexRows, holdings_fields, index_rows, plus_copies

BM25 = "bm25(m.search_fts, 10.0, 4.0, 2.0, 1.0)"
ALMOST_NOTHING = 3  # a query whose words as typed find fewer records is offered its correction
CORRECTION_COUNTED = 50  # corrections are compared by the records they find, up to this many
_BLANK_FACETS_TTL = 30.0
FACET_SAMPLE = 5000  # facets of a query matching more are estimated from this many of its matches
RECORDS_LISTED = 20_000  # records matched by their description, listed to tell the full text's apart
SELECT_MATCHES = "SELECT rowid FROM search_fts WHERE search_fts MATCH :m"
RANK_ALL = 2000  # matches ranked together by bm25; a broader query is ranked tier by tier
LIBRARIES = BY_NAME["library"]  # the facet of the libraries that hold a record
TABLES = (
    "search_fts",
    "search_exact",
    "search_doc",
    "search_facet_value",
    "search_filter",
    typo_index.TABLE,
)


def match_expression(parsed: ParsedQuery, plan: Plan | None = None) -> str | None:
    """The FTS5 MATCH string for a parsed query (every word quoted: no operator can be injected);
    the words with their alternatives when a matching ``plan`` is given."""
    if parsed.isbn:
        return f"other : {quote(parsed.isbn)}"
    if parsed.issn:
        return f"other : {quote(parsed.issn.replace('-', ''))}"
    if plan is None:
        plan = Plan([Term(t, False) for t in parsed.terms], parsed.phrases, [])
        if plan.terms and parsed.prefix_last:
            plan.terms[-1].prefix = True
    return plan.expression()


def exact_expression(words: list[str]) -> str | None:
    """For search_exact (the text with its diacritics): records spelling every one of ``words``."""
    return " AND ".join(quote(w) for w in words) if words else None  # whole words: "hồ" is not "hồi"


# How each sort orders the records (relevance here: a search without words, which ranks nothing).
# {id} and {score} stand for the record's id and bm25 score in the statement _Scope writes.
ORDERS = {
    "relevance": ["{id}"],
    "year_desc": ["d.year IS NULL", "d.year DESC", "d.title_sort", "{id}"],
    "year_asc": ["d.year IS NULL", "d.year ASC", "d.title_sort", "{id}"],
    "title": ["d.title_sort = ''", "d.title_sort", "d.year", "{id}"],
}
_BY_SCORE = ["{score}", "{id}"]
_BY_ID = ["{id}"]


def spelled_count(uid: str, words: int) -> str:
    """SQL: how many of the ``words`` words typed with diacritics (bound as :exact_0, :exact_1 ...)
    the record ``uid`` spells the same."""
    return (
        "("
        + " + ".join(
            f"({uid} IN (SELECT rowid FROM search_exact WHERE search_exact MATCH :exact_{n}))"
            for n in range(words)
        )
        + ")"
    )


def _unchanged_text(raw: Any, rows: Sequence[tuple[int, IndexRows]]) -> tuple[set[int], set[int], set[int]]:
    """(the ids among ``rows`` that may have rows in the index, those whose full-text rows in
    search_fts and those whose rows in search_exact already hold the text to write).

    A union record that takes a new member mostly keeps its words (nine in ten in a consortium of
    overlapping members) and changes its holdings: its full-text rows are left as they are, rather
    than deleted and written again (FTS5's most costly writes).

    Union ids are never given twice and grow: those above the highest indexed are new (a job's new
    union records), and have no rows at all."""
    highest = raw.execute("SELECT max(union_id) FROM search_doc").fetchone()[0] or 0
    wanted = {uid: r for uid, r in rows if uid <= highest}
    texts: set[int] = set()
    exacts: set[int] = set()
    for part in chunks(sorted(wanted)):
        marks = ",".join("?" * len(part))
        sql = f"SELECT rowid, title, authors, subjects, other FROM search_fts WHERE rowid IN ({marks})"
        texts.update(uid for uid, *text in raw.execute(sql, part) if tuple(text) == wanted[uid].fts)
        sql = f"SELECT rowid, exact FROM search_exact WHERE rowid IN ({marks})"
        exacts.update(uid for uid, exact in raw.execute(sql, part) if exact == wanted[uid].exact)
    return set(wanted), texts, exacts


class _Scope:
    """The records a search can answer with: those matching an FTS5 expression (or every record),
    under the search's filters. Each method runs one statement.

    The FTS table is joined directly (not through a subquery) so that bm25 is computed only for the
    matches that pass the filters, when a statement orders by it."""

    def __init__(self, conn: Connection, where: list[str], params: dict[str, Any]) -> None:
        self.conn = conn
        self.where = where
        self.params = params
        self.spelled = 0  # words typed with diacritics, bound as :exact_0 ... (see spelled_count)

    def _source(self, match: str | None, doc: bool = False, exact: int | None = None) -> tuple[str, str]:
        """(FROM ... WHERE ..., the record's id) of the records (those spelling ``exact`` of the
        words typed with diacritics, when it is given)."""
        if match is None:
            uid, source, where = "f.union_id", "search_filter f", list(self.where)
        else:
            uid, source, where = "m.rowid", "search_fts m", ["m.search_fts MATCH :match", *self.where]
            if self.where:  # filters read the narrow rows of search_filter
                source += " JOIN search_filter f ON f.union_id = m.rowid"
        if exact is not None:
            where.append(f"{spelled_count(uid, self.spelled)} = {int(exact)}")
        if doc:  # sorts read search_doc
            source += f" JOIN search_doc d ON d.union_id = {uid}"
        return source + (f" WHERE {' AND '.join(where)}" if where else ""), uid

    def _run(self, sql: str, match: str | None, **extra: Any) -> Any:
        return self.conn.execute(text(sql), {**self.params, "match": match, **extra})

    def count(
        self, match: str | None, at_most: int | None = None, in_exact: int | None = None, **extra: Any
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
        in_exact: int | None = None,
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


def _by_relevance(scope: _Scope, plan: Plan, match: str, total: int, wanted: int) -> list[int]:
    """The ``wanted`` best matches, in the order of catalog.search.ranking. Up to RANK_ALL matches
    are ranked together: each ranking condition in turn, then how many words typed with diacritics
    a record spells the same, then bm25 (title words weigh most). A broader query is ranked bucket
    by bucket in that order, the way Meilisearch's ranking rules work: a bucket of up to RANK_ALL
    records by bm25, a larger one in record order (bm25 over 50,000 matches costs over 100 ms; a
    reader typing "hist" is served the first titles with the word at once)."""
    typo, later = ranking.typo_conditions(plan, match), ranking.later_conditions(plan)
    words = len(plan.exact_words)
    scope.spelled = words
    params = {f"exact_{n}": exact_expression([word]) for n, word in enumerate(plan.exact_words)}
    if total <= RANK_ALL:
        order = [
            f"{{id}} IN (SELECT rowid FROM search_fts WHERE search_fts MATCH :rank_{n}) DESC"
            for n in range(len(typo))
        ]
        if words:
            order.append(f"{spelled_count('{id}', words)} DESC")
        order += [
            f"{{id}} IN (SELECT rowid FROM search_fts WHERE search_fts MATCH :rank_{n}) DESC"
            for n in range(len(typo), len(typo) + len(later))
        ]
        params |= {f"rank_{n}": condition.expression for n, condition in enumerate(typo + later)}
        return scope.ids(match, order + _BY_SCORE, wanted, **params)
    ids: list[int] = []
    for bucket, spelled in ranking.buckets(match, typo, later, words):
        need = wanted - len(ids)
        if need <= 0:
            break
        # Small enough to rank? Counting stops past RANK_ALL, where a full count would go on.
        size = scope.count(bucket, at_most=RANK_ALL, in_exact=spelled, **params)
        if size:
            order = _BY_SCORE if size <= RANK_ALL else _BY_ID
            ids += scope.ids(bucket, order, need, in_exact=spelled, **params)
    return ids


def _count(scope: _Scope, match: str | None, with_codes: bool) -> tuple[int, str | None]:
    """How many records match, and their facet codes when the search has filters and facets."""
    if with_codes and scope.where:
        return scope.summary(match)
    return scope.count(match), None


def _matches(
    scope: _Scope, parsed: ParsedQuery, with_codes: bool
) -> tuple[Plan | None, str | None, int, str | None, str | None, Plan | None]:
    """(matching plan, FTS5 expression, count, facet codes, the corrected query to offer, the plan
    with every word) of a search. A query that finds nothing is tried again with typos allowed in
    shorter words; the corrected query is offered when the words as typed find almost nothing."""
    if parsed.isbn or parsed.issn or parsed.empty:
        match = match_expression(parsed)
        return None, match, *_count(scope, match, with_codes), None, None
    raw = scope.conn.connection.driver_connection
    plan = matching.plan(raw, parsed)
    match = plan.expression()
    total, codes = _count(scope, match, with_codes)
    if not total and len(plan.terms) <= matching.MAX_TYPED_WORDS:
        relaxed = matching.plan(raw, parsed, relaxed=True)
        if relaxed.expression() != match:
            plan, match = relaxed, relaxed.expression()
            total, codes = _count(scope, match, with_codes)
    every_word = plan  # full text is matched with every word (see catalog.search.pages)
    # Meilisearch's words rule: a query that finds nothing with every word is answered without
    # one, the last word tried first.
    for fewer in matching.without_one_word(plan) if not total else []:
        fewer_match = fewer.expression()
        found, fewer_codes = _count(scope, fewer_match, with_codes)
        if found:
            plan, match, total, codes = fewer, fewer_match, found, fewer_codes
            break
    return plan, match, total, codes, _did_you_mean(scope, plan, match, total), every_word


def _did_you_mean(scope: _Scope, plan: Plan, match: str, total: int) -> str | None:
    """The corrected query, when the words as typed find almost nothing: of the likeliest word for
    each and of the same with one word read otherwise, the one that finds the most."""
    amended = plan.amended()
    if not plan.corrected() and not amended:
        return None
    typed = plan.expression(1)
    found = total if typed == match else scope.count(typed, at_most=ALMOST_NOTHING)
    if found >= ALMOST_NOTHING:
        return None
    offered = None
    for candidate in [plan, *amended]:
        corrected = candidate.corrected()
        if corrected:
            count = scope.count(candidate.meant().expression(), at_most=CORRECTION_COUNTED)
            if count > found:
                offered, found = corrected, count
    return offered


def _found_by_text(
    scope: _Scope, match: str | None, total: int, text_plan: Plan, query: SearchQuery
) -> tuple[list[int], page_index.TextMatches]:
    """The records found only by words inside their files that ``query.reader`` may read, passing
    the search's filters, best first; and the pages found (whether more matched than were looked
    at, the first of each object). ``total``: how many records ``match`` finds by their description."""
    found = page_index.find_records(scope.conn, text_plan, query.reader)
    candidates = list(found.scores)
    if not candidates:
        return [], found
    if match and total <= RECORDS_LISTED:  # listing them costs less than looking each candidate up
        described = set(scope.conn.execute(text(SELECT_MATCHES), {"m": match}).scalars())
        candidates = [uid for uid in candidates if uid not in described]
        match = None
    kept: set[int] = set()
    for part in chunks(candidates):
        marks = ",".join(str(int(uid)) for uid in part)
        sql = f"SELECT f.union_id FROM search_filter f WHERE f.union_id IN ({marks})"
        if scope.where:
            sql += " AND " + " AND ".join(scope.where)
        passing = list(scope.conn.execute(text(sql), scope.params).scalars())
        if match and passing:  # the records the words find anyway are ranked with them
            inside = ",".join(str(int(uid)) for uid in passing)
            described = f"{SELECT_MATCHES} AND rowid IN ({inside})"
            passing = sorted(set(passing) - set(scope.conn.execute(text(described), {"m": match}).scalars()))
        kept.update(passing)
    return sorted(kept, key=found.scores.__getitem__), found


def _merged(conn: Connection, ids: list[int], sort: str, wanted: int) -> list[int]:
    """``ids`` (the best records by ``sort`` and those found by their text) in the order of ``sort``."""
    keys = ", ".join(key.format(id="d.union_id", score="0") for key in ORDERS[sort])
    sql = (
        "SELECT d.union_id FROM search_doc d WHERE d.union_id IN (SELECT value FROM json_each(?)) "
        f"ORDER BY {keys} LIMIT ?"
    )
    return [row[0] for row in conn.exec_driver_sql(sql, (orjson.dumps(ids).decode(), wanted)).all()]


def _codes_of(conn: Connection, ids: list[int]) -> str:
    rows = rows_in(conn, "SELECT hex(codes) FROM search_filter WHERE union_id IN ({ids})", ids)
    return "".join(row[0] or "" for row in rows)


class EmbeddedSearchEngine:
    name = "embedded"
    transactional = True

    def __init__(self, catalogue: Engine) -> None:
        self.catalogue = catalogue
        self._blank_facets: tuple[float, dict[str, list[tuple[str, int]]]] | None = None
        # The facet values and typo words a transaction adds (held back, written in order)
        self._additions = AdditionsByTransaction()

    # --------------------------------------------------------------------------------- writing
    def upsert(self, conn: Connection | None, docs: Sequence[dict[str, Any]]) -> None:
        if not docs:
            return
        assert conn is not None, "the embedded engine writes inside the catalogue's transaction"
        raw = conn.connection.driver_connection
        rows = [(d["id"], d.get("index_rows") or index_rows(d)) for d in docs]
        indexed, texts, exacts = _unchanged_text(raw, rows)
        # (deleted and inserted: INSERT OR REPLACE costs SQLite far more, even where nothing is replaced)
        for table, key, kept in (
            ("search_fts", "rowid", texts),
            ("search_exact", "rowid", exacts),
            ("search_doc", "union_id", set()),
            ("search_filter", "union_id", set()),
        ):
            for part in chunks(sorted(indexed - kept)):
                raw.execute(f"DELETE FROM {table} WHERE {key} IN ({','.join('?' * len(part))})", part)
        raw.executemany(
            "INSERT INTO search_fts (rowid, title, authors, subjects, other) VALUES (?, ?, ?, ?, ?)",
            [(uid, *r.fts) for uid, r in rows if uid not in texts],
        )
        raw.executemany(
            "INSERT INTO search_exact (rowid, exact) VALUES (?, ?)",
            [(uid, r.exact) for uid, r in rows if uid not in exacts],
        )
        raw.executemany(
            "INSERT INTO search_doc (union_id, year, title_sort, has_digital, doc) VALUES (?, ?, ?, ?, ?)",
            [(uid, r.year, r.title_sort, r.has_digital, r.payload) for uid, r in rows],
        )
        facet_store.write_filters(raw, [(uid, r.year, r.has_digital, r.codes) for uid, r in rows])
        # the facet values for the dictionary; title, authors and subjects: the words a typo may stand for
        self._additions.of(conn).add(
            conn,
            (entry for _uid, r in rows for entry in r.entries),
            set().union(*(r.words for uid, r in rows if uid not in texts)),
        )
        self._blank_facets = None

    def flush(self, conn: Connection | None) -> None:
        """Write the facet values and typo words held back in ``conn``'s transaction (its commit
        would write them otherwise: this is for a job that times its index)."""
        assert conn is not None, "the embedded engine writes inside the catalogue's transaction"
        self._additions.write(conn)

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

    def indexed_holdings(self, conn: Connection | None, ids: Sequence[int]) -> dict[int, dict[str, int]]:
        assert conn is not None, "the embedded engine reads inside the catalogue's transaction"
        rows = rows_in(conn, "SELECT union_id, doc FROM search_doc WHERE union_id IN ({ids})", ids)
        return {uid: orjson.loads(doc)["holdings"] for uid, doc in rows}

    def add_copies(self, conn: Connection | None, added: Mapping[int, dict[str, int]]) -> set[int]:
        """Only the hit's holdings and the library facet's codes change: the full-text rows, the
        typo words and the other facets' codes stay as they are."""
        assert conn is not None, "the embedded engine writes inside the catalogue's transaction"
        raw = conn.connection.driver_connection
        rows = rows_in(
            conn,
            "SELECT d.union_id, d.doc, f.codes FROM search_doc d JOIN search_filter f "
            "ON f.union_id = d.union_id WHERE d.union_id IN ({ids})",
            sorted(added),
        )
        docs: list[tuple[str, int]] = []
        filters: list[tuple[bytes, int]] = []
        entries: dict[int, tuple[int, str, str]] = {}
        for uid, payload, codes in rows:
            hit = orjson.loads(payload)
            holdings = holdings_fields(plus_copies(hit["holdings"], added[uid]))
            try:
                before, after = LIBRARIES.values_of(hit), LIBRARIES.values_of(holdings)
                packed, new = facet_store.recoded(codes, LIBRARIES.name, before, after)
            except ValueError:  # not as indexed: the whole document is written again
                continue
            docs.append((orjson.dumps(hit | holdings).decode(), uid))
            filters.append((packed, uid))
            entries.update((e[0], e) for e in new)
        raw.executemany("UPDATE search_doc SET doc = ? WHERE union_id = ?", docs)
        raw.executemany("UPDATE search_filter SET codes = ? WHERE union_id = ?", filters)
        self._additions.of(conn).add(conn, entries.values())
        self._blank_facets = None
        return {uid for _doc, uid in docs}

    def index_pages(self, conn: Connection | None, object_id: int, pages: Iterable[tuple[int, str]]) -> None:
        assert conn is not None, "the embedded engine writes inside the catalogue's transaction"
        page_index.index(conn.connection.driver_connection, object_id, pages)

    def unindex_pages(self, conn: Connection | None, object_id: int) -> None:
        assert conn is not None, "the embedded engine writes inside the catalogue's transaction"
        page_index.unindex(conn.connection.driver_connection, object_id)

    def rebuild(self, catalogue: Engine) -> int:
        """Rebuild the whole index (the records', then the pages') in one transaction: readers see
        the old index until it commits."""
        count = 0
        with writing(catalogue) as conn:
            for table in TABLES:
                conn.exec_driver_sql(f"DELETE FROM {table}")
            for ids in docs_module.all_union_ids(conn):
                found, _gone = docs_module.documents(conn, ids)
                self.upsert(conn, found)
                count += len(found)
            page_index.rebuild(conn.connection.driver_connection)
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
        if not match_expression(parsed) and not parsed.empty:
            return SearchResult(0, [], {}, query.page, query.per_page)
        params: dict[str, Any] = {}
        where = self._where(query, params)
        if query.condition is not None:
            condition_match, clauses = embedded_plan(query.condition, params)
            where += clauses
        wanted = query.offset + query.per_page
        with self.catalogue.connect() as conn:
            scope = _Scope(conn, where, params)
            by_text: list[int] = []
            pages = page_index.TextMatches({}, False)
            text_plan = None
            if query.condition is not None:  # a fielded search (SRU): the descriptions only
                plan, match, did_you_mean = None, condition_match, None
                total, codes = _count(scope, match, query.facets)
            else:
                plan, match, total, codes, did_you_mean, every_word = _matches(scope, parsed, query.facets)
                text_plan = every_word if every_word and query.fulltext else None
            if text_plan is not None:
                by_text, pages = _found_by_text(scope, match, total, text_plan, query)
            if match and plan and query.sort == "relevance":
                ids = _by_relevance(scope, plan, match, total, wanted) if total else []
                ids = ids + by_text  # title/author/subject matches rank above the full text's
            elif match and query.sort == "relevance" and total <= RANK_ALL:
                ids = scope.ids(match, _BY_SCORE, wanted)
            else:
                ids = scope.ids(match, ORDERS[query.sort], wanted, doc=query.sort != "relevance")
                if by_text:
                    ids = _merged(conn, ids + by_text, query.sort, wanted)
            ids = ids[query.offset : wanted]
            payloads = dict(
                rows_in(conn, "SELECT union_id, doc FROM search_doc WHERE union_id IN ({ids})", ids)
            )
            facets: dict[str, list[tuple[str, int]]] = {}
            facets_exact = not pages.capped
            if query.facets:
                extra = _codes_of(conn, by_text) if by_text else ""
                facets, exact = self._facets(scope, match, total, query.facet_limit, codes, extra)
                facets_exact = facets_exact and exact
            shown = plan.highlighted(parsed) if plan else parsed
            pages_found = (
                page_index.page_hits(conn, text_plan, ids, query.reader, shown, pages.pages)
                if text_plan
                else {}
            )
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
                        "title": highlight(doc["title"], shown),
                        "authors": highlight(" ; ".join(doc["authors"]), shown),
                    },
                    fulltext=[p.as_dict() for p in pages_found.get(uid, [])],
                )
            )
        return SearchResult(
            total + len(by_text),
            hits,
            facets,
            query.page,
            query.per_page,
            facets_exact,
            did_you_mean=did_you_mean if not by_text else None,
        )

    def _facets(
        self, scope: _Scope, match: str | None, total: int, limit: int, codes: str | None, extra: str = ""
    ) -> tuple[dict[str, list[tuple[str, int]]], bool]:
        """Facet counts of the matches, and whether they are exact. ``codes`` are those of every match
        when the search had filters (see _Scope.summary); without filters a query matching more than
        FACET_SAMPLE records has its counts estimated from FACET_SAMPLE of its matches (as they come).
        ``extra``: the codes of the records found only by their full text, counted with them."""
        if match is None and not scope.where and not extra:
            cached = self._blank_facets
            if cached is None or time.monotonic() - cached[0] >= _BLANK_FACETS_TTL:
                cached = (time.monotonic(), facet_store.count_all(scope.conn, MAX_FACET_LIMIT))
                self._blank_facets = cached
            return {facet: values[:limit] for facet, values in cached[1].items()}, True
        if scope.where:
            values, counts = facet_store.count_hex((codes or "") + extra)
            return facet_store.top_values(scope.conn, values, counts, limit), True
        values, counts = facet_store.count_hex((scope.codes(match, FACET_SAMPLE) or "") + extra)
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
