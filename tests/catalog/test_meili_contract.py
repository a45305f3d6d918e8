"""The Meilisearch adapter against Meilisearch's documented HTTP contract (the client is intercepted
with ``responses``: no Meilisearch server can be installed here; the live suite runs when one is set)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import responses
from responses import matchers

from catalog.search.documents import with_search_text
from catalog.search.engine import SearchUnavailable
from catalog.search.meili import SETTINGS, MeiliSearchEngine, filters
from catalog.search.query import SearchQuery

URL = "http://meili.test:7700"


def _task(uid: int, kind: str = "documentAdditionOrUpdate", index: str | None = "union_records") -> dict:
    return {
        "taskUid": uid,
        "indexUid": index,
        "status": "enqueued",
        "type": kind,
        "enqueuedAt": "2026-11-22T00:00:00.000000Z",
    }


def _done(
    uid: int, kind: str = "documentAdditionOrUpdate", status: str = "succeeded", error: dict | None = None
) -> dict:
    return {
        "uid": uid,
        "indexUid": "union_records",
        "status": status,
        "type": kind,
        "details": {},
        "error": error,
        "duration": "PT0.1S",
        "enqueuedAt": "2026-11-22T00:00:00.000000Z",
        "startedAt": "2026-11-22T00:00:00.000000Z",
        "finishedAt": "2026-11-22T00:00:01.000000Z",
    }


def _index_exists(rsps: responses.RequestsMock, uid: str = "union_records") -> None:
    rsps.get(
        f"{URL}/indexes/{uid}",
        json={
            "uid": uid,
            "primaryKey": "id",
            "createdAt": "2026-11-22T00:00:00.000000Z",
            "updatedAt": "2026-11-22T00:00:00.000000Z",
        },
    )
    rsps.patch(
        f"{URL}/indexes/{uid}/settings",
        json=_task(1, "settingsUpdate", uid),
        match=[matchers.json_params_matcher(SETTINGS)],
    )
    rsps.get(f"{URL}/tasks/1", json=_done(1, "settingsUpdate"))


DOC = {
    "id": 7,
    "title": "Đại học Quốc gia Hà Nội : lịch sử",
    "subtitle": "lịch sử",
    "authors": ["Nguyễn, Văn An"],
    "subjects": ["Giáo dục đại học -- Việt Nam"],
    "publisher": "Nhà xuất bản Đại học Quốc gia Hà Nội",
    "year": 2006,
    "decade": 2000,
    "languages": ["vie"],
    "material_type": "book",
    "series": [],
    "isbns": ["9786046200000"],
    "issns": [],
    "classification": ["378.597"],
    "libraries": ["HUST-LIB", "VNU-LIC"],
    "library_count": 2,
    "copies": 3,
    "has_digital": False,
    "title_sort": "dai hoc quoc gia ha noi",
}


@responses.activate
def test_index_created_with_settings_then_documents_added() -> None:
    responses.get(
        f"{URL}/indexes/union_records",
        status=404,
        json={
            "message": "Index `union_records` not found.",
            "code": "index_not_found",
            "type": "invalid_request",
            "link": "https://docs.meilisearch.com/errors#index_not_found",
        },
    )
    responses.post(
        f"{URL}/indexes",
        json=_task(1, "indexCreation"),
        match=[matchers.json_params_matcher({"uid": "union_records", "primaryKey": "id"})],
    )
    responses.get(f"{URL}/tasks/1", json=_done(1, "indexCreation"))
    responses.patch(
        f"{URL}/indexes/union_records/settings",
        json=_task(2, "settingsUpdate"),
        match=[matchers.json_params_matcher(SETTINGS)],
    )
    responses.get(f"{URL}/tasks/2", json=_done(2, "settingsUpdate"))
    add = responses.post(
        f"{URL}/indexes/union_records/documents",
        json=_task(3),
        match=[matchers.query_param_matcher({"primaryKey": "id"})],
    )
    responses.get(f"{URL}/tasks/3", json=_done(3))
    engine = MeiliSearchEngine(URL, "master-key")
    engine.upsert(None, [with_search_text(dict(DOC))])
    sent = json.loads(add.calls[0].request.body)
    assert sent[0]["id"] == 7 and sent[0]["title"] == DOC["title"]
    assert (
        sent[0]["title_folded"] == "dai hoc quoc gia ha noi lich su"
    )  # the subtitle, shown in the title, once
    assert sent[0]["authors_folded"] == ["nguyen van an"]
    assert "exact" not in sent[0] and "other_folded" not in sent[0]  # the embedded engine's own columns
    assert add.calls[0].request.headers["Authorization"] == "Bearer master-key"
    settings = SETTINGS
    assert settings["typoTolerance"]["disableOnAttributes"] == ["isbns", "isbns_as_printed", "issns"]
    assert settings["localizedAttributes"][0]["locales"] == ["vie"]
    assert "libraries" in settings["filterableAttributes"] and "year" in settings["sortableAttributes"]


@responses.activate
def test_failed_task_is_an_error_with_meilisearchs_message() -> None:
    _index_exists(responses)
    responses.post(f"{URL}/indexes/union_records/documents", json=_task(5))
    responses.get(
        f"{URL}/tasks/5",
        json=_done(
            5,
            status="failed",
            error={
                "message": "The primary key is missing",
                "code": "missing_document_id",
                "type": "invalid_request",
                "link": "",
            },
        ),
    )
    with pytest.raises(SearchUnavailable, match="failed: The primary key is missing"):
        MeiliSearchEngine(URL, None).upsert(None, [DOC])


@responses.activate
def test_deletions_are_propagated() -> None:
    _index_exists(responses)
    delete = responses.post(
        f"{URL}/indexes/union_records/documents/delete-batch",
        json=_task(6, "documentDeletion"),
        match=[matchers.json_params_matcher(["3", "4"])],
    )
    responses.get(f"{URL}/tasks/6", json=_done(6, "documentDeletion"))
    MeiliSearchEngine(URL, None).delete(None, [3, 4])
    assert len(delete.calls) == 1


@responses.activate
def test_search_request_and_response() -> None:
    _index_exists(responses)
    search = responses.post(
        f"{URL}/indexes/union_records/search",
        json={
            "hits": [
                {
                    k: DOC[k]
                    for k in (
                        "id",
                        "title",
                        "authors",
                        "year",
                        "material_type",
                        "isbns",
                        "libraries",
                        "library_count",
                        "copies",
                        "has_digital",
                    )
                }
            ],
            "query": "dai hoc",
            "processingTimeMs": 1,
            "hitsPerPage": 10,
            "page": 2,
            "totalPages": 5,
            "totalHits": 41,
            "facetDistribution": {"libraries": {"VNU-LIC": 30, "HUST-LIB": 20}, "languages": {"vie": 41}},
        },
    )
    engine = MeiliSearchEngine(URL, None)
    result = engine.search(
        SearchQuery(
            q="dai hoc",
            libraries=["VNU-LIC", 'X" OR 1=1 OR "'],
            year_from=1990,
            year_to=2010,
            has_digital=False,
            sort="year_desc",
            page=2,
            per_page=10,
        )
    )
    body = json.loads(search.calls[0].request.body)
    assert body["q"] == "dai hoc" and body["page"] == 2 and body["hitsPerPage"] == 10
    assert body["sort"] == ["year:desc"]
    assert body["filter"] == [
        ['libraries = "VNU-LIC"', 'libraries = "X\\" OR 1=1 OR \\""'],
        "year >= 1990",
        "year <= 2010",
        "has_digital = false",
    ]
    assert set(body["facets"]) == {"libraries", "languages", "material_type", "decade", "subjects", "authors"}
    assert result.total == 41 and result.hits[0].id == 7
    assert result.hits[0].highlight["title"].startswith("<mark>Đại</mark> <mark>học</mark>")
    assert result.facets["library"] == [("VNU-LIC", 30), ("HUST-LIB", 20)]


@responses.activate
def test_isbn_search_looks_in_identifier_attributes_only() -> None:
    _index_exists(responses)
    search = responses.post(
        f"{URL}/indexes/union_records/search",
        json={"hits": [], "totalHits": 0, "page": 1, "hitsPerPage": 20, "totalPages": 0},
    )
    MeiliSearchEngine(URL, None).search(SearchQuery(q="1-888375-15-9", facets=False))
    body = json.loads(search.calls[0].request.body)
    assert body["q"] == "9781888375152"
    assert body["attributesToSearchOn"] == ["isbns", "isbns_as_printed", "issns"]


@responses.activate
def test_rebuild_fills_a_new_index_and_swaps_it_in(sqlite_engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from catalog.db import session_scope
    from catalog.libraries import add_library
    from harvest.ingest import ingest_file
    from tests.conftest import fixture

    with session_scope(sqlite_engine) as session:
        add_library(session, "VNU-LIC", "VNU")
    ingest_file(sqlite_engine, "VNU-LIC", fixture("marc.dat"))
    _index_exists(responses)
    fresh = re.compile(rf"{URL}/indexes/union_records_rebuild_\d+$")
    responses.get(
        fresh,
        status=404,
        json={"message": "not found", "code": "index_not_found", "type": "invalid_request", "link": ""},
    )
    responses.post(f"{URL}/indexes", json=_task(2, "indexCreation"))
    responses.get(f"{URL}/tasks/2", json=_done(2, "indexCreation"))
    responses.patch(
        re.compile(rf"{URL}/indexes/union_records_rebuild_\d+/settings"), json=_task(3, "settingsUpdate")
    )
    responses.get(f"{URL}/tasks/3", json=_done(3, "settingsUpdate"))
    add = responses.post(re.compile(rf"{URL}/indexes/union_records_rebuild_\d+/documents"), json=_task(4))
    responses.get(f"{URL}/tasks/4", json=_done(4))
    swap = responses.post(f"{URL}/swap-indexes", json=_task(5, "indexSwap", None))
    responses.get(f"{URL}/tasks/5", json=_done(5, "indexSwap"))
    drop = responses.delete(fresh, json=_task(6, "indexDeletion"))
    responses.get(f"{URL}/tasks/6", json=_done(6, "indexDeletion"))
    count = MeiliSearchEngine(URL, None).rebuild(sqlite_engine)
    assert count == 20 and len(json.loads(add.calls[0].request.body)) == 20
    [pair] = json.loads(swap.calls[0].request.body)
    assert pair["indexes"][0] == "union_records" and pair["indexes"][1].startswith("union_records_rebuild_")
    assert len(drop.calls) == 1
    # the swap came after every document was in, and the live index was never emptied
    order = [c.request.url for c in responses.calls]
    assert order.index(swap.calls[0].request.url) > order.index(add.calls[0].request.url)
    assert not any(
        c.request.method == "DELETE" and c.request.url.endswith("/indexes/union_records")
        for c in responses.calls
    )


@responses.activate
def test_health_and_unreachable_server() -> None:
    responses.get(f"{URL}/health", json={"status": "available"})
    assert MeiliSearchEngine(URL, None).health()["status"] == "ok"
    engine = MeiliSearchEngine("http://127.0.0.1:9", None, timeout=1)
    assert engine.health()["status"] == "unavailable"


def test_filter_values_are_escaped() -> None:
    hostile = ['a"b', "c\\", '") OR (1 = 1']
    built = filters(SearchQuery(subjects=hostile, authors=["x"], decades=[1990]))
    assert built[0] == ['subjects = "a\\"b"', 'subjects = "c\\\\"', 'subjects = "\\") OR (1 = 1"']
    assert built[1] == ['authors = "x"'] and built[2] == ["decade = 1990"]
