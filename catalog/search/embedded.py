"""The embedded search engine: SQLite FTS5 inside the catalogue database.

It needs no server, and its index is written in the same transaction as the catalogue, so the two
never disagree after a job. Text is indexed folded (see catalog.text.fold), so "dai hoc ha noi" and
"ĐẠI HỌC HÀ NỘI" are the same words; a column with diacritics kept ranks exact spellings first.
All user input reaches SQL as bound parameters or as quoted FTS5 strings.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

from catalog.db import chunks, rows_in, writing
from catalog.search import documents as docs_module
from catalog.search.query import (
    FACETS,
    HIT_FIELDS,
    Hit,
    ParsedQuery,
    SearchQuery,
    SearchResult,
    highlight,
    parse,
)

BM25 = "bm25(search_fts, 10.0, 4.0, 2.0, 1.0, 0.0)"
TEXT_COLUMNS = "{title authors subjects other}"
_BLANK_FACETS_TTL = 30.0
FACET_SAMPLE = 5000  # facets of a query matching more are counted over this many of its matches


def _quote(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def match_expression(parsed: ParsedQuery) -> str | None:
    """The FTS5 MATCH string for a parsed query (every word quoted: no operator can be injected)."""
    if parsed.isbn:
        return f"other : {_quote(parsed.isbn)}"
    if parsed.issn:
        return f"other : {_quote(parsed.issn.replace('-', ''))}"
    parts = []
    for i, term in enumerate(parsed.terms):
        last = i == len(parsed.terms) - 1
        parts.append(_quote(term) + ("*" if last and parsed.prefix_last else ""))
    parts += [_quote(" ".join(phrase)) for phrase in parsed.phrases]
    if not parts:
        return None
    return f"{TEXT_COLUMNS} : ({' AND '.join(parts)})"


def exact_expression(parsed: ParsedQuery) -> str | None:
    if not parsed.exact_terms:
        return None
    words = [_quote(w) for w in parsed.exact_terms]  # whole words: "hồ" ranks above "hồi"
    return f"exact : ({' AND '.join(words)})"


def _facet_rows(doc: dict[str, Any]) -> list[tuple[str, str, int]]:
    uid = doc["id"]
    rows = [("library", code, uid) for code in doc["libraries"]]
    rows += [("language", code, uid) for code in doc["languages"]]
    if doc["material_type"]:
        rows.append(("material_type", doc["material_type"], uid))
    if doc["decade"]:
        rows.append(("decade", str(doc["decade"]), uid))
    rows += [("subject", s, uid) for s in doc["subjects"]]
    rows += [("author", a, uid) for a in doc["authors"]]
    return list(dict.fromkeys(rows))


def _hit_payload(doc: dict[str, Any]) -> str:
    keep = HIT_FIELDS
    payload = {k: doc[k] for k in keep}
    payload["isbns"] = [i for i in doc["isbns"] if len(i) == 13]
    return orjson.dumps(payload).decode()


class EmbeddedSearchEngine:
    name = "embedded"
    transactional = True

    def __init__(self, catalogue: Engine) -> None:
        self.catalogue = catalogue
        self._blank_facets: tuple[float, dict[str, list[tuple[str, int]]]] | None = None

    # --------------------------------------------------------------------------------- writing
    def upsert(self, conn: Connection | None, docs: Sequence[dict[str, Any]]) -> None:
        if not docs:
            return
        assert conn is not None, "the embedded engine writes inside the catalogue's transaction"
        self.delete(conn, [d["id"] for d in docs])
        raw = conn.connection.driver_connection
        raw.executemany(
            "INSERT INTO search_fts (rowid, title, authors, subjects, other, exact) VALUES (?, ?, ?, ?, ?, ?)",  # noqa: E501
            [
                (
                    d["id"],
                    d["title_folded"],
                    " ; ".join(d["authors_folded"]),
                    " ; ".join(d["subjects_folded"]),
                    d["other_folded"],
                    d["exact"],
                )
                for d in docs
            ],
        )
        raw.executemany(
            "INSERT INTO search_doc (union_id, year, title_sort, has_digital, doc) VALUES (?, ?, ?, ?, ?)",
            [
                (d["id"], d["year"], d["title_sort"] or "", int(d["has_digital"]), _hit_payload(d))
                for d in docs
            ],
        )
        raw.executemany(
            "INSERT OR IGNORE INTO search_facet (facet, value, union_id) VALUES (?, ?, ?)",
            [row for d in docs for row in _facet_rows(d)],
        )
        self._blank_facets = None

    def delete(self, conn: Connection | None, ids: Sequence[int]) -> None:
        if not ids:
            return
        assert conn is not None
        raw = conn.connection.driver_connection
        for part in chunks(list(ids)):
            marks = ",".join("?" * len(part))
            raw.execute(f"DELETE FROM search_fts WHERE rowid IN ({marks})", part)
            raw.execute(f"DELETE FROM search_doc WHERE union_id IN ({marks})", part)
            raw.execute(f"DELETE FROM search_facet WHERE union_id IN ({marks})", part)
        self._blank_facets = None

    def rebuild(self, catalogue: Engine) -> int:
        """Rebuild the whole index in one transaction: readers see the old index until it commits."""
        count = 0
        with writing(catalogue) as conn:
            for table in ("search_fts", "search_doc", "search_facet"):
                conn.exec_driver_sql(f"DELETE FROM {table}")
            for ids in docs_module.all_union_ids(conn):
                found, _gone = docs_module.documents(conn, ids)
                self.upsert(conn, found)
                count += len(found)
        return count

    # --------------------------------------------------------------------------------- reading
    def _where(self, query: SearchQuery, params: dict[str, Any]) -> list[str]:
        clauses = []
        facet_filters = {
            "library": query.libraries,
            "language": query.languages,
            "material_type": query.material_types,
            "subject": query.subjects,
            "author": query.authors,
            "decade": [str(d) for d in query.decades],
        }
        for facet, values in facet_filters.items():
            if not values:
                continue
            names = []
            for n, value in enumerate(values):
                params[f"{facet}_{n}"] = value
                names.append(f":{facet}_{n}")
            params[f"facet_{facet}"] = facet
            clauses.append(
                f"EXISTS (SELECT 1 FROM search_facet f WHERE f.facet = :facet_{facet} "
                f"AND f.value IN ({', '.join(names)}) AND f.union_id = d.union_id)"
            )
        if query.year_from is not None:
            params["year_from"] = query.year_from
            clauses.append("d.year >= :year_from")
        if query.year_to is not None:
            params["year_to"] = query.year_to
            clauses.append("d.year <= :year_to")
        if query.has_digital is not None:
            params["has_digital"] = int(query.has_digital)
            clauses.append("d.has_digital = :has_digital")
        return clauses

    def search(self, query: SearchQuery) -> SearchResult:
        query.validate()
        parsed = parse(query.q)
        params: dict[str, Any] = {}
        match = match_expression(parsed)
        source = "search_doc d"
        score = "0.0"
        if match:
            params["match"] = match
            source = (
                f"(SELECT rowid AS id, {BM25} AS score FROM search_fts WHERE search_fts MATCH :match) m "
                "JOIN search_doc d ON d.union_id = m.id"
            )
            score = "m.score"
        elif not parsed.empty:
            return SearchResult(0, [], {}, query.page, query.per_page)
        where = self._where(query, params)
        where_sql = f" WHERE {' AND '.join(where)}" if where else ""
        exact = exact_expression(parsed)
        order = {
            "relevance": f"{score}, d.union_id",
            "year_desc": "d.year IS NULL, d.year DESC, d.title_sort, d.union_id",
            "year_asc": "d.year IS NULL, d.year ASC, d.title_sort, d.union_id",
            "title": "d.title_sort = '', d.title_sort, d.year, d.union_id",
        }[query.sort]
        if exact and query.sort == "relevance":
            params["exact"] = exact
            order = (
                "d.union_id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH :exact) DESC, " + order
            )
        params.update(limit=query.per_page, offset=query.offset)
        page = "LIMIT :limit OFFSET :offset"
        with self.catalogue.connect() as conn:
            total = conn.execute(text(f"SELECT count(*) FROM {source}{where_sql}"), params).scalar_one()
            rows = conn.execute(
                text(f"SELECT d.union_id, d.doc FROM {source}{where_sql} ORDER BY {order} {page}"),
                params,
            ).all()
            facets = {}
            if query.facets:
                facets = self._facets(
                    conn, source, where_sql, params, query.facet_limit, blank=not match and not where
                )
        hits = []
        for uid, payload in rows:
            doc = orjson.loads(payload)
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
        exact = not facets or (not match and not where) or total <= FACET_SAMPLE
        return SearchResult(total, hits, facets, query.page, query.per_page, facets_exact=exact)

    def _facets(
        self,
        conn: Connection,
        source: str,
        where_sql: str,
        params: dict[str, Any],
        limit: int,
        blank: bool,
    ) -> dict[str, list[tuple[str, int]]]:
        if blank and self._blank_facets and time.monotonic() - self._blank_facets[0] < _BLANK_FACETS_TTL:
            counts = self._blank_facets[1]
        else:
            # Facets are counted over the matches, looked up by union id; for a very broad query over
            # FACET_SAMPLE of its matches (taken as they come: ranking them would cost another pass):
            # exact for every query narrower than that, and fast for the rest.
            if blank:
                sql = "SELECT facet, value, count(*) AS n FROM search_facet GROUP BY facet, value"
            else:
                inner = f"SELECT d.union_id AS id FROM {source}{where_sql} LIMIT {FACET_SAMPLE}"
                sql = (
                    f"SELECT f.facet, f.value, count(*) AS n FROM ({inner}) m "
                    "JOIN search_facet f ON f.union_id = m.id GROUP BY f.facet, f.value"
                )
            grouped: dict[str, list[tuple[str, int]]] = defaultdict(list)
            for facet, value, n in conn.execute(text(sql), {} if blank else params):
                grouped[facet].append((value, n))
            counts = {f: sorted(grouped.get(f, []), key=lambda vc: (-vc[1], vc[0])) for f in FACETS}
            if blank:
                self._blank_facets = (time.monotonic(), counts)
        return {facet: values[:limit] for facet, values in counts.items()}

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
