"""The web pages as the test client gets them: the search page's filters, library names and available
copies; every page in Vietnamese without English labels; the job page's polite refresh; no page
loading anything from another host."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import quote, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.i18n import TEXTS
from api.labels import JOB_STATUS_NAMES, MATERIAL_TYPE_NAMES, STATUS_NAMES, language_name
from api.reasons import reason_text
from tests.api.librarian import form_token, sign_in
from tests.api.web_site import Site, build_site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return build_site(tmp_path_factory.mktemp("pages"))


@pytest.fixture(scope="module")
def web(site: Site) -> Iterator[TestClient]:
    """The service without its job worker: a job uploaded here stays queued."""
    from api.app import create_app

    with TestClient(create_app(site.engine, site.settings, start_worker=False)) as client:
        answer = sign_in(client, site.token, "?lang=vi")
        assert answer.status_code == 303
        yield client


def _job_ids(web: TestClient) -> list[int]:
    return [int(n) for n in re.findall(r"/librarian/jobs/(\d+)", web.get("/librarian?lang=vi").text)]


def _a_record_in(site: Site, language: str) -> int:
    with site.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, fields FROM union_record ORDER BY id")).all()
    import json

    for uid, fields in rows:
        data = json.loads(fields) if isinstance(fields, str) else fields
        if language in (data or {}).get("languages", []):
            return int(uid)
    raise AssertionError(f"no record in {language}")


def _pages(site: Site, web: TestClient) -> dict[str, str]:
    """Every page of the site, in Vietnamese."""
    finished = min(_job_ids(web))
    with site.engine.connect() as conn:
        on_loan = conn.execute(
            text("SELECT union_record_id FROM source_record s JOIN library l ON l.id = s.library_id "
                 "WHERE l.code = 'DUT-LIB' ORDER BY s.id LIMIT 1")
        ).scalar_one()  # fmt: skip
    return {
        "home": "/?lang=vi",
        "results": "/?q=viet&lang=vi",
        "results with every language": "/?lang=vi&q=",
        "filtered": "/?lang=vi&year_from=1990&year_to=2010&q=",
        "record": f"/records/{on_loan}?lang=vi",
        "record in Ancient Greek": f"/records/{_a_record_in(site, 'grc')}?lang=vi",
        "libraries": "/libraries?lang=vi",
        "library": "/libraries/VNU-LIC?lang=vi",
        "librarian": "/librarian?lang=vi",
        "job": f"/librarian/jobs/{finished}?lang=vi",
    }


# Labels the Vietnamese pages once showed in English, besides every English text of the pages'
# own tables (api/i18n.py, api/labels.py)
KNOWN_ENGLISH = ["Ancient Greek (to 1453)", "byte", "ID", "filters", "OPAC", "site", "Search results"]


def _english_labels() -> set[str]:
    tables = [TEXTS, MATERIAL_TYPE_NAMES, STATUS_NAMES, JOB_STATUS_NAMES]
    labels = {names["en"] for table in tables for names in table.values() if names["en"] != names.get("vi")}
    labels -= {TEXTS["switch"]["vi"], TEXTS["switch"]["en"]}  # each page's link to the other language
    return {label for label in labels if "{" not in label} | set(KNOWN_ENGLISH)


def _shown_as_a_label(html: str, label: str) -> bool:
    """Whether ``label`` is the whole text of an element or of an attribute a person reads or hears."""
    escaped = re.escape(label.replace("&", "&amp;").replace("'", "&#39;"))
    return bool(
        re.search(rf'>\s*{escaped}\s*<|\b(?:aria-label|title|placeholder|alt|data-label)="{escaped}"', html)
    )


def test_every_page_in_vietnamese_has_no_english_label(site: Site, web: TestClient) -> None:
    labels = _english_labels()
    for name, url in _pages(site, web).items():
        answer = web.get(url)
        assert answer.status_code == 200, name
        html = answer.text
        shown = sorted(label for label in labels if _shown_as_a_label(html, label))
        assert shown == [], f"{name} ({url}) shows English: {shown}"
        assert 'aria-label="filters"' not in html


def test_language_names_and_rejection_reasons_in_vietnamese(site: Site, web: TestClient) -> None:
    assert language_name("grc", "vi") == "Tiếng Hy Lạp cổ (đến 1453)"
    record = web.get(f"/records/{_a_record_in(site, 'grc')}?lang=vi").text
    assert "Tiếng Hy Lạp cổ (đến 1453)" in record and "Ancient Greek" not in record
    facets = web.get("/?lang=vi&q=").text
    assert re.search(r'value="vie"[^>]*>\s*Tiếng Việt <span', facets)
    job = web.get(f"/librarian/jobs/{min(_job_ids(web))}?lang=vi").text
    assert "không có số hiệu biểu ghi của thư viện (001)" in job
    assert "no local record identifier" not in job and not re.search(r'\slang="en"', job)
    english = web.get(f"/librarian/jobs/{min(_job_ids(web))}?lang=en").text
    assert "no local record identifier (001)" in english
    # a reason no pattern knows stays as it is, marked as English; an archive's member is kept
    assert reason_text("a reason of tomorrow", "vi").lang == "en"
    assert reason_text("books.mrc: unreadable record", "vi").text == "books.mrc: không đọc được biểu ghi"


def test_hits_name_libraries_in_the_page_language_with_available_copies(site: Site, web: TestClient) -> None:
    english = web.get(f"/?q={site.on_loan_isbn}&lang=en").text
    assert english.count('class="hit-title"') == 1
    dut = re.search(r'<li data-library="DUT-LIB">(.*?)</li>', english, re.DOTALL)
    tnu = re.search(r'<li data-library="TNU-LRC">(.*?)</li>', english, re.DOTALL)
    assert dut and tnu
    assert "DUT Library" in dut[1] and "none available" in dut[1]  # every copy on loan
    assert "Trung tâm Học liệu ĐH Thái Nguyên" in tnu[1]  # no English name: the Vietnamese one
    assert re.search(r"\d+ cop(y|ies), <span class=\"available\">\d+ available", tnu[1])
    vietnamese = web.get(f"/?q={site.on_loan_isbn}&lang=vi").text
    assert "Thư viện ĐH Bách khoa Đà Nẵng" in vietnamese and "không còn bản nào có sẵn" in vietnamese
    # a library whose profile gives no status: copies only
    viet = web.get("/?q=viet&lang=en&library=VNU-LIC").text
    vnu = re.search(r'<li data-library="VNU-LIC">(.*?)</li>', viet, re.DOTALL)
    assert vnu and "VNU Library" in vnu[1] and "available" not in vnu[1]


def _total(html: str) -> int:
    found = re.search(r'id="total"><strong>([\d.,]+)</strong>', html)
    return int(found[1].replace(".", "").replace(",", "")) if found else 0


def test_year_range_digital_copy_and_author_links(web: TestClient) -> None:
    everything = _total(web.get("/?lang=en&q=").text)
    ranged = web.get("/?lang=en&q=&year_from=1990&year_to=1999").text
    years = [int(y) for y in re.findall(r'<div class="meta">.*? · (\d{4})', ranged)]
    assert 0 < _total(ranged) < everything and years and all(1990 <= y <= 1999 for y in years)
    assert 'id="year_from" name="year_from" min="0" max="9999" inputmode="numeric" value="1990"' in ranged
    digital = web.get("/?lang=en&q=&has_digital=true").text
    assert 0 < _total(digital) < everything
    assert 'id="has_digital" name="has_digital" value="true" checked' in digital
    # a hand-typed wrong year is left out, not refused
    assert _total(web.get("/?lang=en&q=&year_from=abc").text) == everything
    # an author's name links to a search for their works, which finds the record it came from
    author = re.search(r'<a class="author" href="(/\?lang=en&amp;author=[^"]+)">([^<]+)</a>', ranged)
    assert author
    found = web.get(author[1].replace("&amp;", "&")).text
    assert _total(found) >= 1 and author[2] in found
    subject = re.search(r'<div class="subjects"><a href="(/\?lang=en&amp;subject=[^"]+)">', ranged)
    assert subject and _total(web.get(subject[1].replace("&amp;", "&")).text) >= 1


def test_record_page_links_authors_and_keeps_the_cutter(site: Site, web: TestClient) -> None:
    with site.engine.connect() as conn:
        union_id, call_number = conn.execute(
            text("SELECT s.union_record_id, h.call_number FROM holding h "
                 "JOIN source_record s ON s.id = h.source_record_id "
                 "WHERE h.call_number LIKE '% %' AND s.raw_format = 'iso2709' ORDER BY h.id LIMIT 1")
        ).one()  # fmt: skip
    page = web.get(f"/records/{union_id}?lang=vi").text
    assert f'<td data-label="Ký hiệu xếp giá" class="call-number">{call_number}</td>' in page
    assert "&amp;author=" in page


def test_job_page_refreshes_with_a_backoff_and_stops_when_the_job_ends(site: Site, web: TestClient) -> None:
    finished = web.get(f"/librarian/jobs/{min(_job_ids(web))}?lang=en").text
    assert 'http-equiv="refresh"' not in finished and "refreshes itself" not in finished
    with open(site.upload, "rb") as fh:
        answer = web.post("/librarian/upload?lang=en", files={"file": ("hust.mrc", fh)},
                          data={"mode": "update", "csrf_token": form_token(web)},
                          follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303
    queued = answer.headers["location"]
    job = urlsplit(queued).path
    waits = []
    url = queued
    for _look in range(7):
        page = web.get(url).text
        refresh = re.search(r'<meta http-equiv="refresh" content="(\d+);url=([^"]+)">', page)
        assert refresh, "a queued job's page looks again"
        waits.append(int(refresh[1]))
        url = refresh[2].replace("&amp;", "&")
        assert urlsplit(url).path == job
    assert waits == [1, 2, 4, 8, 16, 30, 30]
    assert re.search(r'content="1;url=', web.get(f"{job}?lang=en&wait=abc").text)


def test_no_page_loads_anything_from_another_host(site: Site, web: TestClient) -> None:
    pages = {**_pages(site, web), "API docs": "/api/v1/docs"}
    loaded = re.compile(
        r"""<(?:script|img|iframe|source|link)\b[^>]*\b(?:src|href)="([^"]+)"|url\(([^)]+)\)"""
    )
    for name, url in pages.items():
        answer = web.get(url)
        assert answer.status_code == 200, name
        for found in loaded.finditer(answer.text):
            target = (found[1] or found[2]).strip("'\" ")
            assert urlsplit(target).netloc in ("", "testserver"), f"{name} loads {target}"  # itself
            if urlsplit(target).path.startswith("/"):
                assert web.get(target).status_code == 200, f"{name}: {target} is not served"
        policy = answer.headers["content-security-policy"]
        assert "https:" not in policy and "http:" not in policy, name
    docs = web.get("/api/v1/docs").text
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    script = web.get("/api/v1/docs/assets/swagger-ui-bundle.js")
    assert script.headers["content-type"].startswith("text/javascript") and len(script.content) > 100_000
    missing = web.get(f"/api/v1/docs/assets/{quote('../../app.py')}")
    assert missing.status_code == 404
    assert web.get("/api/v1/docs/assets/redoc.standalone.js").status_code == 404


def test_stacked_tables_label_every_cell(site: Site, web: TestClient) -> None:
    """On a phone a table becomes one block per row, each cell saying what it is (data-label)."""
    for name, url in _pages(site, web).items():
        html = web.get(url).text
        for table in re.findall(r'<table class="stack[^"]*".*?</table>', html, re.DOTALL):
            body = table.split("<tbody>", 1)[1]
            assert "<td>" not in body and "<td " in body, name
            assert all("data-label=" in cell for cell in re.findall(r"<td[^>]*>", body)), name


def test_a_refused_upload_is_explained_in_the_page_language(web: TestClient) -> None:
    empty = web.post("/librarian/upload?lang=vi", files={"file": ("empty.mrc", b"")}, data={"mode": "update"})
    assert empty.status_code == 422
    assert '<p class="error" role="alert" lang="vi">tệp tải lên rỗng</p>' in empty.text
    mode = web.post(
        "/librarian/upload?lang=vi",
        files={"file": ("a.mrc", b"x")},
        data={"mode": "replace", "csrf_token": form_token(web)},
    )
    assert mode.status_code == 422 and "chế độ không rõ &#39;replace&#39;" in mode.text
    english = web.post(
        "/librarian/upload?lang=en",
        files={"file": ("a.mrc", b"x")},
        data={"mode": "replace", "csrf_token": form_token(web)},
    )
    assert "unknown mode &#39;replace&#39;: update, snapshot or delete" in english.text
    missing = web.get("/librarian/jobs/999999?lang=vi")
    assert missing.status_code == 404 and 'lang="vi">Không tìm thấy</p>' in missing.text


def test_a_search_the_page_cannot_make_is_explained_in_the_page_language(web: TestClient) -> None:
    backwards = web.get("/?lang=vi&q=viet&year_from=2000&year_to=1990")
    assert backwards.status_code == 200
    assert '<p class="error"><span lang="vi">năm bắt đầu ở sau năm kết thúc</span></p>' in backwards.text
    too_many = web.get("/", params={"q": "viet", "subject": [f"s{i}" for i in range(21)], "lang": "vi"})
    assert "subject: chọn nhiều nhất 20 giá trị, không phải 21" in too_many.text
    gone = web.get("/records/99999999?lang=vi")
    assert gone.status_code == 404 and '<span lang="vi">Không tìm thấy</span>' in gone.text
