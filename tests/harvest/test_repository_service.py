"""A library's repository as the service and the command line handle it: its settings (validated),
the harvest queued through the API and run by a worker, scheduled harvests, and a harvest that
stops half-way leaving each item as its last commit did."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalog import db
from catalog.db import session_scope
from catalog.digital.storage import LocalStorage
from catalog.libraries import add_library, get_library
from catalog.models import DigitalObject, IngestJob, RecordStatus, SourceRecord
from harvest.file_fetch import FileFetcher
from harvest.oai_client import OaiClient
from harvest.queue import enqueue_due_harvests
from harvest.repository import harvest_repository
from harvest.worker import Worker
from tests.api.test_http import _admin, _settings
from tests.dspace_peer import DspacePeer, PeerFile
from tests.pdf_files import make_pdf


@pytest.fixture
def peer() -> Iterator[DspacePeer]:
    with DspacePeer(batch_size=3) as p:
        for n in range(1, 8):
            p.add(
                f"123456789/{n}",
                {
                    "title": [f"Khóa luận tốt nghiệp số {n}: hệ thống thông tin thư viện"],
                    "contributor.author": [f"Nguyễn, Văn {n}"],
                    "date.issued": [str(2010 + n)],
                    "identifier.uri": [f"http://hdl.handle.net/123456789/{n}"],
                },
                [PeerFile(f"khoa-luan-{n}.pdf", make_pdf([f"Khoa luan {n}", "Chuong 1"]))],
            )
        yield p


def test_settings_from_the_command_line(run_cli: Any, peer: DspacePeer) -> None:
    assert run_cli("library", "add", "DSPACE", "--name", "Thư viện số").returncode == 0
    refused = run_cli("library", "update", "DSPACE", "--repository-url", "ftp://repo.example.edu.vn/oai")
    assert refused.returncode == 1 and "repository_url must be an http(s) URL" in refused.stderr
    refused = run_cli("library", "update", "DSPACE", "--repository-files", "didl")
    assert refused.returncode == 1 and "repository_files must be one of ore, mets, none" in refused.stderr
    assert "Traceback" not in refused.stderr
    changed = run_cli(
        "library",
        "update",
        "DSPACE",
        "--repository-url",
        peer.url,
        "--repository-format",
        "qdc",
        "--repository-files",
        "mets",
        "--repository-access",
        "members",
        "--json",
    )
    assert changed.returncode == 0, changed.stderr
    shown = json.loads(run_cli("library", "show", "DSPACE", "--json").stdout)
    assert (shown["repository_url"], shown["repository_format"], shown["repository_files"]) == (
        peer.url,
        "qdc",
        "mets",
    )
    assert shown["repository_access"] == "members" and shown["repository_harvest_unfinished"] is False
    assert f"repository_url: {peer.url}" in run_cli("library", "show", "DSPACE").stdout
    harvested = run_cli("harvest-repository", "DSPACE", "--json", timeout=300)
    assert harvested.returncode == 0, harvested.stderr
    summary = json.loads(harvested.stdout)
    assert (summary["status"], summary["added"], summary["files_fetched"]) == ("succeeded", 7, 7)
    again = run_cli("harvest-repository", "DSPACE", timeout=300)
    assert again.returncode == 0 and "files fetched 0, unchanged 0" in again.stderr  # nothing changed
    queued = json.loads(run_cli("harvest-repository", "DSPACE", "--queue", "--full", "--json").stdout)
    assert queued["queued"] is True and queued["job_id"]
    again_queued = run_cli("harvest-repository", "DSPACE", "--queue")
    assert again_queued.returncode == 0 and "already queued or running" in again_queued.stderr
    missing = run_cli("harvest-repository", "NOPE")
    assert missing.returncode == 1 and "unknown library NOPE" in missing.stderr


def test_queued_through_the_api_and_run_by_a_worker(tmp_path: Path, peer: DspacePeer) -> None:
    from api.app import create_app

    settings = _settings(tmp_path, harvest_check_minutes=0)
    engine = db.make_engine(settings.resolved_database_url)
    db.upgrade(engine)
    with TestClient(create_app(engine, settings, start_worker=False)) as client:
        made = client.post(
            "/api/v1/libraries", json={"code": "DSPACE", "name_vi": "Thư viện số"}, headers=_admin()
        )
        assert made.status_code == 201 and made.json()["repository_url"] is None
        for bad in ({"repository_url": "javascript:alert(1)"}, {"repository_format": "marc21"}):
            answer = client.patch("/api/v1/libraries/DSPACE", json=bad, headers=_admin())
            assert answer.status_code == 422, answer.text
            assert answer.headers["content-type"].startswith("application/problem+json")
        none_yet = client.post("/api/v1/libraries/DSPACE/harvest-repository", headers=_admin())
        assert none_yet.status_code == 409 and "no digital repository" in none_yet.json()["detail"]
        changed = client.patch(
            "/api/v1/libraries/DSPACE",
            json={"repository_url": peer.url, "repository_files": "ore"},
            headers=_admin(),
        )
        assert changed.status_code == 200 and changed.json()["repository_url"] == peer.url
        assert client.post("/api/v1/libraries/DSPACE/harvest-repository").status_code == 401
        queued = client.post("/api/v1/libraries/DSPACE/harvest-repository", headers=_admin())
        assert queued.status_code == 202 and queued.json()["queued"] is True
        again = client.post("/api/v1/libraries/DSPACE/harvest-repository", headers=_admin())
        assert again.json()["queued"] is False  # one is already waiting
        job_id = Worker(engine, settings, None).run_once()
        assert job_id is not None
        job = client.get(f"/api/v1/jobs/{job_id}", headers=_admin()).json()
        assert (job["source"], job["status"], job["added"]) == ("repository", "succeeded", 7)
    with Session(engine) as session:
        objects = session.scalars(select(DigitalObject)).all()
        assert len(objects) == 7
        assert all((settings.digital_dir / o.storage_key).is_file() for o in objects)


def test_scheduled_with_the_library_interval(sqlite_engine: Engine, peer: DspacePeer) -> None:
    with session_scope(sqlite_engine) as session:
        add_library(session, "DSPACE", "Thư viện số", repository_url=peer.url, harvest_interval_hours=24)
        add_library(session, "OTHER", "Thư viện khác", harvest_interval_hours=24)
    assert enqueue_due_harvests(sqlite_engine) == ["DSPACE (repository)"]
    assert enqueue_due_harvests(sqlite_engine) == []  # queued already
    with Session(sqlite_engine) as session:
        job = session.scalars(select(IngestJob)).one()
        assert (job.source, job.status, job.options) == ("repository", "queued", {"full": False})


class FailingStorage(LocalStorage):
    """A storage whose disk fills up after ``allowed`` files."""

    def __init__(self, root: Path, allowed: int) -> None:
        super().__init__(root)
        self.allowed = allowed

    def put(self, key: str, source: Path) -> None:
        if self.allowed <= 0:
            raise OSError(28, "No space left on device")
        self.allowed -= 1
        super().put(key, source)


def _run(engine: Engine, peer: DspacePeer, storage: LocalStorage, tmp_path: Path) -> dict[str, Any]:
    return harvest_repository(
        engine,
        "DSPACE",
        storage,
        max_bytes=1 << 20,
        client=OaiClient(peer.url, retries=1, backoff=0.01, timeout=10, sleep=lambda _s: None),
        fetcher=FileFetcher(1 << 20, timeout=5, retries=0),
        work_dir=tmp_path,
    )


def test_a_harvest_stopped_half_way_keeps_whole_items_and_resumes(
    engine: Engine, peer: DspacePeer, tmp_path: Path
) -> None:
    with session_scope(engine) as session:
        add_library(session, "DSPACE", "Thư viện số", repository_url=peer.url)
    with pytest.raises(OSError, match="No space left"):
        _run(engine, peer, FailingStorage(tmp_path / "digital", allowed=4), tmp_path)
    with Session(engine) as session:
        library = get_library(session, "DSPACE")
        assert library.repository_resumption_token  # the first page committed, the second not
        records = session.scalars(select(SourceRecord).where(SourceRecord.library_id == library.id)).all()
        objects = session.scalars(select(DigitalObject)).all()
        # each committed item has its record and its file; nothing of the page that failed
        assert len(records) == 3 and len(objects) == 3
        assert {o.source_record_id for o in objects} == {r.id for r in records}
        job = session.scalars(select(IngestJob).where(IngestJob.source == "repository")).one()
        assert job.status == "failed" and "page(s) were committed" in (job.error or "")
    summary = _run(engine, peer, LocalStorage(tmp_path / "digital"), tmp_path)
    assert summary["status"] == "succeeded" and summary["resumed"] is True
    assert (summary["added"], summary["files_fetched"]) == (4, 4)
    with Session(engine) as session:
        active = session.scalars(
            select(SourceRecord).where(SourceRecord.status == RecordStatus.ACTIVE.value)
        ).all()
        assert len(active) == 7 and len(session.scalars(select(DigitalObject)).all()) == 7


def test_another_repository_is_read_from_its_beginning(
    sqlite_engine: Engine, peer: DspacePeer, tmp_path: Path
) -> None:
    from catalog.libraries import update_library

    with session_scope(sqlite_engine) as session:
        add_library(session, "DSPACE", "Thư viện số", repository_url=peer.url)
    assert _run(sqlite_engine, peer, LocalStorage(tmp_path / "digital"), tmp_path)["added"] == 7
    with session_scope(sqlite_engine) as session:
        update_library(session, "DSPACE", repository_set="com_123456789_1")  # the same repository
        assert get_library(session, "DSPACE").repository_last_datestamp is not None
        update_library(session, "DSPACE", repository_url=peer.url.replace("127.0.0.1", "localhost"))
        library = get_library(session, "DSPACE")
        assert library.repository_last_datestamp is None and library.repository_resumption_token is None
