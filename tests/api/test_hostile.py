"""Hostile inputs, grouped (auth, uploads, compression, XML, JSON, query syntax, OAI arguments, admin
bodies, web): each case is one hostile input, marked ``hostile(GROUP)``, and must never be answered
with a server error. ``bench/hostile_counts.py`` counts them per group."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pymarc import Field, Record, Subfield
from sqlalchemy import text

from catalog import db
from tests.api.test_http import _library, _settings, _wait_job


def hostile(group: str) -> pytest.MarkDecorator:
    return pytest.mark.hostile(group)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    from api.app import create_app

    settings = _settings(tmp_path)
    engine = db.make_engine(settings.resolved_database_url)
    db.upgrade(engine)
    with TestClient(create_app(engine, settings)) as test_client:
        test_client.app_state = test_client.app.state  # type: ignore[attr-defined]
        yield test_client


def marc(local_id: str, title: str, *extra: Field) -> bytes:
    """One ISO 2709 record: ``001`` ``local_id``, a 245 ``title`` and the ``extra`` fields."""
    record = Record(force_utf8=True, leader="     nam a22     7a 4500")
    record.add_field(Field(tag="001", data=local_id))
    record.add_field(Field(tag="245", indicators=["0", "0"], subfields=[Subfield("a", title)]))
    for field in extra:
        record.add_field(field)
    return record.as_marc()


def upload(client: TestClient, code: str, token: str, data: bytes, **params: str) -> dict:  # type: ignore[type-arg]
    answer = client.post(
        f"/api/v1/libraries/{code}/uploads",
        content=data,
        params=params,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 202, answer.text
    return _wait_job(client, answer.headers["location"], token)


def union_id(client: TestClient, code: str, local_id: str) -> int:
    with client.app_state.engine.connect() as conn:  # type: ignore[attr-defined]
        return conn.execute(
            text(
                "SELECT s.union_record_id FROM source_record s JOIN library l ON l.id = s.library_id"
                " WHERE l.code = :code AND s.local_id = :local_id"
            ),
            {"code": code, "local_id": local_id},
        ).scalar_one()


# --- web: stored XSS through 856 $u, security headers ----------------------------------------------

NOT_LINKS = [
    "javascript:alert(document.domain)",
    "JaVaScRiPt:alert(document.cookie)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example/steal",
    'https://ok.example/a b" onmouseover="alert(1)',
]


@hostile("web")
@pytest.mark.parametrize("url", NOT_LINKS)
def test_a_856_url_that_is_not_http_is_shown_as_text_never_as_a_link(client: TestClient, url: str) -> None:
    token = _library(client, "VNU-LIC")
    field = Field(tag="856", indicators=["4", "0"], subfields=[Subfield("u", url), Subfield("z", "Read")])
    good = Field(tag="856", indicators=["4", "0"], subfields=[Subfield("u", "https://ok.example/full")])
    job = upload(client, "VNU-LIC", token, marc("X1", "Sách độc hại", field, good))
    assert job["status"] == "succeeded" and job["added"] == 1, job
    assert job["warnings"] == 1, job
    record_id = union_id(client, "VNU-LIC", "X1")

    page = client.get(f"/records/{record_id}")
    assert page.status_code == 200
    hrefs = re.findall(r'href="([^"]*)"', page.text)
    assert 'href="https://ok.example/full"' in page.text  # a real URL still is a link
    assert all(
        not h.lower().replace("\t", "").startswith(("javascript", "data:", "vbscript", "//")) for h in hrefs
    )
    assert "<script>" not in page.text
    ris = client.get(f"/records/{record_id}/citation.ris").text
    assert "UR  - https://ok.example/full" in ris
    assert [line for line in ris.splitlines() if line.startswith("UR")] == ["UR  - https://ok.example/full"]
    oai = client.get(
        "/oai",
        params={
            "verb": "GetRecord",
            "identifier": f"oai:unioncat:union/{record_id}",
            "metadataPrefix": "oai_dc",
        },
    ).text
    assert "https://ok.example/full" in oai and "script" not in oai.lower().replace("<dc:", "")

    with client.app_state.engine.connect() as conn:  # type: ignore[attr-defined]
        warnings = conn.execute(text("SELECT warnings FROM source_record")).scalar_one()
    assert "not an http(s) or ftp URL" in str(warnings)


PAGES = [
    "/",
    "/?q=%3Cscript%3E",
    "/libraries",
    "/librarian",
    "/records/1",
    "/api/v1/docs",
    "/api/v1/search",
    "/oai?verb=Identify",
]


@hostile("web")
@pytest.mark.parametrize("path", PAGES)
def test_every_answer_carries_the_security_headers(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code < 500
    policy = answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    if answer.headers["content-type"].startswith("text/html"):
        from api.security import inline_hashes

        for tag in ("script", "style"):  # each inline block of a page is allowed by its hash
            for body in re.findall(rf"<{tag}>(.*?)</{tag}>", answer.text, re.DOTALL):
                assert inline_hashes(f"<{tag}>{body}</{tag}>", tag)[0] in policy
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"]
