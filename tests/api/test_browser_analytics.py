"""The analytics page in a real browser (Debian's Chromium driven by Playwright, as in
test_browser.py) at a phone's width: signed in, charts drawn, nothing wider than the screen, the
member view reached through the form without JavaScript. Screenshots go to build/screenshots/."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.measure import app_served
from catalog import db
from catalog.analytics.cache import refresh
from catalog.db import session_scope
from catalog.libraries import add_library
from catalog.settings import Settings
from catalog.tokens import create_token
from harvest.ingest import ingest_file
from harvest.iso2709 import split_records
from tests.conftest import ROOT, VIETNAMESE

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(os.environ.get("UNIONCAT_SCREENSHOTS", ROOT / "build" / "screenshots"))

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and os.environ.get("UNIONCAT_REQUIRE_BROWSER") != "1",
    reason="no Chromium: install Debian's chromium package (CI does) to run the browser tests",
)


WIDER_THAN_SCREEN = """[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > 376 && !e.closest('.scroll'))
  .slice(0, 8).map(e => e.tagName + ' ' + Math.round(e.getBoundingClientRect().right) + ' '
    + (e.textContent || '').slice(0, 40))"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    from api.app import create_app

    work = tmp_path_factory.mktemp("analytics-web")
    settings = Settings(data_dir=work / "data", database_url=f"sqlite:///{work / 'data' / 'unioncat.db'}")
    engine = db.make_engine(settings.resolved_database_url)
    db.upgrade(engine)
    with open(VIETNAMESE, "rb") as fh:
        raws = [raw for _offset, raw in split_records(fh)]
    with session_scope(engine) as session:
        add_library(session, "VNU-LIC", "Trung tâm Thư viện Đại học Quốc gia Hà Nội", name_en="VNU Library")
        add_library(session, "HUST-LIB", "Thư viện Tạ Quang Bửu")
        add_library(session, "HNUE-LIB", "Thư viện Trường Đại học Sư phạm Hà Nội")
        token = create_token(session, "HUST-LIB", "browser test")[1]
    for code, part in (("VNU-LIC", raws[:300]), ("HUST-LIB", raws[200:450]), ("HNUE-LIB", raws[250:529])):
        (work / f"{code}.mrc").write_bytes(b"".join(part))
        ingest_file(engine, code, work / f"{code}.mrc")
    refresh(engine)  # as the service's worker does
    with app_served(create_app(engine, settings, start_worker=False)) as url:
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


def test_analytics_on_a_phone(site, browser) -> None:  # type: ignore[no-untyped-def]
    base, token = site
    context = browser.new_context(viewport={"width": 375, "height": 740}, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{base}/librarian/analytics?lang=en")  # signed out: to the sign-in form
    page.get_by_label("Your library's API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Collection analytics").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Collection analytics: Whole consortium"
    charts = page.get_by_role("img")
    assert charts.count() == 6
    for i in range(charts.count()):
        box = charts.nth(i).bounding_box()
        assert box is not None and box["width"] <= 375 and box["height"] > 20
    # nothing wider than the screen: the overlap matrix scrolls inside its own box
    wide = page.evaluate(WIDER_THAN_SCREEN)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, wide
    assert page.get_by_role("region", name="Overlap between members").is_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "analytics-375.png"), full_page=True)
    page.screenshot(path=str(SHOTS / "analytics-375-first-screen.png"))
    page.locator("#h-class").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "analytics-375-classes.png"))

    page.get_by_label("Member library").select_option("VNU-LIC")
    page.get_by_role("button", name="Show").click()
    assert page.url.startswith(f"{base}/librarian/analytics/VNU-LIC")
    assert "VNU Library (VNU-LIC)" in page.get_by_role("heading", level=1).inner_text()
    assert page.get_by_role("img").count() == 7
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.goto(f"{base}/librarian/analytics/VNU-LIC?lang=vi")
    assert "Thống kê bộ sưu tập" in page.get_by_role("heading", level=1).inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(SHOTS / "analytics-member-375-vi.png"), full_page=True)
    context.close()
