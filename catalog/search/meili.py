"""The Meilisearch engine (production), through the official ``meilisearch`` client.

Every write is a Meilisearch task; each is awaited and a failed task raises :class:`SearchUnavailable`
with Meilisearch's own message. A rebuild fills a fresh index and swaps it with the live one in one
atomic step, so searches never see an empty or half-built index. Documents carry folded copies of
their text (``*_folded``) so that "dai hoc ha noi" finds "Đại học Hà Nội" whatever Meilisearch's own
normalisation does, while the original text ranks exact spellings first.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import meilisearch
from meilisearch.errors import MeilisearchApiError, MeilisearchCommunicationError, MeilisearchTimeoutError
from sqlalchemy.engine import Engine

from catalog.search import documents as docs_module
from catalog.search import facets as registry
from catalog.search import typos
from catalog.search.condition import meili_plan
from catalog.search.errors import SearchUnavailable
from catalog.search.query import HIT_FIELDS, Hit, SearchQuery, SearchResult, highlight, parse
from catalog.search.ranking import RANKING_RULES
from catalog.search.vietnamese import i_y_synonyms, repaired_query

BATCH = 10_000
TASK_TIMEOUT_MS = 10 * 60 * 1000
SETTINGS: dict[str, Any] = {
    "searchableAttributes": [
        "title",
        "title_folded",
        "authors",
        "authors_folded",
        "subjects",
        "subjects_folded",
        "series",
        "publisher_folded",
        "classification",
        "isbns",
        "isbns_as_printed",
        "issns",
    ],
    "filterableAttributes": [*(f.field for f in registry.FILTERS), "year", "id"],
    "sortableAttributes": ["year", "title_sort"],
    "typoTolerance": {
        "disableOnAttributes": ["isbns", "isbns_as_printed", "issns"],
        "disableOnNumbers": True,
        "minWordSizeForTypos": {"oneTypo": typos.ONE_TYPO, "twoTypos": typos.TWO_TYPOS},
    },
    "rankingRules": RANKING_RULES,
    "synonyms": i_y_synonyms(),
    "localizedAttributes": [
        {"attributePatterns": ["title", "subtitle", "authors", "subjects"], "locales": ["vie"]}
    ],
    "faceting": {"maxValuesPerFacet": 200, "sortFacetValuesBy": {"*": "count"}},
    "pagination": {"maxTotalHits": 100_000},
}
SORT = {"relevance": None, "year_desc": ["year:desc"], "year_asc": ["year:asc"], "title": ["title_sort:asc"]}


def filters(query: SearchQuery) -> list[str | list[str]]:
    """The filter as Meilisearch's array form: inner lists are OR, the outer list is AND."""
    out: list[str | list[str]] = []
    for kind in (registry.Kind.TERMS, registry.Kind.INTEGER):
        for facet in registry.FILTERS:
            if facet.kind is kind and (values := facet.chosen(query)):
                out.append(facet.meili_filter(values))
    if query.year_from is not None:
        out.append(f"year >= {int(query.year_from)}")
    if query.year_to is not None:
        out.append(f"year <= {int(query.year_to)}")
    for facet in registry.FILTERS:  # a yes/no filter is one condition, not a choice among values
        if facet.kind is registry.Kind.BOOLEAN and (values := facet.chosen(query)):
            out.extend(facet.meili_filter(values))
    return out


def to_meili(doc: dict[str, Any]) -> dict[str, Any]:
    """The document as sent: the folded text is already in it; the embedded engine's extras are not."""
    return {k: v for k, v in doc.items() if k not in ("other_folded", "exact")}


class MeiliSearchEngine:
    name = "meilisearch"
    transactional = False

    def __init__(self, url: str, key: str | None, index: str = "union_records", timeout: int = 30) -> None:
        self.client = meilisearch.Client(url, key, timeout=timeout)
        self.uid = index
        self._settings_applied = False

    # ---------------------------------------------------------------------------------- tasks
    def _wait(self, task: Any) -> None:
        uid = task.task_uid
        try:
            done = self.client.wait_for_task(uid, timeout_in_ms=TASK_TIMEOUT_MS, interval_in_ms=100)
        except MeilisearchTimeoutError as exc:
            raise SearchUnavailable(f"Meilisearch task {uid} did not finish in time") from exc
        if done.status != "succeeded":
            error = done.error or {}
            raise SearchUnavailable(
                f"Meilisearch task {uid} ({done.type}) {done.status}: "
                f"{error.get('message', 'no message')} [{error.get('code', '?')}]"
            )

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except MeilisearchApiError as exc:
            raise SearchUnavailable(f"Meilisearch refused to {what}: {exc.message} [{exc.code}]") from exc
        except MeilisearchCommunicationError as exc:
            raise SearchUnavailable(f"Meilisearch cannot be reached to {what}: {exc}") from exc

    def ensure_index(self, uid: str | None = None) -> None:
        """Create the index if needed and apply the settings (once per process for the live index)."""
        uid = uid or self.uid
        if uid == self.uid and self._settings_applied:
            return
        try:
            self.client.get_index(uid)
        except MeilisearchApiError as exc:
            if exc.code != "index_not_found":
                raise SearchUnavailable(f"Meilisearch refused to read index {uid}: {exc.message}") from exc
            self._wait(self._call("create an index", self.client.create_index, uid, {"primaryKey": "id"}))
        except MeilisearchCommunicationError as exc:
            raise SearchUnavailable(f"Meilisearch cannot be reached: {exc}") from exc
        self._wait(self._call("apply settings", self.client.index(uid).update_settings, SETTINGS))
        if uid == self.uid:
            self._settings_applied = True

    # -------------------------------------------------------------------------------- writing
    def upsert(self, conn: Any, docs: Sequence[dict[str, Any]], uid: str | None = None) -> None:
        if not docs:
            return
        self.ensure_index(uid)
        index = self.client.index(uid or self.uid)
        for i in range(0, len(docs), BATCH):
            batch = [to_meili(d) for d in docs[i : i + BATCH]]
            self._wait(self._call("add documents", index.add_documents, batch, primary_key="id"))

    def delete(self, conn: Any, ids: Sequence[int]) -> None:
        if not ids:
            return
        self.ensure_index()
        index = self.client.index(self.uid)
        for i in range(0, len(ids), BATCH):
            self._wait(
                self._call("delete documents", index.delete_documents, [int(x) for x in ids[i : i + BATCH]])
            )

    def rebuild(self, catalogue: Engine) -> int:
        """Fill a new index, then swap it with the live one atomically and drop the old one."""
        self.ensure_index()
        fresh = f"{self.uid}_rebuild_{int(time.time())}"
        self.ensure_index(fresh)
        count = 0
        with catalogue.connect() as conn:
            for ids in docs_module.all_union_ids(conn, batch=BATCH):
                found, _gone = docs_module.documents(conn, ids)
                self.upsert(None, found, uid=fresh)
                count += len(found)
        self._wait(self._call("swap indexes", self.client.swap_indexes, [{"indexes": [self.uid, fresh]}]))
        self._wait(self._call("delete the old index", self.client.delete_index, fresh))
        return count

    # -------------------------------------------------------------------------------- reading
    def search(self, query: SearchQuery) -> SearchResult:
        query.validate()
        parsed = parse(query.q)
        text = parsed.isbn or (parsed.issn or "").replace("-", "") or repaired_query(query.q)
        params: dict[str, Any] = {
            "page": query.page,
            "hitsPerPage": query.per_page,
            "filter": filters(query),
            "attributesToRetrieve": ["id", *HIT_FIELDS],
        }
        if parsed.isbn or parsed.issn:
            params["attributesToSearchOn"] = ["isbns", "isbns_as_printed", "issns"]
        if query.condition is not None:  # a fielded search (SRU): see catalog.search.condition
            text, attributes, extra = meili_plan(query.condition)
            params["filter"] = [*params["filter"], *extra]
            if attributes:
                params["attributesToSearchOn"] = attributes
        if SORT[query.sort]:
            params["sort"] = SORT[query.sort]
        if query.facets:
            params["facets"] = [f.field for f in registry.COUNTED]
        self.ensure_index()
        response = self._call("search", self.client.index(self.uid).search, text, params)
        hits = [
            Hit(
                id=int(h["id"]),
                title=h.get("title"),
                authors=h.get("authors") or [],
                year=h.get("year"),
                material_type=h.get("material_type"),
                isbns=[i for i in h.get("isbns") or [] if len(i) == 13],
                libraries=h.get("libraries") or [],
                holdings=h.get("holdings") or {},
                library_count=h.get("library_count") or 0,
                copies=h.get("copies") or 0,
                has_digital=bool(h.get("has_digital")),
                highlight={
                    "title": highlight(h.get("title"), parsed),
                    "authors": highlight(" ; ".join(h.get("authors") or []), parsed),
                },
            )
            for h in response.get("hits", [])
        ]
        distribution = response.get("facetDistribution") or {}
        facets = {}
        if query.facets:
            for facet in registry.COUNTED:
                counted = distribution.get(facet.field, {}).items()
                facets[facet.name] = sorted(counted, key=lambda vc: (-vc[1], vc[0]))[: query.facet_limit]
        total = response.get("totalHits", response.get("estimatedTotalHits", len(hits)))
        return SearchResult(int(total), hits, facets, query.page, query.per_page)

    def count(self) -> int:
        stats = self._call("read index stats", self.client.index(self.uid).get_stats)
        return int(stats.number_of_documents)

    def documents(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        out = {}
        for i in range(0, len(ids), 1000):
            part = [int(x) for x in ids[i : i + 1000]]
            result = self._call(
                "read documents",
                self.client.index(self.uid).get_documents,
                {"filter": f"id IN [{', '.join(map(str, part))}]", "limit": len(part)},
            )
            for doc in result.results:
                data = dict(doc)
                out[int(data["id"])] = data
        return out

    def health(self) -> dict[str, Any]:
        try:
            status = self.client.health()
            return {
                "engine": self.name,
                "status": "ok" if status.get("status") == "available" else "unavailable",
            }
        except Exception as exc:
            return {"engine": self.name, "status": "unavailable", "detail": str(exc)[:200]}
