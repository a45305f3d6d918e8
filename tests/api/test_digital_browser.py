"""The digital library's reader in a real browser (Debian's Chromium through Playwright), on a
phone's screen: pages shown as images, the way to the next page, nothing wider than the screen and
nothing refused by the pages' security policy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.measure import app_served
from catalog import db
from catalog.db import session_scope
from catalog.digital.storage import LocalStorage
from catalog.libraries import add_library
from catalog.settings import Settings
from harvest.deposit import Limits, deposit
from harvest.ingest import ingest_file
from tests.api.test_browser import _shot, artefacts, browser, pytestmark  # noqa: F401  (the fixtures, the skip)
from tests.conftest import fixture
from tests.digital_files import text_pdf


@pytest.fixture(scope="module")
def reader_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, int]]:
    from api.app import create_app

    work = tmp_path_factory.mktemp("digital-web")
    settings = Settings(data_dir=work / "data", database_url=f"sqlite:///{work / 'data' / 'unioncat.db'}")
    engine = db.make_engine(settings.resolved_database_url)
    db.upgrade(engine)
    with session_scope(engine) as session:
        add_library(session, "LIB-A", "Thư viện A")
    ingest_file(engine, "LIB-A", fixture("marc.dat"))
    storage = LocalStorage(settings.digital_dir)
    thesis = text_pdf(work / "Luận văn.pdf", pages=3)
    opened = deposit(engine, storage, Limits(1 << 30), "LIB-A", "11778504", thesis, thesis.name)
    locked_file = text_pdf(work / "members.pdf", pages=1, words="Chỉ thành viên")
    locked = deposit(engine, storage, Limits(1 << 30), "LIB-A", "11778504", locked_file, "members.pdf",
                     rule="members")  # fmt: skip
    with app_served(create_app(engine, settings, start_worker=False)) as url:
        yield url, opened.object_id, locked.object_id


def test_the_reader_pages_through_a_pdf_on_a_phone(reader_site, browser, artefacts) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    base, object_id, locked_id = reader_site
    page = browser.new_page(viewport={"width": 375, "height": 667})
    refused: list[str] = []
    page.on(
        "console",
        lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.goto(f"{base}/digital/{object_id}?lang=en")
    image = page.locator("#page-image")
    image.wait_for()
    page.wait_for_function("document.getElementById('page-image').complete")
    assert page.evaluate("document.getElementById('page-image').naturalWidth") > 0  # drawn and loaded
    assert "width=400" in page.evaluate("document.getElementById('page-image').currentSrc")  # a phone's size
    assert page.evaluate("document.getElementById('page-image').getBoundingClientRect().width") <= 375
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 375  # nothing wider than the screen
    _shot(page, artefacts, "digital-reader-phone")
    page.locator("#next").click()
    page.wait_for_url(f"**/digital/{object_id}?page=2*")
    assert "pages/2.png" in (image.get_attribute("src") or "")
    page.locator("#page").fill("3")
    page.get_by_role("button", name="Go").click()
    page.wait_for_url("**page=3*")
    assert page.locator("#next").count() == 0 and page.locator("#previous").count() == 1
    page.goto(f"{base}/digital/{object_id}?lang=vi&page=1")
    assert "Tải tệp xuống" in page.content()
    page.goto(f"{base}/digital/{locked_id}?lang=en")
    assert "member libraries only" in page.content() and page.locator("#page-image").count() == 0
    assert refused == []
    page.close()
