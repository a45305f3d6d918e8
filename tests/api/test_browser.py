"""The web pages in a real browser: headless Chromium (Debian's) driven by Playwright, against the
service on 127.0.0.1. Screenshots of the main pages go to build/screenshots/ for a person to look at."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog import db
from catalog.db import session_scope
from catalog.libraries import add_library
from catalog.settings import Settings
from catalog.tokens import create_token
from harvest.ingest import ingest_file
from harvest.iso2709 import split_records
from tests.conftest import KOHA, ROOT, VIETNAMESE, serving

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(os.environ.get("UNIONCAT_SCREENSHOTS", ROOT / "build" / "screenshots"))

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and os.environ.get("UNIONCAT_REQUIRE_BROWSER") != "1",
    reason="no Chromium: install Debian's chromium package (CI does) to run the browser tests",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    from api.app import create_app

    work = tmp_path_factory.mktemp("web")
    settings = Settings(data_dir=work / "data", database_url=f"sqlite:///{work / 'data' / 'unioncat.db'}")
    engine = db.make_engine(settings.resolved_database_url)
    db.upgrade(engine)
    with open(VIETNAMESE, "rb") as fh:
        raws = [raw for _offset, raw in split_records(fh)]
    with session_scope(engine) as session:
        add_library(session, "VNU-LIC", "Trung tâm Thư viện ĐHQGHN", name_en="VNU Library", city="Hà Nội")
        add_library(session, "HUST-LIB", "Thư viện Tạ Quang Bửu", city="Hà Nội")
        add_library(session, "TNU-LRC", "Trung tâm Học liệu ĐH Thái Nguyên", holdings_profile="koha")
        _record, token = create_token(session, "HUST-LIB", "browser test")
    (work / "vnu.mrc").write_bytes(b"".join(raws[:350]))
    ingest_file(engine, "VNU-LIC", work / "vnu.mrc")
    ingest_file(engine, "TNU-LRC", KOHA)
    (work / "hust.mrc").write_bytes(b"".join(raws[200:]))
    os.environ["UNIONCAT_TEST_UPLOAD"] = str(work / "hust.mrc")
    with serving(create_app(engine, settings)) as url:
        yield url, token


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )  # fmt: skip
        yield instance
        instance.close()


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_reader_searches_filters_and_opens_a_record(site, browser) -> None:  # type: ignore[no-untyped-def]
    base, _token = site
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/")
    assert page.locator("html").get_attribute("lang") == "vi"
    page.get_by_role("searchbox").fill("dai hoc")
    page.get_by_role("button", name="Tìm kiếm").click()
    plain = page.locator("ol.hits > li").count()
    assert plain > 0
    total_plain = page.locator("main p strong").first.inner_text()
    _shot(page, "search-without-diacritics")
    page.get_by_role("searchbox").fill("Đại học")
    page.get_by_role("button", name="Tìm kiếm").click()
    assert page.locator("main p strong").first.inner_text() == total_plain
    assert page.locator("ol.hits mark").count() > 0
    # a facet: only what VNU-LIC holds
    page.get_by_role("searchbox").fill("viet nam")
    page.get_by_role("button", name="Tìm kiếm").click()
    before = int(page.locator("main p strong").first.inner_text().replace(".", ""))
    page.locator("fieldset", has_text="Thư viện").get_by_label(
        "Trung tâm Thư viện ĐHQGHN", exact=False
    ).check()
    page.get_by_role("button", name="Áp dụng").click()
    after = int(page.locator("main p strong").first.inner_text().replace(".", ""))
    assert 0 < after <= before
    assert all("VNU-LIC" in t for t in page.locator("ol.hits .libs").all_inner_texts())
    _shot(page, "search-with-facet")
    # open a record: its holdings table names the library and the call number
    page.locator("ol.hits .hit-title a").first.click()
    assert page.locator("table").first.inner_text().count("VNU-LIC") >= 1
    assert page.get_by_role("heading", name="Thư viện có tài liệu này").is_visible()
    _shot(page, "record")
    # switch language
    page.locator("#switch-language").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Libraries holding this").is_visible()
    _shot(page, "record-english")
    # no results: a page that says what to try
    page.goto(f"{base}/?q=zzqqxxnothing&lang=en")
    assert page.locator("#no-results").is_visible()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/?q=viet")
    _shot(page, "search-phone")
    page.close()


def test_librarian_uploads_and_sees_the_job_finish(site, browser) -> None:  # type: ignore[no-untyped-def]
    base, token = site
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/librarian?lang=en")
    page.get_by_label("Your library's API token").fill("uc_wrong")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").is_visible()
    page.get_by_label("Your library's API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    assert "HUST-LIB" in page.locator("main").inner_text()
    page.set_input_files("#file", os.environ["UNIONCAT_TEST_UPLOAD"])
    page.locator("#upload").click()
    page.wait_for_selector('#job-status[data-status="succeeded"]', timeout=60_000)
    assert page.locator("#job-status strong").inner_text() == "Succeeded"
    assert page.locator("#count-added").inner_text() == "329"
    _shot(page, "librarian-job")
    page.goto(f"{base}/libraries?lang=en")
    assert "HUST-LIB" in page.locator("table").inner_text()
    _shot(page, "libraries")
    page.close()
