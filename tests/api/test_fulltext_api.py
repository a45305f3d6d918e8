"""Full-text search through the API and the web page: snippets in the response model and on the page
(escaped, only <mark> is markup), and the text of files read only under their access rule."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from catalog import db
from catalog.digital.objects import add_file, check_file, find_record
from catalog.digital.storage import LocalStorage
from catalog.models import DigitalObject, Library, SourceRecord
from harvest.ingest import ingest_file
from harvest.queue import enqueue_text
from tests.api.test_http import _library, _settings
from tests.conftest import VIETNAMESE
from tests.fulltext_files import write_pdf

OPEN_TEXT = "Chương hai: kỹ thuật trồng rau mầm thủy canh <b>tại nhà</b> và ngoài đồng."
MEMBERS_TEXT = "Phụ lục: rau mầm thủy canh trong nhà kính của trường."


def _deposit(tmp_path: Path, local_id: str, name: str, page: str, access: str) -> int:
    settings = _settings(tmp_path)
    engine = db.make_engine(settings.resolved_database_url)
    pdf = write_pdf(tmp_path / name, ["Trang bìa.", page])
    # A write transaction from the start (the service's worker writes meanwhile): one that read first
    # would be refused at once if the worker committed before it wrote.
    with db.session_scope(engine) as session:
        library = session.exec(select(Library).where(Library.code == "VNU-LIC")).one()
        assert library.id is not None
        record = find_record(session, library.id, local_id)
        obj, _new = add_file(
            session, LocalStorage(settings.digital_dir), record, check_file(pdf, 10**8), name, access=access
        )
        session.flush()
        assert obj.id is not None
        object_id = obj.id
    enqueue_text(engine, library, object_id)
    deadline = time.time() + 60
    while time.time() < deadline:  # the service's own worker runs the text job
        with Session(engine) as session:
            found = session.get(DigitalObject, object_id)
            assert found is not None
            if found.text_status != "pending":
                assert found.text_status == "extracted", found.text_error
                break
        time.sleep(0.2)
    else:
        raise AssertionError("the text job did not run")
    engine.dispose()
    return object_id


def test_search_answers_carry_the_pages_the_requester_may_read(client: TestClient, tmp_path: Path) -> None:
    _library(client, "VNU-LIC")
    member = _library(client, "HUST-LIB")
    engine = db.make_engine(_settings(tmp_path).resolved_database_url)
    ingest_file(engine, "VNU-LIC", VIETNAMESE)
    with Session(engine) as session:
        first, second = session.exec(select(SourceRecord).order_by(SourceRecord.id).limit(2)).all()
    engine.dispose()
    open_id = _deposit(tmp_path, first.local_id, "open.pdf", OPEN_TEXT, "open")
    members_id = _deposit(tmp_path, second.local_id, "members.pdf", MEMBERS_TEXT, "members")

    anonymous = client.get("/api/v1/search", params={"q": "rau mầm thủy canh"})
    assert anonymous.status_code == 200, anonymous.text
    body = anonymous.json()
    assert body["total"] == 1
    [hit] = body["hits"]
    assert hit["id"] == first.union_record_id
    [page] = hit["fulltext"]
    assert page["object"] == open_id and page["page"] == 2
    assert "<mark>rau</mark> <mark>mầm</mark> <mark>thủy</mark> <mark>canh</mark>" in page["snippet"]
    assert "&lt;b&gt;tại nhà&lt;/b&gt;" in page["snippet"] and "<b>" not in page["snippet"]

    as_member = client.get(
        "/api/v1/search", params={"q": "rau mam thuy canh"}, headers={"Authorization": f"Bearer {member}"}
    ).json()
    assert {h["id"] for h in as_member["hits"]} == {first.union_record_id, second.union_record_id}
    shown = {p["object"] for h in as_member["hits"] for p in h["fulltext"]}
    assert shown == {open_id, members_id}

    assert (
        client.get("/api/v1/search", params={"q": "rau mầm thủy canh", "fulltext": "false"}).json()["total"]
        == 0
    )
    filtered = client.get("/api/v1/search", params={"q": "", "has_fulltext": "true"}).json()
    assert {h["id"] for h in filtered["hits"]} == {first.union_record_id, second.union_record_id}
    wrong = client.get("/api/v1/search", params={"q": "x", "fulltext": "maybe"})
    assert wrong.status_code == 422 and wrong.headers["content-type"].startswith("application/problem+json")

    page_html = client.get("/", params={"q": "rau mầm thủy canh", "lang": "vi"}).text
    assert "Toàn văn, trang 2" in page_html
    assert "<mark>thủy</mark> <mark>canh</mark> &lt;b&gt;tại nhà&lt;/b&gt;" in page_html
    assert MEMBERS_TEXT.split(":")[0] not in page_html
    assert 'name="has_fulltext" value="true"' in page_html
    only = client.get("/", params={"q": "", "has_fulltext": "true", "lang": "en"}).text
    assert "Has full text" in only and f'href="/records/{first.union_record_id}?lang=en"' in only
