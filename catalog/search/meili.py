"""The Meilisearch engine (production), through the official ``meilisearch`` client.

Every write is a Meilisearch task; each is awaited and a failed task raises :class:`SearchUnavailable`
with Meilisearch's own message. A rebuild fills a fresh index and swaps it with the live one in one
atomic step, so searches never see an empty or half-built index. Documents carry folded copies of
their text (``*_folded``) so that "dai hoc ha noi" finds "Đại học Hà Nội" whatever Meilisearch's own
normalisation does, while the original text ranks exact spellings first.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import meilisearch
from meilisearch.errors import MeilisearchApiError, MeilisearchCommunicationError, MeilisearchTimeoutError
from sqlalchemy import select
from sqlalchemy.engine import Engine

from catalog.models import DigitalObject, DigitalPage
from catalog.search import documents as docs_module
from catalog.search import facets as registry
from catalog.search import pages as page_index
from catalog.search import typos
from catalog.search.condition import meili_plan
from catalog.search.errors import SearchUnavailable
from catalog.search.query import HIT_FIELDS, Hit, SearchQuery, SearchResult, highlight, parse
from catalog.search.ranking import RANKING_RULES
from catalog.search.vietnamese import i_y_synonyms, repaired_query
from catalog.text import fold

BATCH = 10_000
OBJECT = DigitalObject.__table__  # type: ignore[attr-defined]
PAGE = DigitalPage.__table__  # type: ignore[attr-defined]
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
# The pages of digital objects' text (catalog.search.pages): folded text, the same typo thresholds,
# the same order of ranking rules (without sort: pages are never sorted).
PAGE_SETTINGS: dict[str, Any] = {
    "searchableAttributes": ["text"],
    "filterableAttributes": ["object"],
    "typoTolerance": SETTINGS["typoTolerance"] | {"disableOnAttributes": []},
    "rankingRules": [rule for rule in RANKING_RULES if rule != "sort"],
    "synonyms": SETTINGS["synonyms"],
    "pagination": {"maxTotalHits": page_index.SCAN_PAGES},
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


def page_documents(object_id: int, pages: Iterable[tuple[int, str]]) -> list[dict[str, Any]]:
    """The pages index's documents of an object's pages (those with text)."""
    return [
        {"id": page_index.rowid(object_id, page), "object": object_id, "page": page, "text": fold(text)}
        for page, text in pages
        if text
    ]


def _ids_filter(ids: Sequence[int]) -> str:
    return f"id IN [{', '.join(str(int(i)) for i in ids)}]"


def to_meili(doc: dict[str, Any]) -> dict[str, Any]:
    """The document as sent: the folded text is already in it; the embedded engine's extras are not."""
    return {k: v for k, v in doc.items() if k not in ("other_folded", "exact")}


class MeiliSearchEngine:
    name = "meilisearch"
    transactional = False

    def __init__(
        self,
        url: str,
        key: str | None,
        index: str = "union_records",
        timeout: int = 30,
        catalogue: Engine | None = None,
    ) -> None:
        self.client = meilisearch.Client(url, key, timeout=timeout)
        self.uid = index
        self.pages_uid = f"{index}_pages"
        # The catalogue, where the access rules and the text of pages are read; without it records
        # are not searched by their full text.
        self.catalogue = catalogue
        self._settings_applied = False
        self._page_settings_applied = False

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
        self._ensure(uid, SETTINGS)
        if uid == self.uid:
            self._settings_applied = True

    def ensure_pages_index(self, uid: str | None = None) -> None:
        """The pages index (see PAGE_SETTINGS), created and configured once per process."""
        uid = uid or self.pages_uid
        if uid == self.pages_uid and self._page_settings_applied:
            return
        self._ensure(uid, PAGE_SETTINGS)
        if uid == self.pages_uid:
            self._page_settings_applied = True

    def _ensure(self, uid: str, settings: dict[str, Any]) -> None:
        """Create index ``uid`` if it does not exist, and apply ``settings`` to it."""
        try:
            self.client.get_index(uid)
        except MeilisearchApiError as exc:
            if exc.code != "index_not_found":
                raise SearchUnavailable(f"Meilisearch refused to read index {uid}: {exc.message}") from exc
            self._wait(self._call("create an index", self.client.create_index, uid, {"primaryKey": "id"}))
        except MeilisearchCommunicationError as exc:
            raise SearchUnavailable(f"Meilisearch cannot be reached: {exc}") from exc
        self._wait(self._call("apply settings", self.client.index(uid).update_settings, settings))

    # -------------------------------------------------------------------------------- writing
    def index_pages(
        self, conn: Any, object_id: int, pages: Iterable[tuple[int, str]], uid: str | None = None
    ) -> None:
        docs = page_documents(object_id, pages)
        if not docs:
            return
        self.ensure_pages_index(uid)
        index = self.client.index(uid or self.pages_uid)
        for i in range(0, len(docs), BATCH):
            self._wait(self._call("add pages", index.add_documents, docs[i : i + BATCH], primary_key="id"))

    def unindex_pages(self, conn: Any, object_id: int) -> None:
        self.ensure_pages_index()
        index = self.client.index(self.pages_uid)
        self._wait(self._call("delete pages", index.delete_documents, filter=f"object = {int(object_id)}"))

    def upsert(self, conn: Any, docs: Sequence[dict[str, Any]], uid: str | None = None) -> None:
        if not docs:
            return
        self.ensure_index(uid)
        index = self.client.index(uid or self.uid)
        for i in range(0, len(docs), BATCH):
            batch = [to_meili(d) for d in docs[i : i + BATCH]]
            self._wait(self._call("add documents", index.add_documents, batch, primary_key="id"))

    def flush(self, conn: Any) -> None:
        """Nothing is held back: documents are sent as they come, after the catalogue commits."""

    def delete(self, conn: Any, ids: Sequence[int]) -> None:
        if not ids:
            return
        self.ensure_index()
        index = self.client.index(self.uid)
        for i in range(0, len(ids), BATCH):
            self._wait(
                self._call("delete documents", index.delete_documents, [int(x) for x in ids[i : i + BATCH]])
            )

    # Documents are sent after the catalogue commits, built from it whole (catalog.updates).
    def indexed_holdings(self, conn: Any, ids: Sequence[int]) -> dict[int, dict[str, int]]:
        return {}

    def add_copies(self, conn: Any, added: Mapping[int, dict[str, int]]) -> set[int]:
        return set()

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
        self._rebuild_pages(catalogue)
        return count

    def _rebuild_pages(self, catalogue: Engine) -> None:
        """The pages index filled anew from the catalogue and swapped in, when the catalogue holds
        pages (without any, a page left in the index finds nothing: its object is not readable)."""
        with catalogue.connect() as conn:
            objects = conn.execute(
                select(OBJECT.c.id)
                .where(OBJECT.c.status == "active", OBJECT.c.text_status == "extracted")
                .order_by(OBJECT.c.id)
            ).scalars()
            ids = list(objects)
            if not ids:
                return
            fresh = f"{self.pages_uid}_rebuild_{int(time.time())}"
            self.ensure_pages_index()
            self.ensure_pages_index(fresh)
            for object_id in ids:
                rows = conn.execute(
                    select(PAGE.c.page, PAGE.c.text)
                    .where(PAGE.c.object_id == object_id)
                    .order_by(PAGE.c.page)
                ).all()
                self.index_pages(None, object_id, [(p, t) for p, t in rows], uid=fresh)
        swap = [{"indexes": [self.pages_uid, fresh]}]
        self._wait(self._call("swap indexes", self.client.swap_indexes, swap))
        self._wait(self._call("delete the old index", self.client.delete_index, fresh))

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
        found = response.get("hits", [])
        total = int(response.get("totalHits", response.get("estimatedTotalHits", len(found))))
        distribution = dict(response.get("facetDistribution") or {})
        by_text: list[int] = []
        words = bool(parsed.words) and not (parsed.isbn or parsed.issn)
        use_text = self.catalogue is not None and query.fulltext and words
        if use_text:
            by_text = self._found_by_text(text, query)
            start = max(0, query.offset - total)
            extra = (
                by_text[start : start + query.per_page - len(found)] if len(found) < query.per_page else []
            )
            if extra:
                docs = self.documents(extra)
                found = found + [docs[uid] | {"id": uid} for uid in extra if uid in docs]
            if by_text and query.facets:
                more = self._call(
                    "count facets",
                    self.client.index(self.uid).search,
                    "",
                    {"filter": [_ids_filter(by_text)], "facets": params["facets"], "limit": 0},
                )
                for field, counts in (more.get("facetDistribution") or {}).items():
                    merged = dict(distribution.get(field, {}))
                    for value, count in counts.items():
                        merged[value] = merged.get(value, 0) + count
                    distribution[field] = merged
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
            for h in found
        ]
        if use_text and hits:
            pages = self._page_hits(text, [h.id for h in hits], query, parsed)
            for hit in hits:
                hit.fulltext = [p.as_dict() for p in pages.get(hit.id, [])]
        facets = {}
        if query.facets:
            for facet in registry.COUNTED:
                counted = distribution.get(facet.field, {}).items()
                facets[facet.name] = sorted(counted, key=lambda vc: (-vc[1], vc[0]))[: query.facet_limit]
        return SearchResult(total + len(by_text), hits, facets, query.page, query.per_page)

    def _found_by_text(self, text: str, query: SearchQuery) -> list[int]:
        """The union records found only by words inside the files ``query.reader`` may read, that
        pass the query's filters, best first (see catalog.search.pages for the embedded engine's)."""
        assert self.catalogue is not None
        self.ensure_pages_index()
        response = self._call(
            "search pages",
            self.client.index(self.pages_uid).search,
            text,
            {"limit": page_index.SCAN_PAGES, "attributesToRetrieve": ["id"], "matchingStrategy": "all"},
        )
        best: dict[int, float] = {}
        for rank, hit in enumerate(response.get("hits", [])):
            best.setdefault(page_index.object_of(int(hit["id"])), float(rank))
        if not best:
            return []
        with self.catalogue.connect() as conn:
            scores = page_index.records_of(conn, best, query.reader)
        candidates = sorted(scores, key=scores.__getitem__)
        if not candidates:
            return []
        ids = _ids_filter(candidates)
        listed = {"limit": len(candidates), "attributesToRetrieve": ["id"]}
        matched = self._call("search", self.client.index(self.uid).search, text, {**listed, "filter": [ids]})
        passing = self._call(
            "search", self.client.index(self.uid).search, "", {**listed, "filter": [*filters(query), ids]}
        )
        found = {int(h["id"]) for h in matched.get("hits", [])}
        kept = {int(h["id"]) for h in passing.get("hits", [])}
        return [uid for uid in candidates if uid in kept and uid not in found]

    def _page_hits(
        self, text: str, union_ids: list[int], query: SearchQuery, parsed: Any
    ) -> dict[int, list[page_index.PageHit]]:
        """The best matching pages of the readable files of ``union_ids``, with snippets."""
        assert self.catalogue is not None
        with self.catalogue.connect() as conn:
            objects = page_index.text_objects(conn, union_ids, query.reader)
            if not objects:
                return {}
            union_of = {obj.id: obj.union_id for obj in objects}
            response = self._call(
                "search pages",
                self.client.index(self.pages_uid).search,
                text,
                {
                    "limit": page_index.SNIPPET_PAGES * len(objects),
                    "attributesToRetrieve": ["object", "page"],
                    "matchingStrategy": "all",
                    "filter": [f"object IN [{', '.join(str(o) for o in union_of)}]"],
                },
            )
            best: dict[int, list[tuple[int, int]]] = {}
            for hit in response.get("hits", []):
                uid = union_of.get(int(hit["object"]))
                if uid is not None and len(best.setdefault(uid, [])) < page_index.SNIPPET_PAGES:
                    best[uid].append((int(hit["object"]), int(hit["page"])))
            return page_index.snippets(conn, best, parsed)

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
