"""The web pages in a real browser: headless Chromium (Debian's) driven by Playwright, against the
service on 127.0.0.1, on a phone (375 x 740, and 320 wide for overflow) and a desktop (1280 x 800),
with an accessibility check by axe-core (tests/api/axe.py).

Screenshots of the pages are kept as test artefacts for a person to look at: in the directory
``UNIONCAT_ARTEFACTS`` names, else in ``artefacts/`` under pytest's temporary directory (printed by
``pytest -rA``; ``--basetemp=DIR`` chooses it)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from bench.measure import app_served
from tests.api import axe
from tests.api.web_site import Site, build_site

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PHONE = {"width": 375, "height": 740}
SMALL_PHONE = {"width": 320, "height": 640}
DESKTOP = {"width": 1280, "height": 800}

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and os.environ.get("UNIONCAT_REQUIRE_BROWSER") != "1",
    reason="no Chromium: install Debian's chromium package (CI does) to run the browser tests",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Site]]:
    from api.app import create_app

    built = build_site(tmp_path_factory.mktemp("web"))
    with app_served(create_app(built.engine, built.settings)) as url:
        yield url, built


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("UNIONCAT_ARTEFACTS")
    folder = Path(chosen) if chosen else tmp_path_factory.getbasetemp() / "artefacts"
    folder.mkdir(parents=True, exist_ok=True)
    print(f"screenshots in {folder}")
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
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


def _shot(page: Any, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _sign_in(base: str, token: str) -> Any:
    def sign_in(context: Any) -> None:
        page = context.new_page()
        page.goto(f"{base}/librarian?lang=vi")
        page.locator("#token").fill(token)
        page.locator("form[action^='/librarian/login'] button").click()
        page.wait_for_selector("#upload")
        page.close()

    return sign_in


def _total(page: Any) -> int:
    return int(re.sub(r"\D", "", page.locator("#total strong").inner_text()))


def test_reader_searches_filters_and_opens_a_record(site, browser, artefacts) -> None:  # type: ignore[no-untyped-def]
    base, _built = site
    page = browser.new_page(viewport=DESKTOP)
    page.goto(f"{base}/")
    assert page.locator("html").get_attribute("lang") == "vi"
    page.get_by_role("searchbox").fill("dai hoc")
    page.get_by_role("button", name="Tìm kiếm").click()
    assert page.locator("ol.hits > li").count() > 0
    total_plain = _total(page)
    _shot(page, artefacts, "search-without-diacritics-desktop")
    page.get_by_role("searchbox").fill("Đại học")
    page.get_by_role("button", name="Tìm kiếm").click()
    assert _total(page) == total_plain
    assert page.locator("ol.hits mark").count() > 0
    # the filters are shown beside the hits on a desktop, without a button to open them
    page.get_by_role("searchbox").fill("viet nam")
    page.get_by_role("button", name="Tìm kiếm").click()
    assert page.locator("#facets").is_visible() and not page.locator("#filters > summary").is_visible()
    before = _total(page)
    page.locator("fieldset", has_text="Thư viện").get_by_label(
        "Trung tâm Thư viện ĐHQGHN", exact=False
    ).check()
    page.get_by_role("button", name="Áp dụng").click()
    after = _total(page)
    assert 0 < after <= before
    # each hit names its libraries (not their codes)
    libraries = page.locator("ol.hits .libs").all_inner_texts()
    assert libraries and all("Trung tâm Thư viện ĐHQGHN" in t and "VNU-LIC" not in t for t in libraries)
    _shot(page, artefacts, "search-with-facet-desktop")
    # a year range
    page.locator("#year_from").fill("1990")
    page.locator("#year_to").fill("1999")
    page.get_by_role("button", name="Áp dụng").click()
    metas = page.locator(".meta").all_inner_texts()  # "authors · year · type"
    years = [int(found[1]) for m in metas if (found := re.search(r"(?:^|· )(\d{4})(?= ·|$)", m.strip()))]
    assert years and all(1990 <= y <= 1999 for y in years)
    # open a record with an author: its holdings table names the library and the call number
    page.locator("ol.hits > li", has=page.locator("a.author")).first.locator(".hit-title a").click()
    assert page.locator("table.holdings").inner_text().count("VNU-LIC") >= 1
    assert page.get_by_role("heading", name="Thư viện có tài liệu này").is_visible()
    _shot(page, artefacts, "record-desktop")
    # an author is a link to a search for their works
    page.locator("dl.record a[href*='author=']").first.click()
    assert _total(page) >= 1
    page.go_back()
    # switch language
    page.locator("#switch-language").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Libraries holding this").is_visible()
    _shot(page, artefacts, "record-english-desktop")
    # no results: a page that says what to try
    page.goto(f"{base}/?q=zzqqxxnothing&lang=en")
    assert page.locator("#no-results").is_visible()
    page.close()


def test_on_a_phone_the_first_hit_comes_first_and_the_filters_behind_a_button(  # type: ignore[no-untyped-def]
    site, browser, artefacts
) -> None:
    base, built = site
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{base}/?q=viet")
    first = page.locator("ol.hits > li").first.locator(".hit-title").bounding_box()
    assert first is not None
    assert first["y"] + first["height"] <= PHONE["height"], f"the first hit is at y={first['y']}"
    print(
        f"first hit at y = {first['y']:.0f} px (title bottom {first['y'] + first['height']:.0f}) at 375 x 740"
    )
    assert not page.locator("#facets").is_visible()
    summary = page.locator("#filters > summary")
    assert summary.is_visible()
    _shot(page, artefacts, "search-phone")
    page.goto(f"{base}/?q=")  # every record: some have a digital copy
    summary.click()
    assert page.locator("#facets").is_visible()
    _shot(page, artefacts, "search-phone-filters-open")
    page.locator("#has_digital").check()
    page.get_by_role("button", name="Áp dụng").click()
    assert page.locator("#has_digital").is_checked() and _total(page) > 0
    # available copies per library, in the page's language
    page.goto(f"{base}/?q={built.on_loan_isbn}&lang=en")
    assert "none available" in page.locator("li[data-library='DUT-LIB']").inner_text()
    # the record's holdings table: one block per item, each value labelled
    page.locator("ol.hits .hit-title a").first.click()
    table = page.locator("table.holdings")
    box = table.bounding_box()
    assert box is not None and box["width"] <= PHONE["width"]
    assert table.locator("tbody tr").first.evaluate("row => getComputedStyle(row).display") == "block"
    assert not table.locator("thead").is_visible() or table.locator("thead").bounding_box()["height"] <= 1
    label = table.locator("td.call-number").first.evaluate(
        "cell => getComputedStyle(cell, '::before').content"
    )
    assert "Call number" in label
    _shot(page, artefacts, "record-phone")
    page.close()


def _record(base: str, built: Site, page: Any) -> str:
    """The page of a record held by two libraries, with items on the shelf and on loan."""
    page.goto(f"{base}/?q={built.on_loan_isbn}")
    return base + str(page.locator("ol.hits .hit-title a").first.get_attribute("href"))


def _pages(base: str, built: Site, page: Any) -> dict[str, str]:
    """Every kind of page (the librarian's signed in), by name."""
    record = _record(base, built, page)
    page.goto(f"{base}/librarian?lang=vi")
    job = page.locator("a[href^='/librarian/jobs/']").first.get_attribute("href")
    return {
        "home": f"{base}/",
        "results": f"{base}/?q=viet",
        "record": record,
        "libraries": f"{base}/libraries",
        "library": f"{base}/libraries/TNU-LRC",
        "librarian": f"{base}/librarian",
        "job": f"{base}{job}",
    }


@pytest.mark.parametrize("viewport", [SMALL_PHONE, PHONE], ids=["320", "375"])
def test_no_page_scrolls_sideways_on_a_phone_or_loads_from_another_host(  # type: ignore[no-untyped-def]
    site, browser, artefacts, viewport
) -> None:
    base, built = site
    context = browser.new_context(viewport=viewport)
    _sign_in(base, built.token)(context)
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    for name, url in _pages(base, built, page).items():
        page.goto(url)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{name} is {width} px wide at {viewport['width']}"
        _shot(page, artefacts, f"{name}-{viewport['width']}")
    page.goto(f"{base}/api/v1/docs")
    page.wait_for_selector(".swagger-ui .info", timeout=30_000)  # the docs run from the service's own files
    own = urlsplit(base).netloc
    assert requested and {urlsplit(u).netloc for u in requested if not u.startswith("data:")} == {own}
    context.close()


def test_accessibility_of_the_main_pages(site, browser) -> None:  # type: ignore[no-untyped-def]
    base, built = site
    try:
        script_ready = axe.axe_script()
    except axe.AxeUnavailable as exc:
        if os.environ.get("UNIONCAT_REQUIRE_BROWSER") == "1":
            raise
        pytest.skip(str(exc))
    assert "axe" in script_ready[:2000]
    page = browser.new_page(viewport=DESKTOP)
    record = _record(base, built, page)
    page.close()
    urls = [f"{base}/", f"{base}/?q=viet", record, f"{base}/libraries", f"{base}/librarian"]
    urls += [f"{base}/librarian/analytics", f"{base}/librarian/digital"]
    found = axe.check_pages(browser, urls, [PHONE, DESKTOP], prepare=_sign_in(base, built.token))
    failing = {where: lines for where, lines in found.items() if lines}
    assert len(found) == 2 * len(urls)
    assert failing == {}, "\n".join(f"{where}: {line}" for where, lines in failing.items() for line in lines)
    # and the signed-out librarian page (the sign-in form)
    assert axe.check_pages(browser, [f"{base}/librarian"], [PHONE]) == {f"{base}/librarian @ 375x740": []}


def test_librarian_uploads_and_sees_the_job_finish(site, browser, artefacts) -> None:  # type: ignore[no-untyped-def]
    base, built = site
    page = browser.new_page(viewport=DESKTOP)
    page.goto(f"{base}/librarian?lang=en")
    page.get_by_label("Your library's API token").fill("uc_wrong")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").is_visible()
    page.get_by_label("Your library's API token").fill(built.token)
    page.get_by_role("button", name="Sign in").click()
    assert "HUST-LIB" in page.locator("main").inner_text()
    page.set_input_files("#file", str(built.upload))
    page.locator("#upload").click()
    page.wait_for_selector('#job-status[data-status="succeeded"]', timeout=90_000)
    assert page.locator("#job-status strong").inner_text() == "Succeeded"
    assert page.locator("#count-added").inner_text() == "329"
    assert page.locator("meta[http-equiv='refresh']").count() == 0  # it stopped looking
    _shot(page, artefacts, "librarian-job-desktop")
    page.goto(f"{base}/libraries?lang=en")
    assert "HUST-LIB" in page.locator("table").inner_text()
    _shot(page, artefacts, "libraries-desktop")
    page.close()
