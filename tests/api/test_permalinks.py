"""Permalinks and OAI identifiers are never reused: a deleted union record's id is never given again,
its URL answers 410 Gone, and its OAI-PMH tombstone stays."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import text

from catalog import db
from catalog.db import allocate_ids, writing
from tests.api.test_hostile import marc, union_id, upload
from tests.api.test_http import _library
from tests.api.test_oai_provider import OAI, SCHEMA


def test_the_highest_union_record_deleted_its_id_is_never_given_again(client: TestClient) -> None:
    token = _library(client, "VNU-LIC")
    upload(client, "VNU-LIC", token, marc("A", "Truyện Kiều") + marc("B", "Số đỏ"))
    first, highest = union_id(client, "VNU-LIC", "A"), union_id(client, "VNU-LIC", "B")
    assert highest > first
    title = client.get(f"/api/v1/records/{highest}").json()["title"]
    job = upload(client, "VNU-LIC", token, marc("A", "Truyện Kiều"), mode="snapshot")  # B withdrawn
    assert job["deleted"] == 1, job
    upload(client, "VNU-LIC", token, marc("C", "Tắt đèn"))
    new = union_id(client, "VNU-LIC", "C")
    assert new > highest, "a new record took the id of a deleted one"

    gone = client.get(f"/api/v1/records/{highest}")
    assert gone.status_code == 410 and gone.headers["content-type"].startswith("application/problem+json")
    assert "deleted" in gone.json()["detail"] and title not in gone.text
    for path in (f"/api/v1/records/{highest}/export", f"/api/v1/records/{highest}/explain"):
        assert client.get(path).status_code == 410
    page = client.get(f"/records/{highest}", params={"lang": "en"})
    assert page.status_code == 410 and "was deleted" in page.text
    assert client.get(f"/records/{highest}/citation.ris").status_code == 410
    assert client.get("/api/v1/records/999999").status_code == 404  # never existed: not found
    assert client.get("/records/999999").status_code == 404

    answer = client.get(
        "/oai",
        params={
            "verb": "GetRecord",
            "identifier": f"oai:unioncat:union/{highest}",
            "metadataPrefix": "oai_dc",
        },
    )
    root = etree.fromstring(answer.content)
    assert SCHEMA.validate(root), SCHEMA.error_log.last_error
    header = root.find(f"{OAI}GetRecord/{OAI}record/{OAI}header")
    assert header is not None and header.get("status") == "deleted"


def test_ids_continue_after_the_highest_ever_given_on_every_engine(engine) -> None:  # type: ignore[no-untyped-def]
    with writing(engine) as conn:
        first = allocate_ids(conn, "union_record", 3)
        conn.execute(
            text("INSERT INTO union_record (id, member_count, library_count, created_at, updated_at) "
                 "VALUES (:id, 0, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
            [{"id": i} for i in first],
        )  # fmt: skip
    with writing(engine) as conn:
        conn.execute(text("DELETE FROM union_record WHERE id = :id"), {"id": first[-1]})
    with writing(engine) as conn:
        again = allocate_ids(conn, "union_record", 2)
    assert min(again) > max(first) and len(set(again)) == 2


def test_an_existing_catalogue_keeps_its_deleted_ids_through_the_migration(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'catalogue.db'}")
    db.upgrade(engine, "0011")
    with writing(engine) as conn:
        for i in (1, 2, 3):
            conn.execute(
                text("INSERT INTO union_record (id, member_count, library_count, created_at, updated_at) "
                     "VALUES (:id, 0, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                {"id": i},
            )  # fmt: skip
        conn.execute(text("DELETE FROM union_record WHERE id = 3"))  # its tombstone remembers it
    db.upgrade(engine)
    with writing(engine) as conn:
        assert allocate_ids(conn, "union_record", 1) == [4]
        assert conn.execute(text("SELECT count(*) FROM union_tombstone WHERE id = 3")).scalar_one() == 1
    engine.dispose()
