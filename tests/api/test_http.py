"""The HTTP API: the whole flow through a real server on 127.0.0.1, authorisation, problem details."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from pymarc import MARCReader, parse_xml_to_array

from bench.measure import app_served
from catalog import db
from catalog.settings import Settings
from tests.conftest import KOHA, VIETNAMESE, fixture

ADMIN = "admin-secret-for-tests"


def _settings(tmp_path: Path, **extra: object) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'data' / 'unioncat.db'}",
        admin_token=ADMIN,
        **extra,  # type: ignore[arg-type]
    )


def _admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN}"}


def _library(client: TestClient, code: str, **extra: object) -> str:
    created = client.post(
        "/api/v1/libraries", json={"code": code, "name_vi": f"Thư viện {code}", **extra}, headers=_admin()
    )
    assert created.status_code == 201, created.text
    token = client.post(f"/api/v1/libraries/{code}/tokens", params={"name": "tests"}, headers=_admin())
    assert token.status_code == 201
    return token.json()["token"]


def _wait_job(client, url: str, token: str, timeout: float = 60) -> dict:  # type: ignore[no-untyped-def]
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = client.get(url, headers={"Authorization": f"Bearer {token}"}).json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {url} did not finish")


def _problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert "Traceback" not in response.text
    return body


def test_authorisation_matrix(client: TestClient) -> None:
    vnu = _library(client, "VNU-LIC")
    hust = _library(client, "HUST-LIB")
    data = VIETNAMESE.read_bytes()
    url = "/api/v1/libraries/VNU-LIC/uploads"
    _problem(client.post(url, content=data), 401)
    _problem(client.post(url, content=data, headers={"Authorization": "Bearer nonsense"}), 401)
    _problem(client.post(url, content=data, headers={"Authorization": f"Bearer {hust}"}), 403)
    _problem(
        client.post(
            "/api/v1/libraries",
            json={"code": "X-LIB", "name_vi": "x"},
            headers={"Authorization": f"Bearer {vnu}"},
        ),
        403,
    )
    # nothing was changed by the refused requests
    assert client.get("/api/v1/libraries/VNU-LIC").json()["records"] == 0
    accepted = client.post(url, content=data, headers={"Authorization": f"Bearer {vnu}"})
    assert accepted.status_code == 202
    # the admin may upload for any library
    assert (
        client.post("/api/v1/libraries/HUST-LIB/uploads", content=data, headers=_admin()).status_code == 202
    )
    # another library's job is not visible, nor whose it is
    hidden = _problem(
        client.get(accepted.headers["location"], headers={"Authorization": f"Bearer {hust}"}), 404
    )
    assert "VNU-LIC" not in json.dumps(hidden)
    # a revoked token is refused
    tokens = client.get("/api/v1/tokens", headers=_admin()).json()
    vnu_token = next(t for t in tokens if t["library"] == "VNU-LIC")
    assert "token" not in vnu_token and vnu_token["prefix"] == vnu[:10]
    assert client.delete(f"/api/v1/tokens/{vnu_token['id']}", headers=_admin()).json()["revoked"]
    _problem(client.post(url, content=data, headers={"Authorization": f"Bearer {vnu}"}), 401)
    _problem(
        client.post("/api/v1/libraries", json={"code": "VNU-LIC", "name_vi": "again"}, headers=_admin()), 409
    )


def test_problem_details_and_validation(client: TestClient) -> None:
    _problem(client.get("/api/v1/records/999999"), 404)
    _problem(client.get("/api/v1/libraries/NOPE"), 404)
    body = _problem(client.get("/api/v1/search", params={"per_page": 1000}), 422)
    assert "per_page" in body["detail"]
    _problem(
        client.get("/api/v1/search", params={"q": "x" * 10_001}), 422
    )  # a query is searched by its start up to 10,000
    _problem(client.get("/api/v1/search", params={"sort": "sideways"}), 422)
    _problem(client.get("/api/v1/holdings", params={"isbn": "123"}), 422)
    _problem(client.get("/api/v1/holdings"), 422)
    _problem(client.get("/api/v1/nowhere"), 404)


def test_bad_uploads_end_as_failed_jobs_or_clear_refusals(tmp_path: Path) -> None:
    from api.app import create_app

    settings = _settings(tmp_path, max_upload_bytes=100_000)
    engine = db.make_engine(settings.resolved_database_url)
    db.upgrade(engine)
    with TestClient(create_app(engine, settings)) as client:
        token = _library(client, "VNU-LIC")
        auth = {"Authorization": f"Bearer {token}"}
        junk = client.post(
            "/api/v1/libraries/VNU-LIC/uploads", content=b"%PDF-1.4 this is a report", headers=auth
        )
        assert junk.status_code == 202
        job = _wait_job(client, junk.headers["location"], token)
        assert job["status"] == "failed" and "not a MARC file" in job["error"]
        _problem(
            client.post("/api/v1/libraries/VNU-LIC/uploads", content=VIETNAMESE.read_bytes(), headers=auth),
            413,
        )
        _problem(client.post("/api/v1/libraries/VNU-LIC/uploads", content=b"", headers=auth), 422)
        _problem(
            client.post(
                "/api/v1/libraries/VNU-LIC/uploads", params={"mode": "replace"}, content=b"x", headers=auth
            ),
            422,
        )
        assert not list((tmp_path / "data" / "uploads").glob("incoming-*"))  # nothing half-written left


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    from api.app import create_app

    settings = _settings(tmp_path)
    engine = db.make_engine(settings.resolved_database_url)
    db.upgrade(engine)
    with app_served(create_app(engine, settings)) as url:
        yield url


def test_whole_flow_through_a_real_server(server: str) -> None:
    with httpx.Client(base_url=server, timeout=30) as http:
        token = _library(
            http, "VNU-LIC", city="Hà Nội", opac_url_pattern="https://opac.vnu.edu.vn/record/{id}"
        )  # type: ignore[arg-type]
        koha_token = _library(http, "TNU-LRC", holdings_profile="koha")  # type: ignore[arg-type]
        with open(VIETNAMESE, "rb") as fh:
            upload = http.post(
                "/api/v1/libraries/VNU-LIC/uploads",
                params={"mode": "snapshot"},
                files={"file": ("vietnamese.mrc", fh, "application/marc")},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert upload.status_code == 202 and upload.headers["location"] == upload.json()["url"]
        job = _wait_job(http, upload.headers["location"], token)
        assert (job["status"], job["read"], job["added"], job["mode"]) == ("succeeded", 529, 529, "snapshot")
        koha = http.post(
            "/api/v1/libraries/TNU-LRC/uploads",
            content=KOHA.read_bytes(),
            headers={"Authorization": f"Bearer {koha_token}"},
        )
        assert _wait_job(http, koha.headers["location"], koha_token)["added"] == 436
        # search finds it, across libraries, with the holding libraries named
        found = http.get("/api/v1/search", params={"q": "path of emancipation"}).json()
        hit = found["hits"][0]
        assert hit["libraries"] == [{"code": "VNU-LIC", "name": "Thư viện VNU-LIC", "copies": 1}]
        assert set(found["facets"]) == {"library", "language", "material_type", "decade", "subject", "author"}
        # holdings lookup by ISBN-10 with hyphens
        held = http.get("/api/v1/holdings", params={"isbn": "1-888375-15-9"}).json()
        [record] = held["records"]
        [library] = record["libraries"]
        assert (
            library["code"] == "VNU-LIC" and library["opac_url"] == "https://opac.vnu.edu.vn/record/00038496"
        )
        assert library["items"][0]["call_number"] == "BQ5675 .N43 2000"
        koha_held = http.get("/api/v1/holdings", params={"isbn": "9780670026623"}).json()
        assert koha_held["records"][0]["libraries"][0]["items"][0]["barcode"] == "3999900000001"
        # the union record and its exports round-trip through pymarc
        union = http.get(f"/api/v1/records/{hit['id']}").json()
        explained = http.get(f"/api/v1/records/{hit['id']}/explain").json()
        assert explained["members"] == [{"library": "VNU-LIC", "local_id": "00038496", "title": hit["title"]}]
        _problem(http.get("/api/v1/records/99999/explain"), 404)
        assert union["members"][0]["local_id"] == "00038496"
        raw = http.get("/api/v1/libraries/VNU-LIC/records/00038496/export").content
        assert raw in VIETNAMESE.read_bytes()  # byte for byte as received
        original = next(MARCReader(raw, to_unicode=True, force_utf8=True))
        as_xml = parse_xml_to_array(
            io.BytesIO(
                http.get(
                    "/api/v1/libraries/VNU-LIC/records/00038496/export", params={"format": "marcxml"}
                ).content
            )
        )[0]
        as_json = json.loads(
            http.get(
                "/api/v1/libraries/VNU-LIC/records/00038496/export", params={"format": "marcjson"}
            ).content
        )
        assert as_xml["245"].value() == original["245"].value()
        assert as_json["fields"][0] == {"001": original["001"].data}
        merged = next(
            MARCReader(http.get(f"/api/v1/records/{hit['id']}/export", params={"format": "iso2709"}).content)
        )
        assert merged["001"].data == f"union-{hit['id']}"
        assert merged["245"]["a"] == original["245"]["a"]
        assert "(VNU-LIC)00038496" in [f["a"] for f in merged.get_fields("035")]
        merged_xml = parse_xml_to_array(io.BytesIO(http.get(f"/api/v1/records/{hit['id']}/export").content))[
            0
        ]
        assert merged_xml["020"]["a"] == original["020"]["a"]
        # jobs, rejections, library history
        auth = {"Authorization": f"Bearer {token}"}
        bad = http.post(
            "/api/v1/libraries/VNU-LIC/uploads", content=fixture("bad_records.mrc").read_bytes(), headers=auth
        )
        bad_job = _wait_job(http, bad.headers["location"], token)
        assert bad_job["rejected"] == 9
        page = http.get(
            f"{bad.headers['location']}/rejections", params={"per_page": 5, "page": 2}, headers=auth
        ).json()
        assert page["total"] == 9 and [r["record_number"] for r in page["rejections"]] == [6, 7, 8, 9]
        history = http.get("/api/v1/libraries/VNU-LIC/jobs", headers=auth).json()
        assert [j["job_id"] for j in history][:2] == [bad_job["job_id"], job["job_id"]]
        libraries = http.get("/api/v1/libraries").json()
        assert {lib["code"]: lib["records"] for lib in libraries} == {"TNU-LRC": 436, "VNU-LIC": 529}
        health = http.get("/health").json()
        assert health["status"] == "ok" and health["search"]["documents"] == 965
        admin = {"Authorization": f"Bearer {ADMIN}"}
        for kind in ("reindex", "dedup-rebuild"):  # jobs of the workers: 202 and the job's URL
            queued = http.post(f"/api/v1/admin/{kind}", headers=admin)
            assert queued.status_code == 202 and queued.headers["location"] == queued.json()["url"]
            done = _wait_job(http, queued.headers["location"], ADMIN)
            assert (done["status"], done["source"], done["library"], done["read"]) == (
                "succeeded",
                kind,
                None,
                965,
            )
            _problem(http.get(queued.headers["location"], headers=auth), 404)  # an admin's job
        _problem(http.post("/api/v1/admin/reindex", headers=auth), 403)


def test_web_page_marks_estimated_facet_counts(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from catalog.search import embedded
    from harvest.ingest import ingest_file

    _library(client, "VNU-LIC")
    engine = db.make_engine(_settings(tmp_path).resolved_database_url)
    ingest_file(engine, "VNU-LIC", VIETNAMESE)
    exact = client.get("/", params={"q": "viet nam", "lang": "en"})
    assert exact.status_code == 200 and "(≈" not in exact.text and "estimated" not in exact.text
    monkeypatch.setattr(embedded, "FACET_SAMPLE", 5)  # "viet nam" is now a broad query
    broad = client.get("/", params={"q": "viet nam", "lang": "en"})
    assert "(≈" in broad.text and "counts estimated from a sample of the results" in broad.text
    api = client.get("/api/v1/search", params={"q": "viet nam"}).json()
    assert api["facets_exact"] is False and api["total"] > 5
    engine.dispose()


def test_web_page_names_coded_values_in_the_readers_language(client: TestClient, tmp_path: Path) -> None:
    import re

    from harvest.ingest import ingest_file

    _library(client, "VNU-LIC")
    engine = db.make_engine(_settings(tmp_path).resolved_database_url)
    ingest_file(engine, "VNU-LIC", VIETNAMESE)
    engine.dispose()
    page = client.get("/", params={"q": "viet nam", "lang": "vi"}).text
    # the checkbox keeps the code; its label is the name
    assert re.search(r'name="language" value="vie"[^>]*>\s*Tiếng Việt <span class="count">', page)
    assert re.search(r'name="material_type" value="book"[^>]*>\s*Sách <span class="count">', page)
    assert re.search(r'name="decade" value="1990"[^>]*>\s*1990–1999 <span class="count">', page)
    assert "Có tại 1 thư viện:" in page and "· Sách</div>" in page
    english = client.get("/", params={"q": "viet nam", "lang": "en"}).text
    assert re.search(r'value="vie"[^>]*>\s*Vietnamese <span', english)
    assert re.search(r'value="1990"[^>]*>\s*1990s <span', english)
    assert "Held by 1 library:" in english and "Held by 1 libraries" not in english
    first = re.search(r'href="/records/(\d+)\?lang=en"', english)
    assert first is not None
    record = client.get(f"/records/{first.group(1)}", params={"lang": "en"}).text
    assert re.search(r"<dt>Language</dt><dd>[^<]*Vietnamese", record)
    assert "<dt>Type</dt><dd>Book</dd>" in record
    api = client.get("/api/v1/search", params={"q": "viet nam"}).json()["facets"]
    assert {v["value"]: v["label"] for v in api["language"]}["vie"] == "Tiếng Việt"
    assert {v["label"] for v in api["library"]} == {"Thư viện VNU-LIC"}
    english = client.get("/api/v1/search", params={"q": "viet nam", "lang": "en"}).json()["facets"]
    assert "Vietnamese" in {v["label"] for v in english["language"]}
    assert "1990s" in {v["label"] for v in english["decade"]}
    assert client.get("/api/v1/search", params={"q": "viet", "lang": "fr"}).status_code == 422
    filtered = client.get("/", params={"q": "viet nam", "language": "vie", "lang": "en"}).text
    assert re.search(r'value="vie" checked>\s*Vietnamese', filtered)
    # Koha items: their status in the reader's language
    _library(client, "TNU-LRC", holdings_profile="koha")
    engine = db.make_engine(_settings(tmp_path).resolved_database_url)
    ingest_file(engine, "TNU-LRC", KOHA)
    engine.dispose()
    koha = client.get("/", params={"q": "programming language", "library": "TNU-LRC", "lang": "vi"}).text
    hit = re.search(r'href="/records/(\d+)\?lang=vi"', koha)
    assert hit is not None
    items = client.get(f"/records/{hit.group(1)}", params={"lang": "vi"}).text
    assert '<td data-label="Tình trạng">Có sẵn</td>' in items and ">available</td>" not in items


def test_web_page_says_when_a_search_is_too_long(client: TestClient, tmp_path: Path) -> None:
    """A reader who pastes a paragraph gets the search page with the results of its start and a
    message in the page's language, not a JSON error; the API answers the same and says so."""
    from harvest.ingest import ingest_file

    _library(client, "VNU-LIC")
    engine = db.make_engine(_settings(tmp_path).resolved_database_url)
    ingest_file(engine, "VNU-LIC", VIETNAMESE)
    engine.dispose()
    pasted = "lịch sử Việt Nam " * 45  # 765 characters
    page = client.get("/", params={"q": pasted, "lang": "vi"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Câu tìm kiếm quá dài: chỉ 500 ký tự đầu được dùng để tìm." in page.text
    assert 'class="hits"' in page.text  # the start of the paragraph was searched
    english = client.get("/", params={"q": pasted, "lang": "en"})
    assert "The search is too long: only its first 500 characters were searched." in english.text
    answer = client.get("/api/v1/search", params={"q": pasted})
    assert answer.status_code == 200 and answer.json()["query_shortened"] is True
    assert answer.json()["total"] > 0
    assert client.get("/api/v1/search", params={"q": "lịch sử"}).json()["query_shortened"] is False
    huge = client.get("/api/v1/search", params={"q": "a" * 10_000})
    assert huge.status_code == 200 and huge.json()["query_shortened"] is True  # quickly, no error
    assert client.get("/", params={"q": "x" * 20_000}).status_code == 422  # still bounded
    assert client.get("/api/v1/search", params={"q": "x" * 10_001}).status_code == 422


def test_api_and_web_page_offer_the_corrected_query(client: TestClient, tmp_path: Path) -> None:
    """A query typed with Telex keys left in finds little as typed: the API's answer and the search page
    both offer the corrected words, and the page's link keeps the reader's filters."""
    import re
    from html import unescape
    from urllib.parse import parse_qs, urlsplit

    from harvest.ingest import ingest_file

    _library(client, "VNU-LIC")
    engine = db.make_engine(_settings(tmp_path).resolved_database_url)
    ingest_file(engine, "VNU-LIC", VIETNAMESE)
    engine.dispose()
    answer = client.get("/api/v1/search", params={"q": "nguyeenx"}).json()
    assert answer["did_you_mean"] == "nguyễn"
    assert client.get("/api/v1/search", params={"q": "viet nam"}).json()["did_you_mean"] is None
    page = client.get("/", params={"q": "nguyeenx", "language": "vie", "lang": "vi"}).text
    offered = re.search(r'id="did-you-mean">Có phải bạn muốn tìm: <a href="([^"]+)">nguyễn</a>', page)
    assert offered is not None, page
    link = parse_qs(urlsplit(unescape(offered.group(1))).query)
    assert link == {"q": ["nguyễn"], "language": ["vie"], "lang": ["vi"]}
    assert 'id="did-you-mean"' not in client.get("/", params={"q": "viet nam", "lang": "en"}).text
    english = client.get("/", params={"q": "nguyeenx", "lang": "en"}).text
    assert "Did you mean:" in english
