"""Hostile inputs, grouped (auth, uploads, compression, XML, JSON, query syntax, OAI arguments, admin
bodies, web): each case is one hostile input, marked ``hostile(GROUP)``, and must never be answered
with a server error. ``bench/hostile_counts.py`` counts them per group."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import etree
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


# --- OAI arguments: every bad argument is an OAI error in a schema-valid answer ---------------------

OAI_ARGUMENTS = [
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "until": "9999-12-31"},
    {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "until": "9999-12-31T23:59:59Z"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "0001-01-01", "until": "9999-12-31"},
    {"verb": "Identify\x01"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc\x0b"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "union\x00"},
    {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:unioncat:union/1\x1b"},
    {"verb": "ListRecords", "resumptionToken": "\x02\x03"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2026-01-01\x7f"},
    {
        "verb": "GetRecord",
        "metadataPrefix": "oai_dc",
        "identifier": "oai:unioncat:union/99999999999999999999999",
    },
    {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:unioncat:union/-1"},
    {"verb": "ListMetadataFormats", "identifier": "oai:unioncat:union/99999999999999999999999"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "source:"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "source:NO SUCH"},
    {"verb": "ListRecords", "metadataPrefix": "marc 21"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "nowhere"},
]


@hostile("oai")
@pytest.mark.parametrize("params", OAI_ARGUMENTS)
def test_a_bad_oai_argument_is_an_oai_error(client: TestClient, params: dict[str, str]) -> None:
    from tests.api.test_oai_provider import OAI, SCHEMA

    answer = client.get("/oai", params=params)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/xml"), answer.text
    root = etree.fromstring(answer.content)
    assert SCHEMA.validate(root), SCHEMA.error_log.last_error
    error = root.find(f"{OAI}error")
    assert error is not None or root.find(f"{OAI}ListRecords") is not None, answer.text
    assert all(ord(ch) >= 0x20 or ch in "\t\n\r" for ch in answer.text)


def _token(client: TestClient) -> str:
    from tests.api.test_oai_provider import OAI

    token = _library(client, "VNU-LIC")
    records = b"".join(marc(f"T{i}", f"Sách {i}") for i in range(12))
    upload(client, "VNU-LIC", token, records)
    client.app_state.oai.page_size = 5  # type: ignore[attr-defined]
    root = etree.fromstring(
        client.get("/oai", params={"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"}).content
    )
    found = root.find(f"{OAI}ListIdentifiers/{OAI}resumptionToken")
    assert found is not None and found.text
    return found.text


def _forge(real: str, **changes: object) -> list[str]:
    import base64
    import json

    payload, _, _signature = real.partition(".")
    state = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    state.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")
    return [forged, f"{forged}.{_signature}", f"{forged}.AAAA"]


FORGERIES = [
    {"after": 10**30},
    {"after": 0, "cursor": 0},
    {"from": "garbage"},
    {"until": "9999-12-31T23:59:59+00:00x"},
    {"total": "many", "cursor": [1]},
    {"kind": "source", "after": -5},
    {"prefix": "marc21", "set": "source:"},
]


@hostile("oai")
@pytest.mark.parametrize("changes", FORGERIES)
def test_a_forged_resumption_token_is_a_bad_resumption_token(client: TestClient, changes: dict) -> None:  # type: ignore[type-arg]
    from tests.api.test_oai_provider import OAI, SCHEMA

    real = _token(client)
    for forged in _forge(real, **changes):
        answer = client.get("/oai", params={"verb": "ListIdentifiers", "resumptionToken": forged})
        assert answer.status_code == 200, answer.text
        root = etree.fromstring(answer.content)
        assert SCHEMA.validate(root), SCHEMA.error_log.last_error
        error = root.find(f"{OAI}error")
        assert error is not None and error.get("code") == "badResumptionToken", answer.text
    good = client.get("/oai", params={"verb": "ListIdentifiers", "resumptionToken": real})
    assert etree.fromstring(good.content).find(f"{OAI}error") is None  # the real one still resumes


# --- auth: ids past any integer, other libraries' jobs ---------------------------------------------

HUGE_IDS = ["99999999999999999999", "9223372036854775808", "2147483648", "0", "-1"]


@hostile("auth")
@pytest.mark.parametrize("job_id", HUGE_IDS)
def test_a_job_number_past_any_integer_is_not_found(client: TestClient, job_id: str) -> None:
    token = _library(client, "VNU-LIC")
    login = client.post("/librarian/login", data={"token": token}, follow_redirects=False)
    assert login.status_code == 303
    page = client.get(f"/librarian/jobs/{job_id}")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    api = client.get(f"/api/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code in (404, 422) and api.headers["content-type"].startswith(
        "application/problem+json"
    )
