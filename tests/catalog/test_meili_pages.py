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


def test_meilisearch_finds_records_by_the_text_of_readable_files_only(tmp_path, sqlite_engine) -> None:  # type: ignore[no-untyped-def]
    """The pages index answers object ids; the catalogue decides who may read them (the same rule
    as the embedded engine), which records pass the filters, and cuts the snippets."""
    from sqlmodel import Session

    from catalog.digital.access import ANONYMOUS, Reader
    from catalog.digital.objects import add_file, check_file
    from catalog.digital.storage import LocalStorage
    from catalog.models import DigitalPage, Library, SourceRecord, UnionRecord
    from catalog.search.query import SearchQuery
    from tests.fulltext_files import write_pdf

    with Session(sqlite_engine) as session:
        library = Library(code="LIB-A", name_vi="Thư viện A")
        session.add(library)
        session.flush()
        union = UnionRecord(title="Five loaves", fields={})
        session.add(union)
        session.flush()
        record = SourceRecord(
            library_id=library.id, local_id="r1", raw_format="marcxml", raw=b"<r/>", checksum="x",
            union_record_id=union.id,
        )  # fmt: skip
        session.add(record)
        session.flush()
        pdf = write_pdf(tmp_path / "a.pdf", ["Bìa", "Trồng rau mầm thủy canh."])
        obj, _new = add_file(
            session,
            LocalStorage(tmp_path / "store"),
            record,
            check_file(pdf, 10**8),
            "a.pdf",
            access="members",
        )
        obj.text_status = "extracted"
        session.add(obj)
        session.add(DigitalPage(object_id=obj.id, page=2, text="Trồng rau mầm thủy canh."))
        session.commit()
        union_id, object_id, library_id = union.id, obj.id, library.id
    assert union_id is not None and object_id is not None

    def search(request):  # type: ignore[no-untyped-def]
        body = json.loads(request.body)
        if request.url.endswith(f"/indexes/{PAGES}/search"):
            hits = [{"id": page_index.rowid(object_id, 2), "object": object_id, "page": 2}]
        elif body.get("filter") and any("id IN" in str(f) for f in body["filter"]) and body.get("q"):
            hits = []  # no record's description holds the words
        elif body.get("filter") and any("id IN" in str(f) for f in body["filter"]):
            hits = [{"id": union_id}]  # it passes the filters
        else:
            hits = []
        return 200, {}, json.dumps({"hits": hits, "totalHits": len(hits), "query": body.get("q", "")})

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        for uid, settings in (("union_records", SETTINGS), (PAGES, PAGE_SETTINGS)):
            rsps.get(
                f"{URL}/indexes/{uid}",
                json={
                    "uid": uid,
                    "primaryKey": "id",
                    "createdAt": "2026-12-07T00:00:00.000000Z",
                    "updatedAt": "2026-12-07T00:00:00.000000Z",
                },
            )
            rsps.patch(
                f"{URL}/indexes/{uid}/settings",
                json=_task(1, "settingsUpdate", uid),
                match=[matchers.json_params_matcher(settings)],
            )
        rsps.get(f"{URL}/tasks/1", json=_done(1, "settingsUpdate"))
        rsps.add_callback(responses.POST, f"{URL}/indexes/union_records/search", callback=search)
        rsps.add_callback(responses.POST, f"{URL}/indexes/{PAGES}/search", callback=search)
        rsps.post(
            f"{URL}/indexes/union_records/documents/fetch",
            json={
                "results": [{"id": union_id, "title": "Five loaves", "authors": []}],
                "offset": 0,
                "limit": 1,
                "total": 1,
            },
        )
        engine = MeiliSearchEngine(URL, None, catalogue=sqlite_engine)
        anonymous = engine.search(SearchQuery(q="rau mầm thủy canh", facets=False))
        assert anonymous.total == 0 and anonymous.hits == []  # a members' file: not even the record
        member = engine.search(
            SearchQuery(q="rau mầm thủy canh", facets=False, reader=Reader(library_id=library_id))
        )
        assert member.total == 1 and [h.id for h in member.hits] == [union_id]
        [page] = member.hits[0].fulltext
        assert page["object"] == object_id and page["page"] == 2
        assert "<mark>rau</mark> <mark>mầm</mark> <mark>thủy</mark> <mark>canh</mark>" in page["snippet"]
        assert (
            engine.search(SearchQuery(q="rau mầm", fulltext=False, facets=False, reader=ANONYMOUS)).total == 0
        )
