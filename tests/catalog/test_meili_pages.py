"""The Meilisearch pages index against Meilisearch's documented HTTP contract (the client is
intercepted with ``responses``; the live suite in tests/harvest/test_fulltext_search.py runs when a
server is set): pages are added folded under their object, removed by their object, and configured
with the records' typo thresholds and ranking rules."""

from __future__ import annotations

import json

import responses
from responses import matchers

from catalog.search import pages as page_index
from catalog.search.meili import PAGE_SETTINGS, SETTINGS, MeiliSearchEngine, page_documents
from tests.catalog.test_meili_contract import URL, _done, _task

PAGES = "union_records_pages"


def test_the_pages_index_is_configured_as_the_records_index() -> None:
    assert (
        PAGE_SETTINGS["typoTolerance"]["minWordSizeForTypos"]
        == SETTINGS["typoTolerance"]["minWordSizeForTypos"]
    )
    assert PAGE_SETTINGS["rankingRules"] == [r for r in SETTINGS["rankingRules"] if r != "sort"]
    assert PAGE_SETTINGS["synonyms"] == SETTINGS["synonyms"]


def test_pages_are_indexed_folded_under_their_object_and_removed_by_it() -> None:
    docs = page_documents(12, [(1, "Trồng RAU mầm, thủy canh."), (2, ""), (3, "Kết luận")])
    assert docs == [
        {"id": page_index.rowid(12, 1), "object": 12, "page": 1, "text": "trong rau mam thuy canh"},
        {"id": page_index.rowid(12, 3), "object": 12, "page": 3, "text": "ket luan"},
    ]
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(
            f"{URL}/indexes/{PAGES}",
            json={
                "uid": PAGES,
                "primaryKey": "id",
                "createdAt": "2026-12-07T00:00:00.000000Z",
                "updatedAt": "2026-12-07T00:00:00.000000Z",
            },
        )
        rsps.patch(
            f"{URL}/indexes/{PAGES}/settings",
            json=_task(1, "settingsUpdate", PAGES),
            match=[matchers.json_params_matcher(PAGE_SETTINGS)],
        )
        rsps.get(f"{URL}/tasks/1", json=_done(1, "settingsUpdate"))
        add = rsps.post(
            f"{URL}/indexes/{PAGES}/documents",
            json=_task(2, "documentAdditionOrUpdate", PAGES),
            match=[matchers.query_param_matcher({"primaryKey": "id"})],
        )
        rsps.get(f"{URL}/tasks/2", json=_done(2))
        remove = rsps.post(
            f"{URL}/indexes/{PAGES}/documents/delete", json=_task(3, "documentDeletion", PAGES)
        )
        rsps.get(f"{URL}/tasks/3", json=_done(3, "documentDeletion"))
        engine = MeiliSearchEngine(URL, None)
        engine.index_pages(None, 12, [(1, "Trồng RAU mầm, thủy canh."), (2, ""), (3, "Kết luận")])
        engine.unindex_pages(None, 12)
        assert json.loads(add.calls[0].request.body) == docs
        assert json.loads(remove.calls[0].request.body) == {"filter": "object = 12"}
