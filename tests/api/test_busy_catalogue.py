"""While a real ``unioncat ingest`` holds the SQLite catalogue's write lock, a real server (uvicorn on
127.0.0.1) keeps answering: reads and uploads at once, every other write with a quick 503 and
Retry-After, never a 500 and never the minute SQLite would wait for its lock."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.busy_catalogue import renumbered, write_locked
from bench.measure import app_served
from catalog import db
from catalog.db import session_scope
from catalog.libraries import add_library
from catalog.tokens import create_token
from harvest.ingest import ingest_file
from tests.api.test_http import ADMIN, _settings
from tests.conftest import fixture

FAST = 2.0  # a read, an upload
QUICK = 5.0  # a write refused because the catalogue is busy


@pytest.fixture
def busy(tmp_path: Path) -> Iterator[dict[str, object]]:
    """A served catalogue (library VNU-LIC with records and a token; library HUST with an OAI-PMH URL
    and a token) and a ``unioncat ingest`` of a large file into HUST that holds the write lock."""
    from api.app import create_app

    settings = _settings(tmp_path)
    engine = db.make_engine(settings.resolved_database_url)
    db.upgrade(engine)
    with session_scope(engine) as session:
        add_library(session, "VNU-LIC", "Trung tâm Thư viện ĐHQGHN")
        add_library(session, "HUST", "Thư viện Bách khoa", oai_base_url="http://127.0.0.1:9/oai")
        _, token = create_token(session, "VNU-LIC", "tests")
        _, spare = create_token(session, "HUST", "to revoke")
    ingest_file(engine, "VNU-LIC", fixture("sample-2000.mrc"))
    big = tmp_path / "big.mrc"
    with open(big, "wb") as out:  # 80,000 new records: the ingest holds the lock for a good while
        sample = fixture("sample-2000.mrc").read_bytes()
        for copy in range(40):
            out.write(renumbered(sample, copy))
    database = Path(settings.resolved_database_url.removeprefix("sqlite:///"))
    env = {
        **os.environ,
        "UNIONCAT_DATA_DIR": str(settings.data_dir),
        "UNIONCAT_DATABASE_URL": settings.resolved_database_url,
    }
    with app_served(create_app(engine, settings, start_worker=False)) as url:
        with httpx.Client(base_url=url) as browser:  # signed in before the ingest starts
            page = browser.get("/librarian")
            browser.post("/librarian/login", data={"token": token, **_csrf(page.text)})
            cookie = browser.cookies
        unioncat = str(Path(sys.executable).parent / "unioncat")
        ingest = subprocess.Popen(
            [unioncat, "ingest", str(big), "--library", "HUST", "--workers", "0"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while not write_locked(database):
                assert ingest.poll() is None, "the ingest ended before it took the write lock"
                assert time.monotonic() < deadline, "the ingest never took the write lock"
                time.sleep(0.05)
            yield {"url": url, "token": token, "spare": spare, "cookie": cookie, "database": database}
            assert write_locked(database), "the ingest let go of the lock before the checks ended"
        finally:
            ingest.send_signal(signal.SIGTERM)
            try:
                ingest.wait(timeout=30)
            except subprocess.TimeoutExpired:
                ingest.kill()
                ingest.wait()
    engine.dispose()


def _timed(client: httpx.Client, method: str, path: str, **kwargs: object) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    answer = client.request(method, path, **kwargs)  # type: ignore[arg-type]
    return answer, time.monotonic() - started


def _refused_busy(answer: httpx.Response, took: float) -> None:
    assert answer.status_code == 503, (answer.status_code, answer.text[:300])
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert int(answer.headers["retry-after"]) > 0
    assert took < QUICK, f"{took:.1f} s"


def test_readers_and_uploads_answer_at_once_and_writes_503_while_an_ingest_writes(
    busy: dict[str, object],
) -> None:
    admin = {"Authorization": f"Bearer {ADMIN}"}
    library = {"Authorization": f"Bearer {busy['token']}"}
    with httpx.Client(base_url=str(busy["url"]), timeout=120) as client:
        for path, params in (
            ("/api/v1/search", {"q": "history"}),
            ("/api/v1/holdings", {"isbn": "9780306406157"}),
            ("/", {"q": "history"}),
            ("/api/v1/libraries", {}),
            ("/oai", {"verb": "ListRecords", "metadataPrefix": "oai_dc"}),
            ("/api/v1/libraries/VNU-LIC/jobs", {}),
        ):
            answer, took = _timed(client, "GET", path, params=params, headers=library)
            assert answer.status_code == 200 and took < FAST, (path, answer.status_code, took)

        answer, took = _timed(
            client, "POST", "/api/v1/libraries/VNU-LIC/uploads", content=fixture("marc.dat").read_bytes(),
            headers=library,
        )  # fmt: skip
        assert answer.status_code == 202 and took < FAST + 1, (answer.text, took)
        job, took = _timed(client, "GET", answer.headers["location"], headers=library)
        assert job.status_code == 200 and job.json()["status"] == "queued" and took < FAST

        client.cookies = busy["cookie"]  # type: ignore[assignment]
        page = client.get("/librarian")
        assert "VNU-LIC" in page.text
        csrf = _csrf(page.text)
        answer, took = _timed(
            client, "POST", "/librarian/upload",
            files={"file": ("x.mrc", fixture("marc.dat").read_bytes(), "application/marc")},
            data={"mode": "update", **csrf},
        )  # fmt: skip
        assert answer.status_code == 303 and "/librarian/jobs/" in answer.headers["location"], answer.text
        assert took < FAST + 1
        answer, took = _timed(client, "POST", "/librarian/logout", data=csrf)
        assert took < QUICK and answer.status_code in (303, 503), (answer.status_code, answer.text[:300])
        client.cookies.clear()

        login = client.get("/librarian")
        answer, took = _timed(
            client, "POST", "/librarian/login", data={"token": str(busy["token"]), **_csrf(login.text)}
        )
        assert took < QUICK and answer.status_code in (303, 503), (answer.status_code, answer.text[:300])
        if answer.status_code == 503:
            assert int(answer.headers["retry-after"]) > 0

        for method, path, kwargs in (
            ("PATCH", "/api/v1/libraries/VNU-LIC", {"json": {"name_en": "VNU Library"}}),
            ("POST", "/api/v1/libraries", {"json": {"code": "NEW", "name_vi": "Thư viện mới"}}),
            ("POST", "/api/v1/libraries/VNU-LIC/tokens", {"params": {"name": "another"}}),
            ("DELETE", "/api/v1/tokens/2", {}),
            ("POST", "/api/v1/admin/reindex", {}),
            ("POST", "/api/v1/admin/dedup-rebuild", {}),
            ("POST", "/api/v1/libraries/HUST/harvest", {}),
        ):
            answer, took = _timed(client, method, path, headers=admin, **kwargs)
            _refused_busy(answer, took)
    with sqlite3.connect(busy["database"]) as check:  # type: ignore[arg-type]
        name = check.execute("SELECT name_en FROM library WHERE code = 'VNU-LIC'").fetchone()[0]
        assert name != "VNU Library"
        assert check.execute("SELECT revoked_at FROM api_token WHERE id = 2").fetchone()[0] is None


def _csrf(page: str) -> dict[str, str]:
    """The form's CSRF field, as a browser would send it back."""
    import re

    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    return {"csrf_token": found.group(1)} if found else {}
